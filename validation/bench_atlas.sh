#!/bin/bash
# bench_atlas.sh: the annotation path end to end at atlas scale on SYNTHETIC atlases
# (validation/make_atlas.py): read + preprocess, inference and the parallel write of the output,
# per phase and per rank count, with every rank's peak RSS, and whether the outputs of all rank
# counts are identical (h5diff). Prints markdown tables; docs/scaling.md holds a measured run.
#
#   validation/bench_atlas.sh [--parts predict,annotate,weak] [--sizes 1m] [--ranks 1,2,4]
#
# Environment: KIDA (the kida binary; default build/kida of this repository), MPIEXEC (mpirun),
# PYTHON (python3 with numpy + h5py, for make_atlas.py), OUT (work folder, default
# .work/bench_atlas), DEPTH_<size> (make_atlas --depth of that size; default 0.25,0.5),
# ATLAS_<size> (the atlas file of that size, e.g. one made by validation/grow_atlas.py),
# WEAK_CELLS (cells per rank of the weak-scaling part, default 250000), KEEP=1 keeps outputs.
#
# Parts (each kida run is `mpirun -np R validation/bench_scaling_rank.sh DIR kida ...`, so every
# rank's peak RSS and CPU come from GNU time as well as from kida's own "peak RSS rank r" lines):
#   predict   `kida predict` of the atlas with a small untrained model (tests/e2e/small.conf's
#             network, 0 epochs: only the shapes matter, and a small network keeps inference
#             from hiding the I/O). Phases from kida's "summary:" line. The output of every rank
#             count is compared with the 1-rank output by h5diff (same --out name, run in
#             separate folders, so that even uns/kida/config is the same).
#   annotate  `kida annotate` of the atlas as query against the bundled reference, the small
#             network trained (teacher 2 epochs, student 60 steps on 0.1% of the cells as
#             anchors): its phases, peak RSS per rank, and whether the 4-rank output is the
#             1-rank one (h5diff: training sums gradients exactly, so every rank count gives the
#             same bits; when they differ, how far: X, labels, X_kida). With scanpy in PYTHON,
#             scanpy opens the 1-rank output.
#   weak      the write phase with the cells per rank fixed (WEAK_CELLS x R cells at R ranks).
# Every run uses --threads 1. Ranks beyond the machine's cores are oversubscribed; the load
# average at each run is printed: on a shared machine compare CPU seconds, not only wall times.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PARTS=predict,annotate,weak
SIZES=1m
RANKS=1,2,4
. "$ROOT/validation/bench_lib.sh"
bench_args bench_atlas 2,30p "$0" "$@"
KIDA=${KIDA:-$ROOT/build/kida}
[ -x "$KIDA" ] || { echo "bench_atlas: set KIDA to the kida binary" >&2; exit 99; }
KIDA=$(cd "$(dirname "$KIDA")" && pwd)/$(basename "$KIDA")
MPIEXEC=${MPIEXEC:-mpirun}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$ROOT/.work/bench_atlas}
WEAK_CELLS=${WEAK_CELLS:-250000}
WRAP=$ROOT/validation/bench_scaling_rank.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export HDF5_USE_FILE_LOCKING=FALSE KIDA_DATADIR=${KIDA_DATADIR:-$ROOT/data}
mkdir -p "$OUT"
cells_of() { case $1 in *m) echo $((${1%m} * 1000000)) ;; *k) echo $((${1%k} * 1000)) ;; *) echo "$1" ;; esac; }

atlas() {  # atlas <size>: path of the atlas, generated when missing
    local n f var depth
    n=$(cells_of "$1")
    var=DEPTH_$1
    depth=${!var:-0.25,0.5}
    f=$ROOT/.work/atlas/atlas_$1.h5ad
    [ "$depth" = 0.25,0.5 ] || f=$ROOT/.work/atlas/atlas_${1}_d${depth/,/-}.h5ad
    var=ATLAS_$1
    [ -n "${!var:-}" ] && f=${!var}   # an atlas made otherwise (validation/grow_atlas.py)
    if [ ! -f "$f" ]; then
        echo "generating $f (SYNTHETIC, $n cells, depth $depth)" >&2
        mkdir -p "$ROOT/.work/atlas"
        (cd "$ROOT" && nice -n 10 "$PYTHON" validation/make_atlas.py --cells "$n" --batches 8 --seed 0 --depth "$depth" --out "$f") >&2 || exit 99
    fi
    echo "$f"
}

gb() { du -B1 "$1" | awk '{ printf "%.2f", $1 / 1e9 }'; }

