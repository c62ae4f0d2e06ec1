# Every shipped config parses, and the precedence defaults < file < command line holds.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
for f in configs/*.conf tests/e2e/small.conf; do
    "$KIDA" annotate --config "$f" --print-config >"$WORK/p" 2>"$WORK/e" || { cat "$WORK/e"; fail "$f does not parse"; }
done
pass "configs parse"
out=$("$KIDA" annotate --config tests/e2e/small.conf --epochs 5 --print-config)
echo "$out" | grep -qx 'epochs = 5' || fail "command line does not win over the file"
echo "$out" | grep -qx 'width = 16' || fail "file does not win over the default"
echo "$out" | grep -qx 'alpha = 0.8' || fail "default lost"
"$KIDA" annotate --config tests/e2e/small.conf --print-config >"$WORK/a.conf"
"$KIDA" annotate --config "$WORK/a.conf" --print-config | grep -v '^#' >"$WORK/b"
grep -v '^#' "$WORK/a.conf" | cmp -s - "$WORK/b" || fail "--print-config output does not reproduce itself"
pass "precedence and print-config round trip"
for o in --anchor-fraction --query-modality --reference-modality --anchor-groups; do
    "$KIDA" annotate --help | grep -q -- "$o" || fail "help lacks $o"
done
"$KIDA" --help | grep -q 'annotate' || fail "top-level help"
pass "help"
