#!/bin/sh
# Runs the C model benchmark and the PyTorch baseline on the same config, batch and thread counts,
# and prints cells/s and the C/PyTorch ratio.
#   validation/bench_model.sh [BUILD_DIR]      (BUILD_DIR holds validation/bench_model; default .)
# Environment: BATCH (64), STEPS (5), THREADS (1,2), PYTORCH (/usr/bin/python3).
# Build first: make validation/bench_model   (or: make bench-model, which builds and runs this)
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-.}
batch=${BATCH:-64}
steps=${STEPS:-5}
threads=${THREADS:-1,2}
py=${PYTORCH:-/usr/bin/python3}
bench="$build/validation/bench_model"
if [ ! -x "$bench" ]; then
    echo "bench_model.sh: $bench not found. HINT: run 'make validation/bench_model' in the build directory" >&2
    exit 99
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
OPENBLAS_NUM_THREADS=1 "$bench" --batch "$batch" --steps "$steps" --threads "$threads" | tee -a "$out"
if "$py" -c "import torch" 2>/dev/null; then
    "$py" "$here/bench_torch.py" --batch "$batch" --steps "$steps" --threads "$threads" | tee -a "$out"
else
    echo "(no torch for $py: PyTorch baseline skipped)"
fi
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
awk '
function grab(arr,   i, kv) { for (i = 3; i <= NF; i++) { split($i, kv, "="); arr[$3, kv[1]] = kv[2] } }
/^RESULT kida/  { grab(k); if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 } }
/^RESULT torch/ { grab(t) }
END {
    printf "cells/s, median step (best step); then cells per process CPU-second (robust to other jobs)\n"
    printf "%-10s %17s %17s %6s | %17s %17s %6s | %8s | %20s | %20s\n", "", "kida train", "torch train", "ratio",
           "kida infer", "torch infer", "ratio", "vs sgemm", "train/CPU-s k t r", "infer/CPU-s k t r"
    for (i = 1; i <= n; i++) {
        th = order[i]; tt = t[th, "train"] + 0; ti = t[th, "infer"] + 0; tc = t[th, "train_cpu"] + 0
        ic = t[th, "infer_cpu"] + 0
        printf "%-10s %7.2f (%7.2f) %7.2f (%7.2f) %6s | %7.2f (%7.2f) %7.2f (%7.2f) %6s | %7s%% | %6.2f %6.2f %5s | %6.2f %6.2f %5s\n", th,
               k[th, "train"], k[th, "train_best"], tt, t[th, "train_best"],
               (tt > 0 ? sprintf("%.1fx", k[th, "train"] / tt) : "-"),
               k[th, "infer"], k[th, "infer_best"], ti, t[th, "infer_best"],
               (ti > 0 ? sprintf("%.1fx", k[th, "infer"] / ti) : "-"), k[th, "train_pct"],
               k[th, "train_cpu"], tc, (tc > 0 ? sprintf("%.1fx", k[th, "train_cpu"] / tc) : "-"),
               k[th, "infer_cpu"], ic, (ic > 0 ? sprintf("%.1fx", k[th, "infer_cpu"] / ic) : "-")
    }
}' "$out"