# run NAME NP -- CMD ARGS: one mpirun in $OUT/NAME (the command's working folder)
run() {
    local name=$1 np=$2 d
    shift 3
    d=$OUT/$name
    rm -rf "$d"; mkdir -p "$d"
    load > "$d/load"
    (cd "$d" && nice -n 10 "$MPIEXEC" --oversubscribe -np "$np" "$WRAP" "$d" "$@") > "$d/log" 2>&1
    echo $? > "$d/rc"
    [ "$(cat "$d/rc")" = 0 ] || echo "bench_atlas: $name failed (rc $(cat "$d/rc")); see $d/log" >&2
}

# phase NAME PHASE: "wall_s cells/s cpu_s" of a phase of kida's summary line (the slowest rank's
# wall and CPU seconds; cells/s over the wall time; NA when absent)
phase() {
    grep '^summary:' "$OUT/$1/log" | tail -1 | sed 's/^summary: //' | tr '|' '\n' |
        awk -v p="$2" '{ line = $0; sub(/^ +/, "", line) } index(line, p " ") == 1 {
            s = substr(line, length(p) + 2); split(s, a, " "); r = "NA"; c = "NA"
            if (match(s, /\(([0-9,]+) cells\/s/)) { r = substr(s, RSTART + 1, RLENGTH - 9) }
            if (match(s, /CPU [0-9.]+ s/)) { c = substr(s, RSTART + 4, RLENGTH - 6) }
            print a[1], r, c; found = 1 } END { if (!found) print "NA NA NA" }'
}
# per-rank peak RSS (MiB) from kida's lines, "r0/r1/..."
rss() { sed -n 's/^peak RSS rank [0-9]*: \([0-9]*\) MiB$/\1/p' "$OUT/$1/log" | paste -sd/; }
# the writer's line: "rows s | rows GB/s | fsync + rename s"
wrote() {
    sed -n 's/^wrote .*: layout [0-9.]* s, rows \([0-9.]*\) s ([0-9.]* GB from [0-9]* rank(s), \([0-9.]*\) GB\/s), fsync + rename \([0-9.]*\) s$/\1 | \2 | \3/p' \
        "$OUT/$1/log" | tail -1
}
cpu_max() { cat "$OUT/$1"/time.* | awk '{ c = $6 + $8; if (c > m) m = c } END { printf "%.1f", m }'; }
same() {  # same A B: "identical" or the first differences h5diff reports
    if h5diff "$1" "$2" > "$OUT/h5diff.txt" 2>&1; then echo identical
    else echo "differs: $(grep -c differences "$OUT/h5diff.txt") datasets"; fi
}

# the small model for predict (untrained: only its shapes matter)
model() {
    local m=$OUT/model/m.h5
    if [ ! -f "$m" ]; then
        mkdir -p "$OUT/model"
        "$KIDA" train --config "$ROOT/tests/e2e/small.conf" --reference "$ROOT/data/pbmc_v2_ref.h5ad" --model-out "$m" \
            --overwrite --epochs 0 --threads 1 -q > "$OUT/model/log" 2>&1 || { echo "bench_atlas: model failed" >&2; exit 99; }
    fi
    echo "$m"
}

# cells NAME PHASE: "wall | cells/s | CPU" table cells of a phase
cells() { phase "$1" "$2" | awk '{ printf "%s | %s | %s", $1, $2, $3 }'; }
PHASE_HEAD="| read + preprocess (s) | cells/s | CPU s | inference (s) | cells/s | CPU s | write (s) | cells/s | CPU s |"

