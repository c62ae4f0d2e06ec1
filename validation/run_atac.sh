#!/bin/sh
# run_atac: the ATAC benchmark of docs/atac.md ("Results"). Granja et al. 2019 bone-marrow scATAC
# (600 cells x 5,000 peaks, hg19, 6 types; shared/data/granja_hemato_atac_epichaos), donor ->
# donor in both directions (BMMC_D6T1 492 cells <-> BMMC_D5T1 108 cells), 3 seeds:
#   KI and KIDA: one `kida annotate --modality atac --genes hg19` per run (peaks -> gene activity
#                inside kida), scored by `kida evaluate` (KI = teacher, KIDA = student);
#   baseline:    validation/baseline_logreg.py (logistic regression, kida's preprocessing) on the
#                gene activity that `kida genescore` writes for all cells, --holdout = query donor.
# Prints and writes $OUT/summary.md (mean ± sd over seeds) and keeps every log and metric file.
#
#   validation/run_atac.sh                       # moderate network (see NET below), seeds 0 1 2
#   NET="" validation/run_atac.sh                # kida's defaults (the paper's network; slow on 2 cores)
#   KIDA=build/kida SEEDS="0" OUT=results/atac_quick validation/run_atac.sh
# Environment: KIDA (default: ./kida, then ../build*/kida), SEEDS, NET, OUT (results/atac),
# NP (ranks, default 1; uses mpiexec when > 1), PYTHON (with scanpy + scikit-learn for the
# baseline; default python3), PYH5 (with anndata, for the donor split; default /usr/bin/python3).
set -eu
cd "$(dirname "$0")/.."
: "${SEEDS:=0 1 2}"
: "${NET=--n-top-genes 2000 --width 64 --layers 2 --heads 4 --n-pathways 100 --unannotated --epochs 20}"
: "${OUT:=results/atac}"
: "${NP:=1}"
: "${PYTHON:=python3}"
: "${PYH5:=/usr/bin/python3}"
if [ -z "${KIDA:-}" ]; then
    for k in ./kida ../build*/kida; do [ -x "$k" ] && { KIDA=$k; break; }; done
fi
[ -n "${KIDA:-}" ] && [ -x "$KIDA" ] || { echo "error: set KIDA to the kida binary" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 HDF5_USE_FILE_LOCKING=FALSE
RUN="$KIDA"
[ "$NP" -gt 1 ] && RUN="mpiexec -np $NP $KIDA"
mkdir -p "$OUT/data" "$OUT/runs"

# data: the .h5ad of the shared source (validation/make_extra_datasets.py), split by donor
ATAC=.work/datasets/granja_hemato_atac.h5ad
[ -f "$ATAC" ] || "$PYH5" validation/make_extra_datasets.py --only granja_hemato_atac
"$PYH5" - "$ATAC" "$OUT/data" <<'PY'
import sys, anndata as ad
a = ad.read_h5ad(sys.argv[1])
for d in sorted(a.obs["batch"].unique()):
    b = a[a.obs["batch"] == d].copy()
    b.write_h5ad(f"{sys.argv[2]}/{d}.h5ad")
    print(f"donor {d}: {b.n_obs} cells;", dict(b.obs["cell_type"].value_counts().sort_index()))
PY
$RUN genescore --peaks "$ATAC" --genes hg19 --out "$OUT/data/granja_genes.h5ad" --overwrite --quiet

for dir in BMMC_D6T1:BMMC_D5T1 BMMC_D5T1:BMMC_D6T1; do
    ref=${dir%%:*}
    qry=${dir##*:}
    for seed in $SEEDS; do
        tag=${ref}_to_${qry}_seed$seed
        echo "== $tag"
        t0=$(date +%s)
        # --unknown-threshold 0: every cell gets its arg-max label, as the baseline's do
        $RUN annotate --reference "$OUT/data/$ref.h5ad" --query "$OUT/data/$qry.h5ad" --label-key cell_type \
            --modality atac --genes hg19 $NET --seed "$seed" --unknown-threshold 0 \
            --out "$OUT/runs/$tag.h5ad" --overwrite >"$OUT/runs/$tag.log" 2>&1 ||
            { tail -20 "$OUT/runs/$tag.log"; exit 1; }
        echo "$(($(date +%s) - t0))" >"$OUT/runs/$tag.seconds"
        "$KIDA" evaluate --pred "$OUT/runs/$tag.h5ad" --truth-key cell_type --metrics-out "$OUT/runs/$tag.kida" --overwrite \
            >"$OUT/runs/$tag.eval" 2>&1
        grep -E '^ *(KI|KIDA) +accuracy' "$OUT/runs/$tag.eval"
        "$PYTHON" validation/baseline_logreg.py "$OUT/data/granja_genes.h5ad" --holdout "$qry" --batch-key batch \
            --label-key cell_type --seed "$seed" --n-hvg 2000 --name "$tag" >"$OUT/runs/$tag.logreg.json" \
            2>"$OUT/runs/$tag.logreg.log"
        "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("  logreg accuracy %.4f  macro-F1 %.4f" % (d["accuracy"], d["macro_f1"]))' \
            "$OUT/runs/$tag.logreg.json"
    done
done

"$PYTHON" - "$OUT" "$SEEDS" "$NET" <<'PY'
import json, sys, statistics as st
out, seeds, net = sys.argv[1], sys.argv[2].split(), sys.argv[3]
rows = []
for ref, qry in (("BMMC_D6T1", "BMMC_D5T1"), ("BMMC_D5T1", "BMMC_D6T1")):
    res = {m: {"acc": [], "f1": []} for m in ("KI", "KIDA", "logreg")}
    secs = []
    for s in seeds:
        tag = f"{out}/runs/{ref}_to_{qry}_seed{s}"
        for r in json.load(open(tag + ".kida.json"))["results"]:
            res[r["title"]]["acc"].append(r["accuracy"])
            res[r["title"]]["f1"].append(r["macro_f1"])
        b = json.load(open(tag + ".logreg.json"))
        res["logreg"]["acc"].append(b["accuracy"])
        res["logreg"]["f1"].append(b["macro_f1"])
        secs.append(float(open(tag + ".seconds").read()))
    def ms(v):
        return f"{st.mean(v):.3f} ± {st.stdev(v):.3f}" if len(v) > 1 else f"{v[0]:.3f}"
    for m in ("KI", "KIDA", "logreg"):
        rows.append(f"| {ref} → {qry} | {m} | {ms(res[m]['acc'])} | {ms(res[m]['f1'])} | "
                    + " ".join(f"{a:.3f}" for a in res[m]["acc"]) + " |")
    rows.append(f"| | (kida run: {st.mean(secs):.0f} s per seed) | | | |")
text = ("network: " + (net or "kida defaults") + f"; seeds {' '.join(seeds)}\n\n"
        "| reference → query | method | accuracy (mean ± sd) | macro-F1 (mean ± sd) | accuracy per seed |\n"
        "|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
open(f"{out}/summary.md", "w").write(text)
print(text)
PY
