#!/bin/sh
# oom_named: an allocation that fails names what it was for, for which file and field (here a GMT
# line of 150 MB read under a 200 MB address-space limit), with exit 1 and a HINT.
# Exit 0 pass, 1 fail, 77 skip (no gzip, or the program cannot start under the limit: sanitizer
# builds), 99 setup error.
set -u
R="${TOP_BUILDDIR:-.}/tests/fuzz/fuzz_replay"
[ -x "$R" ] || { echo "missing $R"; exit 99; }
command -v gzip >/dev/null || exit 77
T=$(mktemp -d) || exit 99
trap 'rm -rf "$T"' EXIT
# the replayer must start under the limit (a sanitizer build reserves terabytes of address space)
printf 'S\td\tA\n' >"$T/ok.gmt"
( ulimit -v 200000; exec "$R" gmt "$T/ok.gmt" ) >/dev/null 2>&1 || { echo "skip: cannot run under a 200 MB limit"; exit 77; }
head -c 150000000 /dev/zero | tr '\0' 'A' | gzip -1 >"$T/long.gmt.gz" || exit 99
( ulimit -v 200000; exec "$R" gmt "$T/long.gmt.gz" ) >"$T/out" 2>"$T/err"
rc=$?
fail=0
[ $rc -eq 1 ] || { echo "FAIL: exit $rc (want 1)"; fail=1; }
grep -q "ERROR .*GMT file '$T/long.gmt.gz' line 1: buffer for a line longer than .* out of memory" "$T/err" ||
    { echo "FAIL: the error does not name the file, the line and what was allocated"; fail=1; }
grep -q '^HINT: check the file' "$T/err" || { echo "FAIL: no HINT pointing at the file"; fail=1; }
grep -q 'batch-size' "$T/err" && { echo "FAIL: an input's allocation is blamed on --batch-size"; fail=1; }
cat "$T/err"
exit $fail
