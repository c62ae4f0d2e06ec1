#!/bin/sh
# GPU benchmark of kida against PyTorch on the same GPU (docs/gpu.md). Run on a GPU node, from a
# build directory configured with CUDA:
#   make validation/bench_gpu && sh <srcdir>/validation/bench_gpu.sh [BUILD_DIR] [OUT_DIR]
#   (or: make bench-gpu)
# It runs, each with its own output file in OUT_DIR (default bench_gpu_out):
#   1. kida, one GPU, fp32 and TF32: training and inference cells/s, TFLOP/s, share of peak
#   2. kida on every GPU of the node under mpiexec: the per-step NCCL (and MPI) gradient all-reduce
#   3. PyTorch eager and torch.compile of validation/torch_kida.py's network, fp32 and TF32
# and ends with a summary table. Environment: BATCH (64), INFER_BATCH (256), STEPS (20),
# PYTORCH (python with torch + CUDA, default /usr/bin/python3), NGPU (default: nvidia-smi -L).
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-.}
out=${2:-bench_gpu_out}
batch=${BATCH:-64}
ibatch=${INFER_BATCH:-256}
steps=${STEPS:-20}
py=${PYTORCH:-/usr/bin/python3}
bench="$build/validation/bench_gpu"
if [ ! -x "$bench" ]; then
    echo "bench_gpu.sh: $bench not found. HINT: configure with CUDA and run 'make validation/bench_gpu' in the build directory" >&2
    exit 99
fi
mkdir -p "$out"
ngpu=${NGPU:-$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)}
if [ "${ngpu:-0}" -lt 1 ]; then
    echo "bench_gpu.sh: no GPU found by nvidia-smi; nothing to measure" >&2
    exit 77
fi
{ date; uname -n; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv; } \
    > "$out/system.txt" 2>&1 || true
cat "$out/system.txt"

args="--batch $batch --infer-batch $ibatch --steps $steps"
echo "== kida, 1 GPU, fp32"
"$bench" $args | tee "$out/kida_fp32.txt"
echo "== kida, 1 GPU, TF32"
"$bench" $args --tf32 | tee "$out/kida_tf32.txt"
if [ "$ngpu" -gt 1 ]; then
    mpi=${MPIEXEC:-mpiexec}
    if command -v "$mpi" >/dev/null 2>&1; then
        echo "== kida, $ngpu GPUs (one rank each), fp32: per-step gradient all-reduce"
        OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
            "$mpi" -n "$ngpu" "$bench" $args | tee "$out/kida_${ngpu}gpu.txt"
    else
        echo "(no mpiexec: multi-GPU all-reduce skipped)"
    fi
fi
if "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    echo "== PyTorch ($py), fp32"
    "$py" "$here/bench_gpu_torch.py" --batch "$batch" --infer-batch "$ibatch" --steps "$steps" | tee "$out/torch_fp32.txt"
    echo "== PyTorch ($py), TF32"
    "$py" "$here/bench_gpu_torch.py" --batch "$batch" --infer-batch "$ibatch" --steps "$steps" --tf32 \
        | tee "$out/torch_tf32.txt"
else
    echo "(no torch with CUDA for $py: PyTorch baseline skipped; set PYTORCH=/path/to/python)"
fi

# summary: key=value lines after the "key=value" marker of each file
val() { sed -n '/^key=value$/,$p' "$1" 2>/dev/null | grep "^$2=" | head -1 | cut -d= -f2-; }
echo
echo "== summary (batch $batch, inference batch $ibatch, median of $steps steps)"
printf '%-28s %14s %14s %10s\n' "" "train cells/s" "infer cells/s" "TFLOP/s"
for p in fp32 tf32; do
    f="$out/kida_$p.txt"
    [ -f "$f" ] && printf '%-28s %14s %14s %10s\n' "kida $p" "$(val "$f" train_cells_per_s)" \
        "$(val "$f" infer_cells_per_s)" "$(val "$f" train_tflops)"
    f="$out/torch_$p.txt"
    for v in eager compile; do
        [ -f "$f" ] && [ -n "$(val "$f" "torch_${v}_train_cells_per_s")" ] && \
            printf '%-28s %14s %14s %10s\n' "torch $v $p" "$(val "$f" "torch_${v}_train_cells_per_s")" \
                "$(val "$f" "torch_${v}_infer_cells_per_s")" "-"
    done
done
if [ -f "$out/kida_${ngpu}gpu.txt" ]; then
    f="$out/kida_${ngpu}gpu.txt"
    echo "all-reduce of the gradient on $ngpu GPUs: NCCL $(val "$f" allreduce_nccl_ms) ms, MPI via host $(val "$f" allreduce_mpi_ms) ms; step $(val "$f" train_step_ms) ms"
fi
echo "outputs in $out/"
