#!/bin/sh
# run_multimodal: the RNA + ATAC run of docs/atac.md ("Multimodal runs"). Query = the bundled PBMC
# 10x v3 RNA (906 cells) + the Granja bone-marrow scATAC donor BMMC_D5T1 (108 cells, peaks turned
# into gene activity inside kida), one kida run over both files. Two references:
#   rna:     the bundled PBMC 10x v2 RNA (996 cells); of the ATAC types only B and CD8 T exist in it
#   rna+atac: the same + the other ATAC donor BMMC_D6T1 (492 cells, all 6 types), as a list
# For each seed: kida annotate, kida evaluate --embedding --batch-key kida_modality (NMI/ARI,
# modality mixing within types for X_kida and the PCA baseline), accuracy per modality over the
# cells whose type the reference has (validation/multimodal_table.py), and the logistic-regression
# baseline (validation/baseline_logreg.py) on the same counts per modality.
#
#   KIDA=build/kida validation/run_multimodal.sh             # seeds 0 1 2, both references
#   SEEDS=0 REFS=rna OUT=results/mm_quick validation/run_multimodal.sh
#   EXTRA="--anchor-groups type-modality" OUT=results/multimodal_tm validation/run_multimodal.sh
# Environment: KIDA, SEEDS, REFS ("rna rna+atac"), NET (network options), EXTRA (more kida annotate
# options, default none), OUT (results/multimodal),
# PYTHON (scanpy + scikit-learn, for the baseline), PYH5 (anndata; default /usr/bin/python3).
set -eu
cd "$(dirname "$0")/.."
: "${SEEDS:=0 1 2}"
: "${REFS:=rna rna+atac}"
: "${NET=--n-top-genes 2000 --width 64 --layers 2 --heads 4 --n-pathways 100 --unannotated --epochs 20}"
: "${OUT:=results/multimodal}"
: "${EXTRA:=}"
: "${PYTHON:=python3}"
: "${PYH5:=/usr/bin/python3}"
if [ -z "${KIDA:-}" ]; then
    for k in ./kida build/kida ../build*/kida; do [ -x "$k" ] && { KIDA=$k; break; }; done
fi
[ -n "${KIDA:-}" ] && [ -x "$KIDA" ] || { echo "error: set KIDA to the kida binary" >&2; exit 2; }
export OPENBLAS_NUM_THREADS=1 HDF5_USE_FILE_LOCKING=FALSE
mkdir -p "$OUT/data" "$OUT/runs"

# the ATAC donors as files; their gene activity (for the baseline's reference)
"$PYH5" - data/granja_atac.h5ad "$OUT/data" <<'PY'
import sys, anndata as ad
a = ad.read_h5ad(sys.argv[1])
for d in ("BMMC_D5T1", "BMMC_D6T1"):
    a[a.obs["batch"] == d].copy().write_h5ad(f"{sys.argv[2]}/{d}.h5ad")
PY
"$KIDA" genescore --peaks "$OUT/data/BMMC_D6T1.h5ad" --genes hg19 --out "$OUT/data/BMMC_D6T1_genes.h5ad" --overwrite --quiet
"$PYH5" - data/pbmc_v2_ref.h5ad "$OUT/data/BMMC_D6T1_genes.h5ad" "$OUT/data/ref_rna_atac.h5ad" <<'PY'
import sys, anndata as ad
r, g = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
both = ad.concat([r, g], join="outer", fill_value=0)[:, r.var_names].copy()   # kida: the first file's genes
both.obs = both.obs[["cell_type"]]
both.write_h5ad(sys.argv[3])
PY

QUERY="--query data/pbmc_v3_query.h5ad,$OUT/data/BMMC_D5T1.h5ad --query-modality rna,atac --genes hg19"
for ref in $REFS; do
    case $ref in
        rna) REF="--reference data/pbmc_v2_ref.h5ad"; BREF=data/pbmc_v2_ref.h5ad ;;
        rna+atac) REF="--reference data/pbmc_v2_ref.h5ad,$OUT/data/BMMC_D6T1.h5ad --reference-modality rna,atac"
                  BREF=$OUT/data/ref_rna_atac.h5ad ;;
        *) echo "error: REFS: unknown $ref" >&2; exit 2 ;;
    esac
    for seed in $SEEDS; do
        tag=ref_${ref}_seed$seed
        echo "== $tag"
        t0=$(date +%s)
        "$KIDA" annotate $REF $QUERY --label-key cell_type $NET $EXTRA --seed "$seed" --unknown-threshold 0 \
            --out "$OUT/runs/$tag.h5ad" --overwrite >"$OUT/runs/$tag.log" 2>&1 || { tail -20 "$OUT/runs/$tag.log"; exit 1; }
        echo "$(($(date +%s) - t0))" >"$OUT/runs/$tag.seconds"
        "$KIDA" evaluate --pred "$OUT/runs/$tag.h5ad" --truth-key cell_type --embedding --batch-key kida_modality \
            >"$OUT/runs/$tag.eval" 2>&1 || { cat "$OUT/runs/$tag.eval"; exit 1; }
        # the baseline is scored, as kida is in multimodal_table.py, on cells whose type the reference has
        types=$("$PYH5" -c 'import h5py,sys; print(",".join(x.decode() for x in h5py.File(sys.argv[1])["uns/kida/classes"][:]))' \
            "$OUT/runs/$tag.h5ad")
        for m in rna atac; do
            "$PYTHON" validation/baseline_logreg.py "$BREF" "$OUT/runs/$tag.h5ad" --label-key cell_type --seed "$seed" \
                --n-hvg 2000 --query-filter "kida_modality=$m" --query-filter "cell_type=$types" --name "$tag.$m" >"$OUT/runs/$tag.logreg_$m.json" \
                2>"$OUT/runs/$tag.logreg_$m.log" || { cat "$OUT/runs/$tag.logreg_$m.log"; exit 1; }
        done
        "$PYH5" validation/multimodal_table.py --run "$OUT/runs/$tag"
    done
done
"$PYH5" validation/multimodal_table.py --summary "$OUT" --seeds "$SEEDS" --refs "$REFS" --net "$NET $EXTRA" | tee "$OUT/summary.md"
