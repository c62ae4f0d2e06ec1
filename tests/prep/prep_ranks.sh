#!/bin/sh
# prep_ranks: the preprocessing is the same for any rank count: tests/prep/prep_dump on the bundled
# PBMC data with 1 and 3 ranks must write identical statistics and preprocessed query values
# (compared exactly with h5diff). Exit 0 pass, 1 fail, 77 skip (no mpiexec/h5diff), 99 setup.
SRC="${TOP_SRCDIR:-.}"
DATA="${KIDA_DATADIR:-$SRC/data}"
DUMP="${TOP_BUILDDIR:-.}/tests/prep/prep_dump"
MPI="${MPIEXEC:-mpiexec}"
[ -x "$DUMP" ] || { echo "setup error: $DUMP not built"; exit 99; }
[ -f "$DATA/pbmc_v2_ref.h5ad" ] || { echo "setup error: bundled data missing in $DATA"; exit 99; }
command -v "$MPI" >/dev/null 2>&1 || { echo "SKIP: no mpiexec"; exit 77; }
command -v h5diff >/dev/null 2>&1 || { echo "SKIP: no h5diff (apt-get install hdf5-tools)"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/kida_prepranks.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
"$DUMP" "$DATA/pbmc_v2_ref.h5ad" "$DATA/pbmc_v3_query.h5ad" "$T/one.h5" 3000 >"$T/log1" 2>&1 ||
    { cat "$T/log1"; echo "FAIL: 1 rank"; exit 1; }
"$MPI" -n 3 "$DUMP" "$DATA/pbmc_v2_ref.h5ad" "$DATA/pbmc_v3_query.h5ad" "$T/three.h5" 3000 >"$T/log3" 2>&1 ||
    { cat "$T/log3"; echo "FAIL: 3 ranks"; exit 1; }
if h5diff "$T/one.h5" "$T/three.h5" >"$T/diff" 2>&1; then
    echo "ok   1 and 3 ranks: HVGs, mean/std/zero and the preprocessed query identical (h5diff, exact)"
    echo PASS
    exit 0
fi
head -40 "$T/diff"
echo "FAIL: 1 and 3 ranks differ"
exit 1
