#!/bin/sh
# The accuracy benchmark: kida (defaults) against real peers on every real split.
#
#   validation/peers/run.sh [--quick] [--kida-only | --peers-only] [--novel]
#
#   --quick       4 splits (one per family), kida 2 seeds, deterministic peers once, scANVI 1 seed
#   --kida-only   only kida's runs (e.g. after a change to kida); --peers-only: only the peers
#   --novel       also the novel-type benchmark (leave each reference type out in turn)
#
# Environment: KIDA (the binary; default build/kida), SEEDS (kida seeds, default "0 1 2 3 4"),
# PEER_SEEDS (seeds of the stochastic peers, default "0 1 2"), SPLITS (names, default all),
# TOOLS (peers, default all), WORK (default .work/peers), VENV (default .work/venv-peers),
# KIDA_ARGS (extra kida options, for ablations only: the table is for the defaults).
# Results: $WORK/runs/<split>/<tool>_seed<s>.{json,tsv}; the table and figure:
#   validation/peers/table.py $WORK --out docs/results.md (between its markers)
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd)
QUICK=0 WHAT=all NOVEL=0
for a in "$@"; do
    case $a in
        --quick) QUICK=1 ;;
        --kida-only) WHAT=kida ;;
        --peers-only) WHAT=peers ;;
        --novel) NOVEL=1 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "error: unknown argument $a (see --help)" >&2; exit 2 ;;
    esac
done
: "${KIDA:=$TOP/build/kida}"
: "${WORK:=$TOP/.work/peers}"
: "${VENV:=$TOP/.work/venv-peers}"
: "${KIDA_ARGS:=}"
if [ $QUICK = 1 ]; then
    : "${SEEDS:=0 1}" "${PEER_SEEDS:=0}"
else
    : "${SEEDS:=0 1 2 3 4}" "${PEER_SEEDS:=0 1 2}"
fi
: "${TOOLS:=logreg knn celltypist celltypist_mv singler ingest scanvi}"
[ -x "$KIDA" ] || { echo "error: no kida binary at $KIDA; build it (tools/build) or set KIDA" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 HDF5_USE_FILE_LOCKING=FALSE
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}" OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS="$(nproc)"

# the peers' Python: a venv with pinned versions (validation/peers/requirements.txt)
if [ ! -x "$VENV/bin/python" ] || ! cmp -s validation/peers/requirements.txt "$VENV/requirements.txt"; then
    echo "== installing the peers into $VENV (pinned: validation/peers/requirements.txt)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r validation/peers/requirements.txt
    cp validation/peers/requirements.txt "$VENV/requirements.txt"
fi
PY="$VENV/bin/python"

# the data: derived sets (once), then the splits
DATASETS=$TOP/.work/datasets
[ -f "$DATASETS/granja_hemato_atac.h5ad" ] || "$PY" validation/make_extra_datasets.py --out "$DATASETS"
SPLITDIR=$WORK/splits
"$PY" validation/peers/splits.py make "$SPLITDIR" --datasets "$DATASETS" --kida "$KIDA"
if [ -z "${SPLITS:-}" ]; then
    if [ $QUICK = 1 ]; then SPLITS=$("$PY" validation/peers/splits.py list | awk '$2 == "quick" {print $1}')
    else SPLITS=$("$PY" validation/peers/splits.py list | awk '{print $1}'); fi
fi

log() { echo "$(date +%H:%M:%S) $*"; }
for s in $SPLITS; do
    d=$SPLITDIR/$s o=$WORK/runs/$s
    mkdir -p "$o"
    if [ $WHAT != kida ]; then
        for t in $TOOLS; do
            seeds=0
            [ "$t" = scanvi ] && seeds=$PEER_SEEDS
            for seed in $seeds; do
                [ -f "$o/${t}_seed$seed.json" ] && continue
                log "$s: $t seed $seed"
                "$PY" validation/peers/peers.py "$t" "$d" "$seed" "$o/${t}_seed$seed" >"$o/${t}_seed$seed.log" 2>&1 ||
                    { tail -n 5 "$o/${t}_seed$seed.log"; log "$s: $t FAILED (log: $o/${t}_seed$seed.log)"; }
            done
        done
    fi
    if [ $WHAT != peers ]; then
        for seed in $SEEDS; do
            [ -f "$o/kida_seed$seed.json" ] && continue
            log "$s: kida seed $seed"
            # shellcheck disable=SC2086
            KIDA="$KIDA" "$PY" validation/peers/kida_run.py "$d" "$seed" "$o/kida_seed$seed" -- $KIDA_ARGS ||
                log "$s: kida FAILED (log: $o/kida_seed$seed.log)"
        done
    fi
    if [ $NOVEL = 1 ]; then
        KIDA="$KIDA" "$PY" validation/peers/novel.py "$d" "$WORK/novel/$s" --seeds "$SEEDS" --what "$WHAT" -- $KIDA_ARGS
    fi
done
log "done; table: $PY validation/peers/table.py $WORK"
