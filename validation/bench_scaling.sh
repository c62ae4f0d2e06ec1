#!/bin/bash
# bench_scaling.sh: how kida's sharded reading, data-parallel training and per-rank memory scale
# with ranks and atlas size, measured with kida itself on SYNTHETIC atlases
# (validation/make_atlas.py). Prints markdown tables; docs/scaling.md holds a measured run.
#
#   validation/bench_scaling.sh [--parts read,train,paper,mem] [--sizes 100k,1m] [--ranks 1,2,4]
#
# Environment: KIDA (kida binary; default ../build-scaling/kida next to the repository, else
# `kida` on PATH), IO_DRIVER (tests/io/io_driver of the same build; optional), MPIEXEC (mpirun),
# PYTHON (python3 with numpy + h5py), OUT (work folder, default .work/bench_scaling),
# TRAIN_STEPS (40), PAPER_STEPS (20).
#
# What each part measures (see docs/scaling.md for the reasoning):
#   read   `kida train --epochs 0` on the atlas at 1, 2, 4 ranks: the time kida logs on its
#          "reference <file>: N cells ... (X s)" line = every rank opens the file (MPI-IO), checks
#          its share of indptr, reads ALL cells' labels, reads its contiguous row block with
#          hyperslabs, checks counts, fits the preprocessing (exact per-gene sums + all-reduce,
#          HVG) and transforms its rows. Also tests/io/io_driver (only the hyperslab read + checks),
#          timed from outside, when present. Per-rank peak RSS and CPU from GNU time.
#   train  teacher steps on the 100k atlas, global batch 256, width 64, 2 layers, 4 heads,
#          100 pathways; KIDA_STOP_AFTER_STEPS stops the run; cells/s from kida's progress lines
#          (first window dropped as warm-up); CPU per step from GNU time minus the read run's CPU.
#   paper  the same with the paper network (width 128, 4 layers, 8 heads, 300 pathways, batch 16).
#   ada    the student's clustering loss (forward + backward) for a global batch of N cells: every
#          rank computes it over the gathered batch (validation/bench_scaling_ada.c, built here
#          with mpicc against the build's libkida_loss.a).
#   mem    at 2 ranks, per atlas size: load only, load + a training epoch's row exchange
#          (3 steps), and `kida predict` of the atlas with a small model (every rank writes
#          its rows of the output; validation/bench_atlas.sh measures that path in detail).
# Every run uses --threads 1 (one core per rank), so 1 and N ranks compare like for like. The
# machine's load average is printed with each row: on a shared machine wall times are only
# comparable at similar load, CPU seconds are.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PARTS=read,train,paper,ada,mem
SIZES=100k
RANKS=1,2,4
. "$ROOT/validation/bench_lib.sh"
bench_args bench_scaling 2,30p "$0" "$@"
if [ -z "${KIDA:-}" ]; then
    if [ -x "$ROOT/../build-scaling/kida" ]; then KIDA=$ROOT/../build-scaling/kida; else KIDA=$(command -v kida || true); fi
fi
[ -x "${KIDA:-}" ] || { echo "bench_scaling: set KIDA to the kida binary" >&2; exit 99; }
KIDA=$(cd "$(dirname "$KIDA")" && pwd)/$(basename "$KIDA")
IO_DRIVER=${IO_DRIVER:-$(dirname "$KIDA")/tests/io/io_driver}
MPIEXEC=${MPIEXEC:-mpirun}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$ROOT/.work/bench_scaling}
TRAIN_STEPS=${TRAIN_STEPS:-40}
PAPER_STEPS=${PAPER_STEPS:-20}
WRAP=$ROOT/validation/bench_scaling_rank.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export KIDA_DATADIR=${KIDA_DATADIR:-$ROOT/data}
mkdir -p "$OUT"

# the moderate network of the train part and the paper network
NET_MID="--width 64 --layers 2 --heads 4 --n-pathways 100 --batch-size 256"
NET_PAPER="--width 128 --layers 4 --heads 8 --n-pathways 300 --batch-size 16"

atlas() {  # atlas <size>: path of the atlas, generated when missing
    local n
    case $1 in 100k) n=100000 ;; 1m) n=1000000 ;; *[0-9]k) n=$((${1%k} * 1000)) ;; *) n=$1 ;; esac
    local f=$ROOT/.work/atlas/atlas_$1.h5ad
    if [ ! -f "$f" ]; then
        echo "generating $f (SYNTHETIC, $n cells)" >&2
        (cd "$ROOT" && "$PYTHON" validation/make_atlas.py --cells $n --batches 8 --seed 0 --depth 0.25,0.5 --out "$f") >&2 || exit 99
    fi
    echo "$f"
}

