#!/bin/sh
# kida's CPU model against a strong PyTorch 2.x (validation/bench_torch.py) on the same config,
# batch and thread counts, interleaved: REPEATS rounds of (kida, PyTorch fp32 and bf16). Prints the
# medians over the rounds of cells per process CPU-second (robust to other jobs on the machine)
# and per wall second, the kida/PyTorch ratios, kida's GFLOP per CPU-second against the same-run
# OpenBLAS sgemm (model shape and 2048³), the CPU and the vector path.
#   validation/bench_model.sh [BUILD_DIR]      (BUILD_DIR holds validation/bench_model; default .)
# Environment: BATCH (64), STEPS (3), THREADS (1,2), REPEATS (3), PRECISION (fp32,bf16: kida's products and PyTorch's autocast),
#   PYTORCH: a python with torch 2.x; unset, a venv is made in BENCH_VENV (BUILD_DIR/bench-venv)
#   and torch is installed into it from PyPI with pip (once).
# Build first: make validation/bench_model   (or: make bench-model, which builds and runs this)
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-.}
batch=${BATCH:-64}
steps=${STEPS:-3}
threads=${THREADS:-1,2}
repeats=${REPEATS:-3}
precision=${PRECISION:-fp32,bf16}
bench="$build/validation/bench_model"
if [ ! -x "$bench" ]; then
    echo "bench_model.sh: $bench not found. HINT: run 'make validation/bench_model' in the build directory" >&2
    exit 99
fi
py=${PYTORCH:-}
if [ -z "$py" ]; then
    venv=${BENCH_VENV:-$build/bench-venv}
    if [ ! -x "$venv/bin/python" ]; then
        echo "== making $venv with torch 2.x from PyPI (once)"
        python3 -m venv "$venv" || { echo "bench_model.sh: python3 -m venv failed. HINT: apt-get install python3-venv, or set PYTORCH" >&2; exit 99; }
        "$venv/bin/pip" install -q "torch>=2" numpy || { echo "bench_model.sh: pip install torch failed. HINT: set PYTORCH to a python with torch 2.x" >&2; exit 99; }
    fi
    py="$venv/bin/python"
fi
if ! "$py" -c "import torch, sys; sys.exit(int(torch.__version__.split('.')[0]) < 2)" 2>/dev/null; then
    echo "bench_model.sh: $py has no torch 2.x. HINT: set PYTORCH to a python with torch >= 2, or unset it to make a venv" >&2
    exit 99
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "== $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) core(s); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ "$r" -le "$repeats" ]; do
    echo "== round $r of $repeats"
    OPENBLAS_NUM_THREADS=1 "$bench" --batch "$batch" --steps "$steps" --threads "$threads" --precision "$precision" | tee -a "$out"
    "$py" "$here/bench_torch.py" --batch "$batch" --steps "$steps" --threads "$threads" --precision "$precision" | tee -a "$out"
    r=$((r + 1))
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v repeats="$repeats" '
function grab(who, prec,   i, kv, key) {
    for (i = 3; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "threads") th = kv[2]
    }
    if (!(th in seen)) { seen[th] = 1; order[++n] = th }
    for (i = 3; i <= NF; i++) {
        split($i, kv, "=")
        key = who SUBSEP prec SUBSEP th SUBSEP kv[1]
        cnt[key]++
        val[key, cnt[key]] = kv[2]
    }
}
function med(who, prec, th, f,   key, m, i, j, a, t) {
    key = who SUBSEP prec SUBSEP th SUBSEP f
    m = cnt[key]
    if (!m) return 0
    for (i = 1; i <= m; i++) a[i] = val[key, i] + 0
    for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function ratio(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "-" }
# one row per thread count and phase: kida fp32 and bf16, PyTorch fp32 and bf16, and the ratios
# (suffix "_cpu": per CPU-second, "": per wall second); "-" where a column was not measured
function cells(sfx,   i, ph, th, k32, k16, t32, t16) {
    for (ph = 1; ph <= 2; ph++) {
        what = ph == 1 ? "train" : "infer"
        for (i = 1; i <= n; i++) {
            th = order[i]
            k32 = med("kida", "fp32", th, what sfx); k16 = med("kida", "bf16", th, what sfx)
            t32 = med("torch", "fp32", th, what sfx); t16 = med("torch", "bf16", th, what sfx)
            printf "%7s %5s | %9.2f %9.2f | %10.2f %10.2f | %7s %7s %7s\n", th, what, k32, k16, t32, t16,
                   ratio(k32, t32), ratio(k16, t32), ratio(k16, t16)
        }
    }
}
/^CPU: /                        { if (!cpu) cpu = $0 }
/^torch [0-9].* CPU/            { if (!tv) tv = $1 " " $2 " " $4 }
/^RESULT kida /                 { for (i = 3; i <= NF; i++) if ($i ~ /^precision=/) p = substr($i, 11); grab("kida", p) }
/^products: /                   { sub(/^products: /, ""); if (index(prods, $0) == 0) prods = prods (prods ? "; " : "") $0 }
/^RESULT kida /                 { for (i = 3; i <= NF; i++) if ($i ~ /^path=/) kpath = substr($i, 6) }
/^RESULT torch .*precision=/    { for (i = 3; i <= NF; i++) if ($i ~ /^precision=/) p = substr($i, 11); grab("torch", p) }
END {
    printf "\n%s; %s\n", cpu, tv
    printf "medians of %d rounds; kida vector path %s; kida products: %s\n", repeats, kpath, prods
    printf "cells per CPU-second (all threads of the process):\n"
    printf "%13s | %9s %9s | %10s %10s | %7s %7s %7s\n", "threads phase", "kida fp32", "kida bf16", "torch fp32",
           "torch bf16", "k32/t32", "k16/t32", "k16/t16"
    cells("_cpu")
    printf "cells per wall second (other jobs on the cores slow these down):\n"
    cells("")
    printf "kida training GFLOP per CPU-second vs the same-run OpenBLAS sgemm per CPU-second (fp32 rate):\n"
    printf "%7s | %10s %10s | %15s %5s %5s | %12s %5s %5s\n", "threads", "kida fp32", "kida bf16", "sgemm (BT,4C,C)",
           "fp32%", "bf16%", "sgemm 2048^3", "fp32%", "bf16%"
    for (i = 1; i <= n; i++) {
        th = order[i]
        g = med("kida", "fp32", th, "train_gflops_cpu"); h = med("kida", "bf16", th, "train_gflops_cpu")
        s1 = med("kida", "fp32", th, "sgemm_cpu"); s2 = med("kida", "fp32", th, "sgemm2048_cpu")
        printf "%7s | %10.1f %10.1f | %15.1f %4.0f%% %4.0f%% | %12.1f %4.0f%% %4.0f%%\n", th, g, h, s1,
               (s1 > 0 ? 100 * g / s1 : 0), (s1 > 0 ? 100 * h / s1 : 0), s2, (s2 > 0 ? 100 * g / s2 : 0),
               (s2 > 0 ? 100 * h / s2 : 0)
    }
}' "$out"
