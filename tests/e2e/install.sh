# make install puts the configs, the job scripts and the demo data under PREFIX/share/kida, and
# the installed demo config runs from any folder: its input paths are relative to the config
# file, its outputs to the folder kida runs in. Installs into a DESTDIR under the test's folder.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
D=$WORK/dest
make -C "$TOP_BUILDDIR" install DESTDIR="$D" >"$WORK/ilog" 2>&1 || { tail -20 "$WORK/ilog"; fail "make install DESTDIR=$D"; }
share=$(find "$D" -type d -path '*/share/kida' | head -1)
[ -n "$share" ] || fail "no share/kida under $D"
share=$(cd "$share" && pwd -P)
bin=$(find "$D" -type f -path '*/bin/kida' | head -1)
[ -x "$bin" ] || fail "no installed bin/kida"
for f in configs/demo.conf configs/paper.conf configs/multimodal.conf data/pbmc_v2_ref.h5ad data/pbmc_v3_query.h5ad \
    data/granja_atac.h5ad gene_sets/reactome.gmt; do
    [ -s "$share/$f" ] || fail "make install lacks share/kida/$f"
done
for s in cpu-node gpu-node multi-node; do
    j=$share/jobscripts/$s.sbatch
    [ -x "$j" ] || fail "make install lacks an executable share/kida/jobscripts/$s.sbatch"
    bash -n "$j" || fail "$j: bash syntax"
    grep -q '^#SBATCH --mem=' "$j" || fail "$j has no #SBATCH --mem line"
    grep -q '^mkdir -p ' "$j" || fail "$j does not create the output folder"
done
pass "make install: configs, demo data, gene sets, job scripts"

mkdir -p "$WORK/elsewhere/results"
cd "$WORK/elsewhere" || exit 99
"$bin" annotate --config "$share/configs/demo.conf" --print-config >"$WORK/pc" || fail "print-config of the installed demo.conf"
grep -qx "reference = $share/data/pbmc_v2_ref.h5ad" "$WORK/pc" || { grep '^reference' "$WORK/pc"; fail "reference not resolved beside the config"; }
grep -qx "query = $share/data/pbmc_v3_query.h5ad" "$WORK/pc" || { grep '^query' "$WORK/pc"; fail "query not resolved beside the config"; }
grep -qx "out = results/pbmc_v3_kida.h5ad" "$WORK/pc" || { grep '^out' "$WORK/pc"; fail "out is not left to the working folder"; }
"$bin" inspect "$share/data/pbmc_v3_query.h5ad" | grep -q '^matrix:     X, 906 cells' || fail "inspect of the installed demo query"
# the small network of tests/e2e/small.conf, one teacher epoch: only the paths matter here
"$bin" annotate --config "$share/configs/demo.conf" --n-top-genes 800 --n-pathways 24 --width 16 --heads 2 --layers 1 \
    --epochs 1 --teacher-min-steps 0 --student-epochs 1 --student-min-steps 0 --batch-size 32 --quiet >"$WORK/log" 2>&1 ||
    { cat "$WORK/log"; fail "annotate with the installed demo.conf from another folder"; }
[ -s results/pbmc_v3_kida.h5ad ] && [ -s results/pbmc_model.h5 ] || fail "outputs not in the working folder's results/"
pass "installed demo.conf runs from another folder"
