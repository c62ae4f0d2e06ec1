#!/bin/sh
# Accuracy on real data: kida (KI = teacher alone, KIDA = teacher + anchors + student) against a
# logistic-regression baseline on the same preprocessed genes, 3 seeds per split.
#   validation/run_results.sh BUILD_DIR [SPLIT ...]      (default: every split)
# Writes .work/results/<split>/seed<s>/{out.h5ad,metrics.json,baseline.json}; then
# validation/results_table.py prints the markdown table of docs/results.md.
# NET selects the network: "paper" (300 pathways, width 128, 4 layers, 8 heads) or "compact"
# (300 pathways, width 64, 2 layers, 4 heads) for the smaller sets on a 2-core machine.
set -eu
BUILD=$(cd "$1" && pwd); shift
cd "$(dirname "$0")/.."
KIDA="$BUILD/kida"
D=.work/datasets
R=.work/results
SEEDS=${SEEDS:-"0 1 2"}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -f $D/symphony_pbmcs_small.h5ad ] || python3 validation/make_extra_datasets.py
split() {  # split FILE KEY VALUE NAME: NAME.sel.h5ad / NAME.rest.h5ad
    [ -f "$D/$4.sel.h5ad" ] || python3 validation/split_h5ad.py "$D/$1" "$2" "$3" "$D/$4.sel.h5ad" "$D/$4.rest.h5ad"
}
net_args() {
    case $1 in
        paper) echo "" ;;
        compact) echo "--width 64 --layers 2 --heads 4" ;;
    esac
}
run() {  # run NAME NET REF QUERY LABEL [extra kida options]
    name=$1 net=$2 ref=$3 query=$4 label=$5; shift 5
    for s in $SEEDS; do
        o=$R/$name/seed$s
        mkdir -p "$o"
        if [ ! -f "$o/metrics.json" ]; then
            echo "== $name seed $s ($net network)"
            # shellcheck disable=SC2046
            "$KIDA" annotate --reference "$ref" --query "$query" --label-key "$label" --seed "$s" $(net_args "$net") \
                --out "$o/out.h5ad" --overwrite --log-every 100 "$@" >"$o/log" 2>&1 || { tail -n 20 "$o/log"; exit 1; }
            "$KIDA" evaluate --pred "$o/out.h5ad" --truth-key "$label" --metrics-out "$o/metrics" --overwrite >"$o/eval" 2>&1
            tail -n 2 "$o/eval"
        fi
        [ -f "$o/baseline.json" ] || python3 validation/baseline_logreg.py "$ref" "$query" --label-key "$label" --seed "$s" >"$o/baseline.json"
        echo "$net" >"$o/net"
    done
}
ALL="$*"
sel() { [ -z "$ALL" ] || echo " $ALL " | grep -q " $1 "; }
sel pbmc_v2_to_v3 && run pbmc_v2_to_v3 paper data/pbmc_v2_ref.h5ad data/pbmc_v3_query.h5ad cell_type
sel pbmc_v3_to_v2 && run pbmc_v3_to_v2 compact data/pbmc_v3_query.h5ad data/pbmc_v2_ref.h5ad cell_type
sel pbmc_v3_to_v2_paper && run pbmc_v3_to_v2_paper paper data/pbmc_v3_query.h5ad data/pbmc_v2_ref.h5ad cell_type
for b in 3pv1 3pv2 5p; do
    split symphony_pbmcs_small.h5ad batch $b symphony_$b
    sel symphony_lobo_$b && run symphony_lobo_$b compact $D/symphony_$b.rest.h5ad $D/symphony_$b.sel.h5ad cell_type
done
split sc_mixology_3cl.h5ad batch Drop-seq mix3_dropseq
sel celllines_celseq2_to_dropseq && run celllines_celseq2_to_dropseq compact $D/mix3_dropseq.rest.h5ad $D/mix3_dropseq.sel.h5ad cell_type
sel celllines_dropseq_to_celseq2 && run celllines_dropseq_to_celseq2 compact $D/mix3_dropseq.sel.h5ad $D/mix3_dropseq.rest.h5ad cell_type
for b in 10x CEL-seq2 Drop-seq; do
    split cellbench_3protocols.h5ad batch $b cellbench_$b
    sel cellbench_lobo_$b && run cellbench_lobo_$b compact $D/cellbench_$b.rest.h5ad $D/cellbench_$b.sel.h5ad cell_type
done
split dlpfc151510.h5ad region left dlpfc_left
sel dlpfc_left_to_right && run dlpfc_left_to_right compact $D/dlpfc_left.sel.h5ad $D/dlpfc_left.rest.h5ad cell_type --modality spatial
sel dlpfc_right_to_left && run dlpfc_right_to_left compact $D/dlpfc_left.rest.h5ad $D/dlpfc_left.sel.h5ad cell_type --modality spatial
echo "done; table: python3 validation/results_table.py"