xbytes() {  # stored bytes of X/data + X/indices + X/indptr, and nnz
    "$PYTHON" -c "
import h5py, sys
f = h5py.File(sys.argv[1], 'r')
print(sum(f['X'][k].id.get_storage_size() for k in ('data', 'indices', 'indptr')), f['X']['data'].shape[0])" "$1"
}


# run NAME NP [VAR=VALUE...] -- CMD ARGS: one mpirun; logs and per-rank time records in $OUT/NAME
run() {
    local name=$1 np=$2; shift 2
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    local d=$OUT/$name
    rm -rf "$d"; mkdir -p "$d"
    load > "$d/load"
    (cd "$d" && env "${envs[@]}" "$MPIEXEC" --oversubscribe -np "$np" "$WRAP" "$d" "$@") > "$d/log" 2>&1
    echo $? > "$d/rc"
    # kida exits 75 when KIDA_STOP_AFTER_STEPS stops it (checkpoint written): expected here
    case $(cat "$d/rc") in 0 | 75) ;; *) echo "bench_scaling: $name failed (rc $(cat "$d/rc")); see $d/log" >&2 ;; esac
}

# per-rank figures of a run: max over ranks of maxrss (MB), mean CPU (user+sys) s, max wall s
rank_stats() {
    cat "$OUT/$1"/time.* 2>/dev/null | awk '/^rank/ {
        rss = $4 / 1024; cpu = $6 + $8; if (rss > mr) mr = rss; sc += cpu; n++; if ($10 > w) w = $10; rs = rs sprintf("%s%.0f", n > 1 ? "/" : "", rss) }
        END { if (n) printf "%.0f %.1f %.1f %s\n", mr, sc / n, w, rs; else print "NA NA NA NA" }'
}
ref_secs() { sed -n 's/^reference .*(\([0-9.]*\) s)$/\1/p' "$OUT/$1/log" | tail -1; }
# mean cells/s over the progress windows after the first (equal cells per window: harmonic mean)
train_rate() {
    grep -o '[0-9.]* cells/s' "$OUT/$1/log" | awk '{ if (NR > 1) { s += 1 / $1; n++ } } END { if (n) printf "%.1f\n", n / s; else print "NA" }'
}

READ_NP=${RANKS//,/ }

# ---- (a) read ---------------------------------------------------------------------------------
# nnz of each rank's block (dist_block: the first n % P ranks get one more row)
shard_nnz() {  # atlas P -> "nnz0/nnz1/..." in millions
    "$PYTHON" -c "
import h5py, sys
f = h5py.File(sys.argv[1], 'r'); ip = f['X']['indptr']; n = f['X'].attrs['shape'][0]; P = int(sys.argv[2])
out = []
for r in range(P):
    base, extra = divmod(n, P); c = base + (r < extra); s = r * base + min(r, extra)
    out.append('%.1f' % ((ip[s + c] - ip[s]) / 1e6))
print('/'.join(out))" "$1" "$2"
}
if has "$PARTS" read; then
    echo
    echo "### (a) sharded read ($(getconf _NPROCESSORS_ONLN) cores; ranks > cores are oversubscribed)"
    echo
    # fixed per-rank cost (MPI start, GMT, pathway choice, model file) on the bundled 996-cell file
    run read_base 1 -- "$KIDA" train --reference "$ROOT/data/pbmc_v2_ref.h5ad" --model-out "$OUT/read_base/m.h5" \
        --overwrite --epochs 0 --holdout 0 $NET_MID --threads 1
    BASE=$(rank_stats read_base | awk '{ print $2 }')
    echo "Fixed cost per rank (bundled 996-cell reference, 1 rank): $BASE CPU s, peak RSS $(rank_stats read_base | awk '{ print $1 }') MB."
    echo
    echo "| atlas | cells | stored counts | X on disk (GB) | ranks | counts/rank (M) | kida load (s, wall) | CPU s/rank (max) | cells/s (wall) | cells/s, 1 core/rank | GB/s, 1 core/rank | io_driver CPU s/rank (max) | io_driver GB/s, 1 core/rank | peak RSS/rank (MB) | load avg |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for size in ${SIZES//,/ }; do
        A=$(atlas "$size")
        read -r XB NNZ < <(xbytes "$A")
        N=$("$PYTHON" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['X'].attrs['shape'][0])" "$A")
        cat "$A" > /dev/null   # warm the page cache: every row below reads from memory, not disk
        for np in $READ_NP; do
            [ "$size" = 1m ] && [ "$np" = 1 ] && continue   # 1 rank x 1M cells: skipped (time)
            name=read_${size}_np$np
            run "$name" "$np" -- "$KIDA" train --reference "$A" --model-out "$OUT/$name/m.h5" --overwrite \
                --epochs 0 --holdout 0 $NET_MID --threads 1 --log-every 0
            s=$(ref_secs "$name")
            io="NA"
            if [ -x "$IO_DRIVER" ]; then
                run "io_${size}_np$np" "$np" -- "$IO_DRIVER" --counts "$A"
                io=$(cat "$OUT/io_${size}_np$np"/time.* | awk '{ c = $6 + $8; if (c > m) m = c } END { printf "%.2f", m }')
            fi
            cmax=$(cat "$OUT/$name"/time.* | awk '{ c = $6 + $8; if (c > m) m = c } END { printf "%.2f", m }')
            read -r rss cpu wall per < <(rank_stats "$name")
            awk -v sz="$size" -v n="$N" -v z="$NNZ" -v xb="$XB" -v np="$np" -v sh="$(shard_nnz "$A" "$np")" -v s="${s:-NA}" \
                -v io="$io" -v rss="$per" -v cm="$cmax" -v b="$BASE" -v ld="$(cat "$OUT/$name/load")" 'BEGIN {
                t = cm - b
                printf "| %s | %d | %.0fM | %.2f | %d | %s | %s | %s | %s | %.0f | %.3f | %s | %s | %s | %s |\n", sz, n, z / 1e6,
                    xb / 1e9, np, sh, s, cm, s == "NA" ? "NA" : sprintf("%.0f", n / s), n / t, xb / 1e9 / t,
                    io, io == "NA" ? "NA" : sprintf("%.3f", xb / 1e9 / io), rss, ld }'
        done
    done
    echo
    echo "cells/s and GB/s \"1 core/rank\" = cells (X bytes) / (slowest rank's CPU s - the fixed cost): the rate with a"
    echo "dedicated core per rank. io_driver: tests/io/io_driver, the hyperslab read + checks alone (no labels, no preprocessing)."
