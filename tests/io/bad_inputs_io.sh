#!/bin/sh
# bad_inputs_io: malformed input files fail with exit 1 and a message that names the file, the
# field at fault and carries a HINT line; valid-but-odd files (negative values, 0 cells) inspect
# fine; the writer never touches an existing output unless told to overwrite.
# Structure errors go through `$KIDA inspect FILE` (falls back to tests/io/io_driver --inspect when
# the kida binary is missing); read errors that need a pipeline-style read go through io_driver.
# Exit 0 pass, 1 fail, 99 setup error.
set -u
B=${TOP_BUILDDIR:-.}
GEN="$B/tests/io/make_bad_h5ad"
DRV="$B/tests/io/io_driver"
WR="$B/tests/io/test_h5ad_write"
for p in "$GEN" "$DRV" "$WR"; do [ -x "$p" ] || { echo "missing $p"; exit 99; }; done
if [ -n "${KIDA:-}" ] && [ -x "$KIDA" ]; then INSPECT="$KIDA inspect"; else INSPECT="$DRV --inspect"; fi
T=$(mktemp -d) || exit 99
trap 'rm -rf "$T"' EXIT
"$GEN" "$T" || { echo "fixture generator failed"; exit 99; }
fail=0; n=0

# expect_fail CMD... -- PATTERN...: exit status 1, stderr has every pattern and a HINT line
expect_fail() {
  cmd=""
  while [ "$1" != "--" ]; do cmd="$cmd '$1'"; shift; done
  shift
  n=$((n + 1))
  eval "$cmd" >"$T/out" 2>"$T/err"
  rc=$?
  ok=1
  [ $rc -eq 1 ] || { echo "FAIL: $cmd exited $rc (want 1)"; ok=0; }
  grep -q '^HINT: ' "$T/err" || { echo "FAIL: $cmd: no HINT line"; ok=0; }
  for pat in "$@"; do
    grep -qF -- "$pat" "$T/err" || { echo "FAIL: $cmd: message lacks '$pat'"; ok=0; }
  done
  if [ $ok = 0 ]; then fail=1; sed 's/^/    /' "$T/err"; else echo "ok: $(head -n 1 "$T/err" | cut -c1-150)"; fi
}

expect_ok() {   # expect_ok CMD... -- PATTERN...: exit 0 and stdout has every pattern
  cmd=""
  while [ "$1" != "--" ]; do cmd="$cmd '$1'"; shift; done
  shift
  n=$((n + 1))
  eval "$cmd" >"$T/out" 2>"$T/err"
  rc=$?
  ok=1
  [ $rc -eq 0 ] || { echo "FAIL: $cmd exited $rc (want 0)"; cat "$T/err"; ok=0; }
  for pat in "$@"; do grep -qF -- "$pat" "$T/out" || { echo "FAIL: $cmd: output lacks '$pat'"; ok=0; }; done
  [ $ok = 1 ] && echo "ok: $cmd" || fail=1
}

# structure errors, through inspect
expect_fail $INSPECT "$T/truncated.h5ad" -- "$T/truncated.h5ad" "truncated"
expect_fail $INSPECT "$T/not_hdf5.h5ad" -- "$T/not_hdf5.h5ad" "not an HDF5 file"
expect_fail $INSPECT "$T/missing_x.h5ad" -- "$T/missing_x.h5ad" "no 'X'"
expect_fail $INSPECT "$T/obs_len.h5ad" -- "$T/obs_len.h5ad" "obs/_index" "got 6, want 7"
expect_fail $INSPECT "$T/var_len.h5ad" -- "$T/var_len.h5ad" "var/_index" "got 4, want 5"
expect_fail $INSPECT "$T/no_shape.h5ad" -- "$T/no_shape.h5ad" "'shape'"
expect_fail $INSPECT "$T/indptr_len.h5ad" -- "$T/indptr_len.h5ad" "X/indptr" "got 7, want 8"
expect_fail $INSPECT "$T/indptr_decreasing.h5ad" -- "$T/indptr_decreasing.h5ad" "X/indptr" "decreases at row 1"
expect_fail $INSPECT "$T/indptr_end.h5ad" -- "$T/indptr_end.h5ad" "X/indptr" "want 0 ... 13"
expect_fail $INSPECT "$T/data_len.h5ad" -- "$T/data_len.h5ad" "X/data" "X/indices"
expect_fail $INSPECT "$T/unknown_encoding.h5ad" -- "$T/unknown_encoding.h5ad" "coo_matrix"
expect_fail $INSPECT "$T/dense_1d.h5ad" -- "$T/dense_1d.h5ad" "'X'" "dimensions"
expect_fail $INSPECT "$T/indices_oor.h5ad" -- "$T/indices_oor.h5ad" "X/indices" "column index 5 at row 3"
expect_fail $INSPECT "$T/indices_negative.h5ad" -- "$T/indices_negative.h5ad" "X/indices" "row 5"
expect_fail $INSPECT "$T/nan.h5ad" -- "$T/nan.h5ad" "X/data" "non-finite" "row 3"
expect_fail $INSPECT "$T/dense_inf.h5ad" -- "$T/dense_inf.h5ad" "'X'" "row 4, column 2"
expect_fail $INSPECT "$T/bad_codes.h5ad" -- "$T/bad_codes.h5ad" "obs/cell_type/codes" "code 5 at row 2"
expect_fail $INSPECT "$T/tenx_no_shape.h5" -- "$T/tenx_no_shape.h5" "matrix/shape"
expect_fail $INSPECT "$T/no_such_file.h5ad" -- "$T/no_such_file.h5ad" "No such file"
expect_fail $INSPECT "$T" -- "$T" "directory"

