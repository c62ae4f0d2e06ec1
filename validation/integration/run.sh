#!/bin/sh
# run.sh: the integration benchmark of docs/integration.md, one command from a clean clone.
# For every real multi-batch set (sets.py with no argument lists them) and seed: kida's X_kida (one annotate run;
# reference and query cells both embedded; no batch key), PCA-50, and Harmony, scVI, scANVI and
# Scanorama (given the batch key; scANVI also the reference batches' types), scored with scib-metrics' Benchmarker (score.py), a UMAP
# figure per set (figures.py) and the tables (report.py).
#
#   sh validation/integration/run.sh                  # every set, seed 0
#   SETS="pbmc_10x_v2_v3 symphony_3chem" SEEDS="0 1" sh validation/integration/run.sh
#   NAME=kida_tm EXTRA="--anchor-groups type-modality" METHODS=kida sh validation/integration/run.sh
# Environment: OUT (.work/integration), SETS (all), SEEDS (0), METHODS (kida pca harmony scvi scanvi
# scanorama), NET (kida's network options; default a small network, see docs/integration.md),
# EXTRA (more kida annotate options), NAME (the name kida's embedding is scored under: kida),
# SRC (the shared data, /work/shared/data), KIDA (the binary; built with tools/build if none),
# PYTHON (a python with the tools; default the venv VENV, .work/venv-peers, made with pip from
# validation/peers/requirements.txt),
# SCVI_EPOCHS (200), FIGURES (docs/figures; empty: none), NICE (nice -n 10).
# Every step whose output exists is skipped: delete OUT/runs/<set>/<method>_seed<N>.* to redo one.
set -eu
cd "$(dirname "$0")/../.."
HERE=validation/integration
: "${OUT:=.work/integration}"
: "${SEEDS:=0}"
: "${METHODS:=kida pca harmony scvi scanvi scanorama}"
: "${NET=--n-top-genes 2000 --width 64 --layers 2 --heads 4 --n-pathways 100 --threads 1}"
: "${EXTRA:=}"
: "${NAME:=kida}"
: "${SRC:=/work/shared/data}"
: "${FIGURES=docs/figures}"
: "${NICE=nice -n 10}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HDF5_USE_FILE_LOCKING=FALSE
export JAX_PLATFORMS=cpu XLA_FLAGS="--xla_force_host_platform_device_count=1" MPLBACKEND=Agg

if [ -z "${KIDA:-}" ]; then
    [ -x build/kida ] || tools/build
    KIDA=build/kida
fi
[ -x "$KIDA" ] || { echo "error: KIDA=$KIDA is not an executable; build kida with tools/build" >&2; exit 2; }
export KIDA

# the validation tools' Python: the venv of validation/peers/run.sh (pinned versions of
# validation/peers/requirements.txt, pip), made here when missing or out of date
if [ -z "${PYTHON:-}" ]; then
    : "${VENV:=.work/venv-peers}"
    if [ ! -x "$VENV/bin/python" ] || ! cmp -s validation/peers/requirements.txt "$VENV/requirements.txt"; then
        echo "== installing the validation tools into $VENV (pinned: validation/peers/requirements.txt)" >&2
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q -r validation/peers/requirements.txt
        cp validation/peers/requirements.txt "$VENV/requirements.txt"
    fi
    PYTHON=$VENV/bin/python
fi
PY="$NICE $PYTHON"
: "${SETS:=$($PYTHON $HERE/sets.py | cut -d' ' -f1)}"

mkdir -p "$OUT/datasets" "$OUT/sets" "$OUT/runs"
for d in symphony_pbmcs_small:symphony_pbmcs_small sc_mixology:sc_mixology_3cl \
         cepo_cellbench_10x:cepo_cellbench_10x cellbench_3protocols:cellbench_3protocols; do
    [ -f "$OUT/datasets/${d#*:}.h5ad" ] || $PY validation/make_extra_datasets.py --src "$SRC" --out "$OUT/datasets" --only "${d%%:*}"
done
$PY $HERE/sets.py "$OUT/sets" --datasets "$OUT/datasets" --kida "$KIDA" --only "$(echo $SETS | tr ' ' ,)"

for set in $SETS; do
    sd=$OUT/sets/$set rd=$OUT/runs/$set
    mkdir -p "$rd"
    for seed in $SEEDS; do
        for m in $METHODS; do
            if [ "$m" = kida ]; then
                [ -f "$rd/${NAME}_seed$seed.npz" ] || $PY $HERE/kida_embed.py "$sd" "$seed" "$rd/${NAME}_seed$seed" -- $NET $EXTRA
            else
                [ -f "$rd/${m}_seed$seed.npz" ] || $PY $HERE/peers.py "$m" "$sd" "$seed" "$rd/${m}_seed$seed"
            fi
        done
        sc=$rd/scores_seed$seed.json
        if [ ! -f "$sc" ] || [ -n "$(find "$rd" -name "*_seed$seed.npz" -newer "$sc")" ]; then
            $PY $HERE/score.py "$sd" "$rd" "$seed"
        fi
        if [ -n "$FIGURES" ] && [ "$seed" = "$(echo $SEEDS | cut -d' ' -f1)" ]; then
            fig=$FIGURES/integration_$set.png
            if [ ! -f "$fig" ] || [ -n "$(find "$rd" -name "*_seed$seed.npz" -newer "$fig")" ]; then
                $PY $HERE/figures.py "$sd" "$rd" "$seed" "$fig"
            fi
        fi
    done
done
$PYTHON $HERE/report.py "$OUT/runs" $SETS > "$OUT/tables.md"
echo "tables: $OUT/tables.md" >&2
