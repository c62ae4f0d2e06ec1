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
"$KIDA" annotate --help | grep -q "taken from the config file's folder" || fail "help does not say how config paths resolve"
pass "help"

# relative input paths in a config are the config file's; outputs stay the working folder's;
# gmt/genes names with no file beside the config are left to the shipped-data lookup
mkdir -p "$WORK/cfg/sub"
C=$(cd "$WORK/cfg" && pwd -P)
: >"$C/ref.h5ad"
: >"$C/sub/mine.gmt"
cat >"$C/sub/x.conf" <<CONF
reference = ../ref.h5ad
query = q1.h5ad,/abs/q2.h5ad
gmt = gene_sets/reactome.gmt,mine.gmt
genes = hg38
gene-map = ../map.tsv
out = o.h5ad
model-out = m.h5
CONF
(cd / && "$KIDA" annotate --config "$WORK/cfg/sub/x.conf" --print-config) >"$WORK/x" || fail "x.conf does not parse"
for want in "reference = $C/ref.h5ad" "query = $C/sub/q1.h5ad,/abs/q2.h5ad" "gmt = gene_sets/reactome.gmt,$C/sub/mine.gmt" \
    "genes = hg38" "gene-map = $C/map.tsv" "out = o.h5ad" "model-out = m.h5"; do
    grep -qx -- "$want" "$WORK/x" || { cat "$WORK/x"; fail "config paths: want '$want'"; }
done
(cd / && "$KIDA" annotate --config "$WORK/cfg/sub/x.conf" --reference r.h5ad --print-config) | grep -qx 'reference = r.h5ad' ||
    fail "a command-line path is not the working folder's"
pass "config paths are relative to the config file"
