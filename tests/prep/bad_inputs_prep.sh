#!/bin/sh
# bad_inputs_prep: the prep area's input errors, end to end through tests/prep/prep_check: each bad
# input must exit 1 with a message naming the file (and line) and a HINT; the good inputs next to
# them must pass. Exit 0 pass, 1 fail, 99 setup error.
CHECK="${TOP_BUILDDIR:-.}/tests/prep/prep_check"
[ -x "$CHECK" ] || { echo "setup error: $CHECK not built"; exit 99; }
T=$(mktemp -d "${TMPDIR:-/tmp}/kida_badprep.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
fail=0

# expect_fail NAME PATTERN... -- ARGS : exit status 1 and every PATTERN (grep -F) on stderr
expect_fail() {
    name=$1; shift
    pats=""
    while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
    shift
    "$CHECK" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    ok=1
    [ $rc -eq 1 ] || ok=0
    printf '%s\n' "$pats" | while IFS= read -r p; do
        [ -z "$p" ] && continue
        grep -qF -- "$p" "$T/err" || { echo "  missing on stderr: $p"; exit 1; }
    done || ok=0
    if [ $ok = 1 ]; then echo "ok   $name"; else echo "FAIL $name (exit $rc)"; sed 's/^/     /' "$T/err"; fail=1; fi
}
expect_ok() {
    name=$1; want=$2; shift 2
    if "$CHECK" "$@" >"$T/out" 2>"$T/err" && grep -qF -- "$want" "$T/out"; then echo "ok   $name"
    else echo "FAIL $name"; cat "$T/out" "$T/err" | sed 's/^/     /'; fail=1; fi
}

# GMT
printf 'A\tdesc\tG1\tG2\r\n\r\nB\tdesc\tG3\r\n' >"$T/good.gmt"
printf 'A\tdesc\tG1\nJUSTANAME\nB\tdesc\tG3\n' >"$T/short.gmt"
expect_ok "GMT with CRLF and a blank line" "sets 2" gmt "$T/good.gmt"
expect_fail "GMT line with one field" "short.gmt' line 2" "fewer than 2" "HINT:" -- gmt "$T/good.gmt" "$T/short.gmt"
expect_fail "GMT missing" "cannot open GMT file" "nope.gmt" "HINT:" -- gmt "$T/nope.gmt"
printf 'X\tdesc\n\n' >"$T/empty.gmt"
expect_fail "GMT without genes" "no gene set with genes" -- gmt "$T/empty.gmt"
printf '\037\213\010\000\000\000\000\000' >"$T/trunc.gmt.gz"   # a gzip header and nothing else
expect_fail "GMT .gz truncated" "trunc.gmt.gz" -- gmt "$T/trunc.gmt.gz"

# gene coordinates
printf 'chr1\t10\t20\tA\t+\nchr1\t30\t40\tB\t-\n' >"$T/good.bed"
printf 'chr1\t10\t20\tA\t+\nchr1\tthirty\t40\tB\t-\n' >"$T/bad.bed"
printf 'chr1\tsrc\tgene\t1\t10\t.\t+\n' >"$T/bad.gtf"
expect_ok "BED gene coordinates" "genes 2" annot "$T/good.bed"
expect_fail "BED non-integer start" "bad.bed' line 2" "field 2 (start)" "HINT:" -- annot "$T/bad.bed"
expect_fail "GTF with 7 fields" "bad.gtf' line 1" "want 9" -- annot "$T/bad.gtf"
expect_fail "annotation with unknown extension" "unknown format" -- annot "$T/good.gmt"

# gene matching
printf 'CD3E\nMS4A1\nLYZ\nNKG7\nGNLY\nCD14\n' >"$T/model.txt"
printf 'ENSG00000198851\nENSG00000156738\nENSG00000090382\nENSG00000105374\nENSG00000115523\nXIST\n' >"$T/ids.txt"
printf 'ENSG00000198851\tCD3E\nENSG00000156738\tMS4A1\nENSG00000090382\tLYZ\nENSG00000105374\tNKG7\nENSG00000115523\tGNLY\n' >"$T/map.tsv"
printf 'cd3e\nms4a1\nlyz\nnkg7\n' >"$T/lower.txt"
expect_fail "query with Ensembl IDs" "too few model genes" "ids.txt" "got 0/6" "Ensembl" "--gene-map" -- match "$T/model.txt" "$T/ids.txt"
expect_ok "query with Ensembl IDs and --gene-map" "matched 5/6" match "$T/model.txt" "$T/ids.txt" --map "$T/map.tsv"
expect_fail "lower-case query" "got 0/6" "--gene-case-insensitive" -- match "$T/model.txt" "$T/lower.txt"
expect_ok "lower-case query, case-insensitive" "matched 4/6" match "$T/model.txt" "$T/lower.txt" --ci
expect_fail "overlap floor 0.9" "want >= 90.0%" -- match "$T/model.txt" "$T/lower.txt" --ci --min 0.9
printf 'ENSG00000198851\n' >"$T/badmap.tsv"
expect_fail "map file with one column" "badmap.tsv' line 1" -- match "$T/model.txt" "$T/ids.txt" --map "$T/badmap.tsv"

[ $fail = 0 ] && echo PASS || echo FAIL
exit $fail
