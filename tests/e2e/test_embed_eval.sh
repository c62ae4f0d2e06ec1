# kida evaluate --embedding on the small annotated PBMC run: the table lists X_kida and the PCA
# baseline with NMI/ARI in range, the PCA keeps the share of variance scanpy's PCA keeps, and a
# missing batch column is a clear error. Modality mixing within types: a modality drawn at random
# per cell mixes as random neighbours do, one that follows X_kida does not, and a missing
# --modality-key column is a clear error.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
"$KIDA" annotate $SMALL --out "$WORK/out.h5ad" --model-out "$WORK/model.h5" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "annotate"; }
"$KIDA" evaluate --pred "$WORK/out.h5ad" --embedding --batch-key batch >"$WORK/eval" 2>&1 || { cat "$WORK/eval"; fail "evaluate --embedding"; }
cat "$WORK/eval"
grep -q "embedding clustering" "$WORK/eval" || fail "no embedding table: add 'if (c->embedding) embed_eval_report(path, c->truth_key, c->batch_key, c->modality_key, stdout);' to cmd_evaluate"
awk '$1 == "X_kida" { ok = ($2 == 16 && $3 >= 2 && $4 > 0.5 && $4 <= 1 && $5 > 0.3 && $5 <= 1) } END { exit !ok }' "$WORK/eval" \
    || fail "X_kida row: want 16 dims, >= 2 clusters, NMI > 0.5, ARI > 0.3"
awk '$1 == "PCA-50" { ok = ($2 == 50 && $4 > 0.5 && $4 <= 1 && $5 > 0.3 && $5 <= 1) } END { exit !ok }' "$WORK/eval" \
    || fail "PCA row: want NMI > 0.5, ARI > 0.3"
grep -q "n/a (1 batch)" "$WORK/eval" || fail "one batch: mixing must be n/a"
share=$(sed -n 's/.*components hold \([0-9.]*\)% of the variance.*/\1/p' "$WORK/eval")
[ -n "$share" ] || fail "no variance share line"
if $PYTHON -c "import scanpy" 2>/dev/null; then
    $PYTHON - "$WORK/out.h5ad" "$share" <<'PY' || fail "PCA variance differs from scanpy's"
import sys, warnings
warnings.filterwarnings("ignore")
import scanpy as sc
a = sc.read_h5ad(sys.argv[1])
sc.pp.normalize_total(a, target_sum=1e4)
sc.pp.log1p(a)
sc.pp.highly_variable_genes(a, n_top_genes=3000, flavor="seurat")
a = a[:, a.var.highly_variable].copy()
sc.pp.scale(a, max_value=10)
sc.tl.pca(a, n_comps=50, svd_solver="arpack")
want = 100 * a.uns["pca"]["variance_ratio"].sum()
got = float(sys.argv[2])
print("variance held by 50 PCs: kida %.2f%%, scanpy %.2f%%" % (got, want))
assert abs(got - want) < 0.05
PY
    pass "PCA matches scanpy's"
else
    echo "skip: no scanpy in $PYTHON, PCA not compared"
fi
expect_fail "missing batch column" "no column nope" "$KIDA" evaluate --pred "$WORK/out.h5ad" --embedding --batch-key nope
grep -q "modality mixing" "$WORK/eval" && fail "no obs kida_modality: the modality table must be left out"

# with_modality MODE OUT: a copy of out.h5ad with a categorical obs kida_modality (rna, atac):
# random = each cell at random (60:40); embedding = atac above its type's median of X_kida[:, 0]
with_modality() {
    $PYH5 - "$WORK/out.h5ad" "$2" "$1" <<'PY' || { echo "setup error: cannot add obs kida_modality (h5py)"; exit 99; }
import shutil, sys
import h5py, numpy as np
src, dst, mode = sys.argv[1:4]
shutil.copyfile(src, dst)
with h5py.File(dst, "r+") as f:
    n = f["obsm/X_kida"].shape[0]
    if mode == "random":
        codes = (np.random.default_rng(0).random(n) < 0.4).astype(np.int8)
    else:
        x0, t = f["obsm/X_kida"][:, 0], f["obs/cell_type/codes"][:]
        codes = np.zeros(n, np.int8)
        for c in np.unique(t):
            codes[t == c] = x0[t == c] > np.median(x0[t == c])
    g = f["obs"].create_group("kida_modality")
    g.attrs["encoding-type"], g.attrs["encoding-version"], g.attrs["ordered"] = "categorical", "0.2.0", False
    g.create_dataset("categories", data=np.array(["rna", "atac"], dtype=object), dtype=h5py.string_dtype())
    g.create_dataset("codes", data=codes)
    order = [s.decode() if isinstance(s, bytes) else s for s in f["obs"].attrs["column-order"]]
    f["obs"].attrs["column-order"] = np.array(order + ["kida_modality"], dtype=object)
PY
}
# mixing_ok FILE WANT: in the modality table of FILE, every type of >= 100 cells (3 at least) and
# the overall line have X_kida, PCA and random mixing in [0, 1] and, with r = random, X_kida
# mixing > 0.8 r (WANT = mixed) or < 0.6 r (WANT = separated). Type names may hold spaces: the
# numbers are read from the end of the line, the cell count is the first integer field.
mixing_ok() {
    awk -v want="$2" '
        function ok(x, p, r) {
            if (!(x >= 0 && x <= 1 && p >= 0 && p <= 1 && r > 0 && r <= 1)) return 0
            return want == "mixed" ? x > 0.8 * r : x < 0.6 * r
        }
        /^modality mixing within types/ { on = 1; next }
        on && $1 == "overall" { overall = ok($(NF-2), $(NF-1), $NF); on = 0 }
        on && $NF ~ /^[0-9.]+$/ {
            for (f = 1; f <= NF && $f !~ /^[0-9]+$/; f++) ;
            if ($f >= 100) { types++; bad += !ok($(NF-2), $(NF-1), $NF) }
        }
        END { exit !(types >= 3 && !bad && overall) }' "$1"
}
for mode in random embedding; do
    with_modality $mode "$WORK/$mode.h5ad"
    "$KIDA" evaluate --pred "$WORK/$mode.h5ad" --embedding >"$WORK/eval_$mode" 2>&1 \
        || { cat "$WORK/eval_$mode"; fail "evaluate --embedding with obs kida_modality ($mode)"; }
    echo "modality $mode:"
    sed -n '/^modality mixing within types/,$p' "$WORK/eval_$mode"
done
mixing_ok "$WORK/eval_random" mixed || fail "modality at random: want X_kida mixing > 0.8 x random in every large type"
pass "a modality drawn at random mixes as random neighbours do"
mixing_ok "$WORK/eval_embedding" separated || fail "modality from X_kida: want X_kida mixing < 0.6 x random in every large type"
pass "a modality that follows X_kida shows as unmixed"
expect_fail "missing modality column" "no column nope" "$KIDA" evaluate --pred "$WORK/random.h5ad" --embedding --modality-key nope
pass "evaluate --embedding"