fi

# ---- (b) training ---------------------------------------------------------------------------
train_table() {  # part net steps
    local part=$1 net=$2 steps=$3 A
    A=$(atlas 100k)
    echo
    echo "| network | ranks | global batch | steps | cells/s (kida log) | s/step | efficiency | CPU s/step/rank | CPU efficiency | load avg |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    local r1="" c1=""
    for np in 1 2; do
        name=${part}_np$np
        run "$name" "$np" KIDA_STOP_AFTER_STEPS=$steps -- "$KIDA" train --reference "$A" --model-out "$OUT/$name/m.h5" \
            --overwrite --epochs 1 --holdout 0 $net --threads 1 --log-every $((steps / 4)) --checkpoint-every 0
        # the same load without training, to subtract its CPU
        run "${name}_load" "$np" -- "$KIDA" train --reference "$A" --model-out "$OUT/${name}_load/m.h5" --overwrite \
            --epochs 0 --holdout 0 $net --threads 1
        rate=$(train_rate "$name")
        cpu=$(rank_stats "$name" | awk '{ print $2 }')
        cpu0=$(rank_stats "${name}_load" | awk '{ print $2 }')
        bsz=$(echo "$net" | sed 's/.*--batch-size \([0-9]*\).*/\1/')
        [ -z "$r1" ] && r1=$rate && c1=$(awk -v a="$cpu" -v b="$cpu0" -v s="$steps" 'BEGIN { print (a - b) / s }')
        awk -v net="$part" -v np="$np" -v b="$bsz" -v st="$steps" -v r="$rate" -v r1="$r1" -v a="$cpu" -v z="$cpu0" \
            -v c1="$c1" -v ld="$(cat "$OUT/$name/load")" 'BEGIN {
            c = (a - z) / st
            printf "| %s | %d | %d | %d | %s | %s | %s | %.3f | %.2f | %s |\n", net, np, b, st, r,
                r == "NA" ? "NA" : sprintf("%.3f", b / r), (r == "NA" || r1 == "NA") ? "NA" : sprintf("%.2f", r / (np * r1)),
                c, c1 / (np * c), ld }'
    done
}
if has "$PARTS" train; then
    echo
    echo "### (b) data-parallel training, 100k atlas (width 64, 2 layers, 4 heads, 100 pathways)"
    train_table train "$NET_MID" "$TRAIN_STEPS"
fi
if has "$PARTS" paper; then
    echo
    echo "### (b') the paper network (width 128, 4 layers, 8 heads, 300 pathways, batch 16)"
    train_table paper "$NET_PAPER" "$PAPER_STEPS"