# read errors, through the pipeline-style driver
expect_fail "$DRV" --counts "$T/negative.h5ad" -- "$T/negative.h5ad" "X/data" "value -2 at row 5" "raw counts"
expect_fail "$DRV" --counts "$T/nan.h5ad" -- "$T/nan.h5ad" "X/data" "row 3"
expect_fail "$DRV" --label nope "$T/valid.h5ad" -- "$T/valid.h5ad" "obs column 'nope' not found" "'cell_type'"
expect_fail "$DRV" --layer nope "$T/valid.h5ad" -- "$T/valid.h5ad" "layer 'nope'" "layers/nope"
expect_fail "$DRV" --layer raw "$T/valid.h5ad" -- "$T/valid.h5ad" "raw/X"
if [ -n "${MPIEXEC:-}" ]; then
  expect_fail $MPIEXEC -n 2 "$DRV" "$T/indptr_decreasing.h5ad" -- "$T/indptr_decreasing.h5ad" "X/indptr"
  expect_fail $MPIEXEC -n 2 "$DRV" "$T/nan.h5ad" -- "$T/nan.h5ad" "X/data" "row 3"
fi

# valid files with odd content inspect fine
expect_ok $INSPECT "$T/valid.h5ad" -- "7 cells x 5 genes" "csr_matrix, float32, nnz 13" "cell_type" "1 NA"
expect_ok $INSPECT "$T/negative.h5ad" -- "negative values"
expect_ok $INSPECT "$T/empty.h5ad" -- "0 cells x 0 genes" "empty matrix"
expect_ok "$DRV" --counts --label cell_type "$T/valid.h5ad" -- "nnz 13" "sum 91.000000" "label A 3" "label NA 1"

# the writer: an existing output is never modified without --overwrite, not even by a failed run
cp "$T/valid.h5ad" "$T/out.h5ad"
expect_fail "$WR" --write "$T/out.h5ad" -- "$T/out.h5ad" "--overwrite" "already exists"
n=$((n + 1)); cmp -s "$T/valid.h5ad" "$T/out.h5ad" || { echo "FAIL: existing output changed"; fail=1; }
expect_fail "$WR" --die-mid "$T/out.h5ad" -- "$T/out.h5ad" "too_long"
n=$((n + 1)); cmp -s "$T/valid.h5ad" "$T/out.h5ad" || { echo "FAIL: output changed by a run that failed mid-write"; fail=1; }
n=$((n + 1)); ls -a "$T" | grep -q '^\.out\.h5ad\.tmp\.' && { echo "FAIL: a failed write left its temporary"; fail=1; }
"$WR" --crash-mid "$T/crash.h5ad" >/dev/null 2>&1; rc=$?
n=$((n + 1)); [ $rc -ne 0 ] || { echo "FAIL: --crash-mid did not crash"; fail=1; }   # a signal, or a sanitizer's exit
n=$((n + 1)); ls -a "$T" | grep -q '^\.crash\.h5ad\.tmp\.' && { echo "FAIL: a crash mid-write left its temporary"; fail=1; }
n=$((n + 1)); [ ! -e "$T/crash.h5ad" ] || { echo "FAIL: a crash mid-write left an output"; fail=1; }
expect_ok "$WR" --write "$T/out.h5ad" --overwrite --
n=$((n + 1)); cmp -s "$T/valid.h5ad" "$T/out.h5ad" && { echo "FAIL: --overwrite did not replace the output"; fail=1; }
expect_ok "$DRV" "$T/out.h5ad" -- "shape 6 4"

echo "bad_inputs_io: $n checks, $([ $fail = 0 ] && echo pass || echo FAIL)"
exit $fail
