#!/bin/sh
# The rank-count promise at kida's default network on the bundled data (issue 11), not a test:
# `kida annotate --config configs/demo.conf` on 1, 2, 3 and 4 ranks (oversubscribed if the node has
# fewer cores), then h5diff without tolerance of every output and model file against 1 rank, the
# share of identical labels and anchors, and each run's wall and CPU seconds (all ranks, all threads).
#   sh validation/ranks_default.sh [BUILD_DIR] [WORK_DIR]      RANKS="1 2 3 4" to choose counts
# RESUME=1 also stops a 2-rank run after teacher step 300 and resumes its checkpoint on 3 ranks
# (RANKS="" RESUME=1 reuses WORK_DIR's 1-rank run). About 13 CPU-minutes per run (1 thread per rank).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cd "$top"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
for n in ${RANKS-1 2 3 4}; do
    /usr/bin/time -f "%e %U %S" -o "$work/time$n" mpiexec -np "$n" "$build/kida" annotate --config configs/demo.conf \
        --threads 1 --out "$work/r$n.h5ad" --model-out "$work/m$n.h5" --overwrite >"$work/log$n" 2>&1 \
        || { tail -n 20 "$work/log$n"; echo "ranks_default: $n ranks failed (log $work/log$n)"; exit 1; }
    read wall usr sys <"$work/time$n"
    line="$n rank(s): wall $wall s, CPU $(echo "$usr + $sys" | bc) s"
    if [ "$n" -ne 1 ]; then
        h5diff --exclude-path /uns/kida/config "$work/r1.h5ad" "$work/r$n.h5ad" >"$work/diff$n" 2>&1 \
            && o="outputs identical" || o="OUTPUTS DIFFER ($(grep -c . "$work/diff$n") diff lines)"
        h5diff --exclude-path /config "$work/m1.h5" "$work/m$n.h5" >"$work/mdiff$n" 2>&1 \
            && m="model identical" || m="MODEL DIFFERS"
        agree=$(python3 - "$work/r1.h5ad" "$work/r$n.h5ad" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
def lab(f):
    g = f["obs/kida_label"]
    return g["categories"].asstr()[:][g["codes"][:]]
la, lb = lab(a), lab(b)
aa, ab = a["obs/kida_is_anchor"][:], b["obs/kida_is_anchor"][:]
print(f"labels {100 * np.mean(la == lb):.2f}% identical, anchors {int(aa.sum())} vs {int(ab.sum())} "
      f"({int((aa & ab).sum())} shared)")
PY
)
        line="$line; $o, $m; $agree"
    fi
    echo "$line"
done
if [ "${RESUME:-0}" = 1 ]; then
    [ -f "$work/r1.h5ad" ] || { echo "ranks_default: RESUME needs the 1-rank run in $work"; exit 1; }
    KIDA_STOP_AFTER_STEPS=300 mpiexec -np 2 "$build/kida" annotate --config configs/demo.conf --threads 1 \
        --out "$work/x.h5ad" --model-out "$work/mx.h5" --overwrite >"$work/logx" 2>&1
    grep -q "stopped by signal" "$work/logx" || { tail -n 20 "$work/logx"; echo "ranks_default: the 2-rank run did not stop"; exit 1; }
    mpiexec -np 3 "$build/kida" annotate --config configs/demo.conf --threads 1 --out "$work/x.h5ad" \
        --model-out "$work/mx.h5" --resume >"$work/logy" 2>&1 || { tail -n 20 "$work/logy"; echo "ranks_default: resume failed"; exit 1; }
    h5diff --exclude-path /uns/kida/config "$work/r1.h5ad" "$work/x.h5ad" >"$work/diffx" 2>&1 \
        && o="outputs identical" || o="OUTPUTS DIFFER"
    h5diff --exclude-path /config "$work/m1.h5" "$work/mx.h5" >"$work/mdiffx" 2>&1 && m="model identical" || m="MODEL DIFFERS"
    echo "2-rank run stopped at teacher step 300, resumed on 3 ranks: $(grep -m1 'resuming from' "$work/logy" | cut -c1-100); $o, $m"
fi
echo "ranks_default: runs in $work"