fi

# ---- (b'') clustering loss ---------------------------------------------------------------------
if has "$PARTS" ada; then
    echo
    echo "### (b'') the student's clustering loss per step, any rank count (1 thread)"
    echo
    B=$(dirname "$KIDA")
    if mpicc -std=c11 -O2 -fopenmp -I"$ROOT/src" -I"$ROOT" -I"$B" \
        "$ROOT/validation/bench_scaling_ada.c" "$B/libkida_loss.a" "$B/libkida_core.a" -lm -o "$OUT/bench_scaling_ada" 2> "$OUT/ada_build.log"; then
        echo "| global batch N | width C | classes K | CPU s (forward + backward) | workspace (MB) | load avg |"
        echo "|---|---|---|---|---|---|"
        ld=$(load)
        for k in 7 100; do
            "$OUT/bench_scaling_ada" 128 $k 256 512 1024 2048 | awk -v ld="$ld" '{ printf "| %d | %d | %d | %.3f | %.1f | %s |\n", $1, $2, $3, $4, $5, ld }'
        done
    else
        echo "(not built: see $OUT/ada_build.log)"
    fi
fi

# ---- (c) memory per rank --------------------------------------------------------------------
if has "$PARTS" mem; then
    echo
    echo "### (c) peak memory per rank at 2 ranks (MB, rank0/rank1)"
    echo
    # a small model for predict (untrained: only its shapes matter here)
    run tiny_model 1 -- "$KIDA" train --config "$ROOT/tests/e2e/small.conf" --reference "$ROOT/data/pbmc_v2_ref.h5ad" \
        --model-out "$OUT/tiny_model/m.h5" --overwrite --epochs 0 --threads 1
    echo "| atlas | cells | stored counts | counts/rank (M) | load only | load + exchange (3 steps) | predict (small model) | hold-out split: extra CPU s/rank | load avg |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for size in ${SIZES//,/ }; do
        A=$(atlas "$size")
        read -r XB NNZ < <(xbytes "$A")
        N=$("$PYTHON" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['X'].attrs['shape'][0])" "$A")
        avail=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
        need=$((NNZ / 1000000 * 17 + 2000))   # ~16 bytes per stored count while reading, plus slack
        if [ "$avail" -lt "$need" ]; then
            echo "| $size | $N | $NNZ | | skipped: $avail MB available, ~$need MB needed | | | | |"
            continue
        fi
        ld=$(load)
        run mem_load_$size 2 -- "$KIDA" train --reference "$A" --model-out "$OUT/mem_load_$size/m.h5" --overwrite \
            --epochs 0 --holdout 0 $NET_MID --threads 1
        run mem_train_$size 2 KIDA_STOP_AFTER_STEPS=3 -- "$KIDA" train --reference "$A" \
            --model-out "$OUT/mem_train_$size/m.h5" --overwrite --epochs 1 --holdout 0 $NET_MID --threads 1 --checkpoint-every 0
        run mem_pred_$size 2 -- "$KIDA" predict --model "$OUT/tiny_model/m.h5" --query "$A" \
            --out "$OUT/mem_pred_$size/pred.h5ad" --overwrite --threads 1
        rm -f "$OUT/mem_pred_$size/pred.h5ad"
        # fit.c's stratified hold-out split picks each held-out cell by a scan of all cells:
        # fraction f costs ~ f * N^2 steps on every rank. 100k: f = 0.1 (the default); larger: f = 0.01
        hf=0.1; [ "$N" -gt 200000 ] && hf=0.01
        run mem_hold_$size 2 -- "$KIDA" train --reference "$A" --model-out "$OUT/mem_hold_$size/m.h5" --overwrite \
            --epochs 0 --holdout $hf $NET_MID --threads 1
        hold=$(awk -v a="$(rank_stats mem_hold_$size | awk '{ print $2 }')" -v b="$(rank_stats mem_load_$size | awk '{ print $2 }')" \
            -v f=$hf 'BEGIN { printf "%.1f (f = %s)", a - b, f }')
        a=$(rank_stats mem_load_$size | awk '{ print $4 }')
        b=$(rank_stats mem_train_$size | awk '{ print $4 }')
        c=$(rank_stats mem_pred_$size | awk '{ print $4 " (wall " $3 " s)" }')
        echo "| $size | $N | $((NNZ / 1000000))M | $(shard_nnz "$A" 2) | $a | $b | $c | $hold | $ld |"
    done
fi
echo
echo "(logs and per-rank time records: $OUT)"
