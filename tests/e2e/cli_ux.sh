# The command line's first contact: `kida --help` gives every command's description whole,
# a subcommand without its required options names all of them at once (before the start-up
# table), and --version works after a subcommand.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
"$KIDA" --help >"$WORK/help" || fail "kida --help exits non-zero"
grep -q 'annotate every query cell\.' "$WORK/help" || { cat "$WORK/help"; fail "--help truncates annotate's description"; }
for cmd in annotate train predict explain evaluate genescore inspect report; do
    grep -q "^  $cmd " "$WORK/help" || fail "--help lacks $cmd"
done
awk 'length > 100 { bad = 1 } END { exit bad }' "$WORK/help" || fail "--help has a line over 100 columns"
pass "kida --help: every command, descriptions whole"

"$KIDA" annotate >"$WORK/out" 2>"$WORK/err" && fail "kida annotate without options exits 0"
grep -q 'kida annotate needs --reference, --query, --out' "$WORK/err" || { cat "$WORK/err"; fail "missing options not listed together"; }
grep -q '^HINT: usage: kida annotate' "$WORK/err" || { cat "$WORK/err"; fail "no usage hint"; }
[ ! -s "$WORK/out" ] || { head "$WORK/out"; fail "kida annotate printed the options table before the error"; }
"$KIDA" annotate --reference data/pbmc_v2_ref.h5ad >"$WORK/out" 2>"$WORK/err"
grep -q 'kida annotate needs --query, --out$' "$WORK/err" || { cat "$WORK/err"; fail "given --reference still listed"; }
"$KIDA" predict 2>"$WORK/err" >/dev/null
grep -q 'kida predict needs --model, --query, --out' "$WORK/err" || { cat "$WORK/err"; fail "predict's missing options"; }
"$KIDA" report 2>"$WORK/err" >/dev/null
grep -q 'kida report needs a file argument, --out' "$WORK/err" || { cat "$WORK/err"; fail "report's missing argument"; }
pass "missing required options listed first, all at once"

for cmd in annotate predict inspect; do
    v=$("$KIDA" $cmd --version) || fail "kida $cmd --version exits non-zero"
    echo "$v" | grep -q '^kida [0-9]' || fail "kida $cmd --version: $v"
done
pass "--version after a subcommand"

# a switch followed by a truth word takes it: `--best-checkpoint false` is off, not on plus a stray
# word; a stray word after an option that takes none is an error naming it
for form in "--best-checkpoint false" "--best-checkpoint=false" "--no-best-checkpoint" "--best-checkpoint off"; do
    v=$("$KIDA" annotate $SMALL $form --print-config 2>&1 | grep '^best-checkpoint = ') || fail "$form: no best-checkpoint line"
    [ "$v" = "best-checkpoint = false" ] || fail "$form gave '$v'"
done
v=$("$KIDA" annotate $SMALL --majority-voting true --print-config 2>&1 | grep '^majority-voting = ')
[ "$v" = "majority-voting = true" ] || fail "--majority-voting true gave '$v'"
expect_fail "stray word after a switch" "unexpected argument \`stray\`" "$KIDA" annotate $SMALL --majority-voting stray --print-config
