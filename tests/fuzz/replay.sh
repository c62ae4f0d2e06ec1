#!/bin/sh
# replay: every input of the regression corpus (tests/fuzz/regress/<target>/<file>, listed with
# the text its error must contain in tests/fuzz/regress/EXPECT) is read by its target under the
# normal build: it must end in 10 s or less with exit 1, an ERROR naming the file, the expected
# text (the field at fault) and a HINT line. No input may crash, hang or be accepted.
# Exit 0 pass, 1 fail, 99 setup error.
set -u
S=${TOP_SRCDIR:?}
R="${TOP_BUILDDIR:-.}/tests/fuzz/fuzz_replay"
[ -x "$R" ] || { echo "missing $R"; exit 99; }
LIST="$S/tests/fuzz/regress/EXPECT"
[ -f "$LIST" ] || { echo "missing $LIST"; exit 99; }
T=$(mktemp -d) || exit 99
trap 'rm -rf "$T"' EXIT
fail=0; n=0
listed=" "
while IFS='	' read -r entry pattern; do
    case "$entry" in ''|'#'*) continue ;; esac
    target=${entry%%/*}
    file="$S/tests/fuzz/regress/$entry"
    listed="$listed$entry "
    n=$((n + 1))
    [ -f "$file" ] || { echo "FAIL: $entry is listed but missing"; fail=1; continue; }
    [ -n "$pattern" ] || { echo "FAIL: $entry has no expected text in EXPECT"; fail=1; continue; }
    timeout 10 "$R" "$target" "$file" >"$T/out" 2>"$T/err"
    rc=$?
    ok=1
    [ $rc -eq 1 ] || { echo "FAIL: $entry: exit $rc (want 1; 124 = more than 10 s)"; ok=0; }
    grep -q "ERROR .*$file" "$T/err" || { echo "FAIL: $entry: the error does not name the file"; ok=0; }
    grep -qF -- "$pattern" "$T/err" || { echo "FAIL: $entry: message lacks '$pattern'"; ok=0; }
    grep -q '^HINT: ' "$T/err" || { echo "FAIL: $entry: no HINT line"; ok=0; }
    if [ $ok = 1 ]; then echo "ok: $entry: $(head -n 1 "$T/err" | cut -c1-160)"; else fail=1; sed 's/^/    /' "$T/err" | head -n 20; fi
done <"$LIST"
# every corpus file is listed
for f in $(cd "$S/tests/fuzz/regress" && find . -type f ! -name EXPECT ! -name NOSEED | sed 's|^\./||' | sort); do
    case "$listed" in *" $f "*) ;; *) echo "FAIL: $f is in the corpus but not in EXPECT"; fail=1 ;; esac
done
echo "replay: $n inputs, $([ $fail = 0 ] && echo pass || echo FAIL)"
exit $fail
