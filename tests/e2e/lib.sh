# Shared helpers for the shell tests (sourced). The harness exports KIDA, TOP_SRCDIR, MPIEXEC.
set -u
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
[ -n "${KIDA:-}" ] && [ -x "$KIDA" ] || { echo "KIDA not set or not built"; exit 99; }
cd "$TOP_SRCDIR" || exit 99
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kida-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SMALL="--config tests/e2e/small.conf"
# expect_fail NAME PATTERN CMD...: CMD must exit 1 and print PATTERN and a HINT line on stderr
expect_fail() {
    name=$1; pattern=$2; shift 2
    "$@" >"$WORK/out" 2>"$WORK/err"; rc=$?
    [ "$rc" -eq 1 ] || { cat "$WORK/out" "$WORK/err"; fail "$name: exit $rc, want 1"; }
    grep -q -- "$pattern" "$WORK/err" || { cat "$WORK/err"; fail "$name: message lacks '$pattern'"; }
    grep -q '^HINT: ' "$WORK/err" || { cat "$WORK/err"; fail "$name: no HINT line"; }
    pass "$name"
}
# h5 python helper: Debian's python3 has h5py (tools/install-deps --test)
PYH5=/usr/bin/python3
$PYH5 -c "import h5py" 2>/dev/null || PYH5=python3
