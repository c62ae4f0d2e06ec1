#!/bin/sh
# Training cells per CPU-second of builds side by side, in the same run (not a test): each build's
# validation/bench_train (the whole data-parallel step at the paper network; `make validation/bench_train`
# in the build) on each rank count, interleaved REPEATS times; prints the medians and ratios to the first.
#   sh validation/bench_train_compare.sh NAME=BUILD_DIR [NAME=BUILD_DIR ...]
#   RANKS="1 2" REPEATS=3 STEPS=24 BATCH=16 STUDENT=0|1
# Used for the cost of exact gradient sums (docs/scaling.md): the build before them, the commit
# that added them and main.
set -eu
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1
[ $# -ge 1 ] || { sed -n 2,8p "$0"; exit 2; }
out=$(mktemp)
extra=""
[ "${STUDENT:-0}" = 1 ] && extra=--student
r=1
while [ $r -le "${REPEATS:-3}" ]; do
    for n in ${RANKS:-1 2}; do
        for b in "$@"; do
            name=${b%%=*}; dir=${b#*=}
            [ -x "$dir/validation/bench_train" ] || { echo "no $dir/validation/bench_train (make validation/bench_train there)"; exit 1; }
            v=$(mpiexec -np "$n" "$dir/validation/bench_train" --steps "${STEPS:-24}" --batch "${BATCH:-16}" $extra \
                | sed -n 's/.*cells_per_cpu_s=\([0-9.]*\) cells_per_s=\([0-9.]*\).*/\1 \2/p')
            echo "$name $n $v" >>"$out"
            echo "repeat $r: $name, $n rank(s): $v (cells per CPU-s, cells per s)"
        done
    done
    r=$((r + 1))
done
echo "medians over ${REPEATS:-3} repeats (cells per CPU-second; cells per wall second; CPU ratio to ${1%%=*}):"
for n in ${RANKS:-1 2}; do
    base=""
    for b in "$@"; do
        name=${b%%=*}
        med=$(awk -v n="$name" -v r="$n" '$1 == n && $2 == r {print $3}' "$out" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
        medw=$(awk -v n="$name" -v r="$n" '$1 == n && $2 == r {print $4}' "$out" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
        [ -n "$base" ] || base=$med
        printf '%-10s %d rank(s): %8.2f cells/CPU-s %8.2f cells/s  x%.3f\n' "$name" "$n" "$med" "$medw" "$(echo "$med / $base" | bc -l)"
    done
done
rm -f "$out"