if has "$PARTS" predict; then
    M=$(model)
    for size in ${SIZES//,/ }; do
        A=$(atlas "$size")
        echo
        echo "### kida predict, $size atlas ($(basename "$A"): $(gb "$A") GB on disk; $(getconf _NPROCESSORS_ONLN) cores, ranks beyond are oversubscribed)"
        echo
        echo "| ranks | wall (s) $PHASE_HEAD of which rows (s) | rows GB/s | fsync + rename (s) | CPU s/rank (max, whole run) | peak RSS per rank (MiB) | output (GB) | vs 1 rank | load avg |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        ref=""
        for np in ${RANKS//,/ }; do
            name=predict_${size}_np$np
            t0=$(date +%s.%N)
            run "$name" "$np" -- "$KIDA" predict --model "$M" --query "$A" --out pred.h5ad --overwrite --threads 1
            wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
            o=$OUT/$name/pred.h5ad
            cmp="-"
            if [ -z "$ref" ]; then ref=$o; elif [ -f "$o" ]; then cmp=$(same "$ref" "$o"); fi
            echo "| $np | $wall | $(cells "$name" "read + preprocess") | $(cells "$name" inference) | $(cells "$name" write) | $(wrote "$name") | $(cpu_max "$name") | $(rss "$name") | $([ -f "$o" ] && gb "$o") | $cmp | $(cat "$OUT/$name/load") |"
            [ "$o" != "$ref" ] && [ -z "${KEEP:-}" ] && rm -f "$o"
        done
        [ -z "${KEEP:-}" ] && rm -f "$ref"
    done
fi

if has "$PARTS" annotate; then
    for size in ${SIZES//,/ }; do
        A=$(atlas "$size")
        echo
        echo "### kida annotate, $size atlas as the query (bundled reference, small network)"
        echo
        echo "| ranks | wall (s) | query read + preprocess (s) | cells/s | CPU s | teacher inference (s) | cells/s | CPU s | student inference (s) | cells/s | CPU s | write (s) | cells/s | CPU s | CPU s/rank (max, whole run) | peak RSS per rank (MiB) | vs 1 rank | load avg |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        ref=""
        for np in 1 4; do
            name=annotate_${size}_np$np
            t0=$(date +%s.%N)
            run "$name" "$np" -- "$KIDA" annotate --config "$ROOT/tests/e2e/small.conf" --reference "$ROOT/data/pbmc_v2_ref.h5ad" \
                --query "$A" --out ann.h5ad --overwrite --threads 1 --epochs 2 --anchor-fraction 0.001 \
                --student-min-steps 60 --log-every 0
            wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
            o=$OUT/$name/ann.h5ad
            cmp="-"
            if [ -z "$ref" ]; then ref=$o
            elif [ -f "$o" ]; then
                cmp=$(same "$ref" "$o")
                [ "$cmp" = identical ] || cmp="$cmp; $("$PYTHON" - "$ref" "$o" <<'EOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
lab = (a["obs/kida_label/codes"][()] == b["obs/kida_label/codes"][()]).mean()
same_x = all(np.array_equal(a["X"][k][()], b["X"][k][()]) for k in ("data", "indices", "indptr"))
emb = np.abs(a["obsm/X_kida"][()] - b["obsm/X_kida"][()]).max()
print(f"X {'identical' if same_x else 'DIFFERS'}; labels {100 * lab:.3f}% equal; X_kida max diff {emb:.2g}")
EOF
)"
            fi
            echo "| $np | $wall | $(cells "$name" "query read + preprocess") | $(cells "$name" "teacher inference") | $(cells "$name" "student inference") | $(cells "$name" write) | $(cpu_max "$name") | $(rss "$name") | $cmp | $(cat "$OUT/$name/load") |"
            [ "$o" != "$ref" ] && [ -z "${KEEP:-}" ] && rm -f "$o"
        done
        if [ -f "$ref" ]; then
            "$PYTHON" -c "import scanpy" 2>/dev/null && "$PYTHON" -c "
import scanpy as sc, sys
a = sc.read_h5ad(sys.argv[1], backed='r'); print(f'scanpy opens the 1-rank output: {a.n_obs} x {a.n_vars}, obs {list(a.obs.columns)}, obsm {list(a.obsm.keys())}')" "$ref"
            [ -z "${KEEP:-}" ] && rm -f "$ref"
        fi
    done
fi

if has "$PARTS" weak; then
    M=$(model)
    echo
    echo "### write phase, $WEAK_CELLS cells per rank (weak scaling)"
    echo
    echo "| ranks | cells | atlas on disk (GB) | write (s) | write cells/s | write CPU s (max rank) | of which rows (s) | rows GB/s | fsync + rename (s) | write time vs 1 rank | load avg |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    w1=""
    for np in ${RANKS//,/ }; do
        n=$((WEAK_CELLS * np))
        if [ $((n % 1000000)) = 0 ]; then A=$(atlas $((n / 1000000))m); elif [ $((n % 1000)) = 0 ]; then A=$(atlas $((n / 1000))k); else A=$(atlas "$n"); fi
        name=weak_np$np
        run "$name" "$np" -- "$KIDA" predict --model "$M" --query "$A" --out pred.h5ad --overwrite --threads 1
        o=$OUT/$name/pred.h5ad
        w=$(phase "$name" write | cut -d' ' -f1)
        [ -z "$w1" ] && w1=$w
        echo "| $np | $n | $(gb "$A") | $(cells "$name" write) | $(wrote "$name") | $(awk -v a="$w" -v b="$w1" 'BEGIN { printf "%.2f", a / b }') | $(cat "$OUT/$name/load") |"
        [ -z "${KEEP:-}" ] && rm -f "$o"
    done
fi
echo
echo "(logs and per-rank records: $OUT)"
