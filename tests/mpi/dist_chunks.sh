#!/bin/sh
# dist_chunks: tests/mpi/test_dist_chunks at 1, 2 and 3 ranks, with the default message limit and
# with KIDA_MPI_CHUNK=3 (every exchange through the chunked large-count paths). Exit 0 pass, 1
# fail, 99 setup error; without mpiexec only the 1-rank runs.
set -u
B=$(cd "${TOP_BUILDDIR:-.}" && pwd)
X="$B/tests/mpi/test_dist_chunks"
[ -x "$X" ] || { echo "missing $X"; exit 99; }
fail=0
for chunk in "" 3; do
    for n in 1 2 3; do
        if [ $n = 1 ]; then run="$X"; elif [ -n "${MPIEXEC:-}" ]; then run="$MPIEXEC -n $n $X"; else continue; fi
        if [ -n "$chunk" ]; then KIDA_MPI_CHUNK=$chunk $run || fail=1; else $run || fail=1; fi
    done
done
[ -n "${MPIEXEC:-}" ] || echo "note: no mpiexec, only 1 rank ran"
exit $fail
