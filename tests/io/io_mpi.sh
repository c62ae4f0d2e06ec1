#!/bin/sh
# io_mpi: reading through the MPI-IO driver. 1, 2 and 3 ranks (each reading its own block of
# rows) give the same totals and label counts on the bundled files, and the reader unit test
# passes with every rank opening files collectively. Exit 0 pass, 1 fail, 77 no mpiexec.
set -u
B=$(cd "${TOP_BUILDDIR:-.}" && pwd)
S=${TOP_SRCDIR:-..}
D=${KIDA_DATADIR:-$S/data}
DRV="$B/tests/io/io_driver"
[ -n "${MPIEXEC:-}" ] || { echo "skip: no mpiexec"; exit 77; }
[ -x "$DRV" ] || { echo "missing $DRV"; exit 99; }
T=$(mktemp -d) || exit 99
trap 'rm -rf "$T"' EXIT
fail=0
for f in pbmc_v2_ref.h5ad pbmc_v3_query.h5ad pbmc_v2_10x.h5; do
  lab="--label cell_type"; [ "$f" = pbmc_v2_10x.h5 ] && lab=""
  "$DRV" --counts $lab "$D/$f" >"$T/1" || { echo "FAIL: 1 rank on $f"; fail=1; continue; }
  for n in 2 3; do
    $MPIEXEC -n $n "$DRV" --counts $lab "$D/$f" >"$T/$n" 2>"$T/err" || { echo "FAIL: $n ranks on $f"; cat "$T/err"; fail=1; continue; }
    if cmp -s "$T/1" "$T/$n"; then echo "ok: $f 1 rank == $n ranks ($(grep '^sum' "$T/1"))"
    else echo "FAIL: $f differs between 1 and $n ranks"; diff "$T/1" "$T/$n"; fail=1; fi
  done
done
(cd "$T" && $MPIEXEC -n 2 "$B/tests/io/test_h5ad") >"$T/unit" 2>&1 || { echo "FAIL: test_h5ad on 2 ranks"; cat "$T/unit"; fail=1; }
grep -q ' 0 failed' "$T/unit" && echo "ok: test_h5ad on 2 ranks: $(grep -m1 passed "$T/unit")"
exit $fail
