#!/bin/sh
# dist_chunks: tests/mpi/test_dist_chunks at 1, 2 and 3 ranks with KIDA_MPI_CHUNK=3 (every
# exchange through the chunked large-count paths), each run checking the default limit too.
# Exit 0 pass, 1 fail, 99 setup error; without mpiexec only the 1-rank run.
set -u
B=$(cd "${TOP_BUILDDIR:-.}" && pwd)
X="$B/tests/mpi/test_dist_chunks"
[ -x "$X" ] || { echo "missing $X"; exit 99; }
fail=0
for n in 1 2 3; do
    if [ $n = 1 ]; then run="$X"; elif [ -n "${MPIEXEC:-}" ]; then run="$MPIEXEC -n $n $X"; else continue; fi
    KIDA_MPI_CHUNK=3 $run || fail=1
done
[ -n "${MPIEXEC:-}" ] || echo "note: no mpiexec, only 1 rank ran"
exit $fail
