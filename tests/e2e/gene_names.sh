# Gene names as users' files have them: a var index of Ensembl IDs with the symbols in a column
# (CELLxGENE's feature_name, scanpy's gene_symbols) is read by its symbols, found automatically
# or named with --var-names-column; an Ensembl-only reference is translated by --gene-map. Each
# gives the annotation of the symbol-named files, bit for bit.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
$PYH5 -c "import anndata, h5py" 2>/dev/null || { echo "skip: $PYH5 cannot import anndata"; exit 77; }
$PYH5 - "$WORK" <<'PY' 2>/dev/null || { echo "setup error: writing the gene-name files (anndata)"; exit 99; }
import sys, pandas as pd, anndata as ad
w = sys.argv[1]
r = ad.read_h5ad("data/pbmc_v2_ref.h5ad")
q = ad.read_h5ad("data/pbmc_v3_query.h5ad")
ids = dict(zip(r.var_names, r.var["gene_ids"]))
with open(f"{w}/map.tsv", "w") as f:
    f.write("".join(f"{i}\t{s}\n" for s, i in ids.items()))
def by_id(a, column):   # index: Ensembl IDs (symbols without one keep their name), symbols in a column
    b = a.copy()
    b.var[column] = pd.Categorical(b.var_names) if column == "feature_name" else list(b.var_names)   # categorical, strings
    b.var_names = [ids.get(s, s) for s in b.var_names]
    return b
re = by_id(r, "feature_name"); re.write_h5ad(f"{w}/ref_feature_name.h5ad")
by_id(q, "gene_symbols").write_h5ad(f"{w}/q_gene_symbols.h5ad")
by_id(q, "feature_name").write_h5ad(f"{w}/q_feature_name.h5ad")
del re.var["feature_name"]; re.write_h5ad(f"{w}/ref_ids_only.h5ad")
PY
FAST="$SMALL --mode ki --epochs 2"
run() { name=$1; shift; "$KIDA" annotate $FAST --out "$WORK/$name.h5ad" "$@" >"$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log"; fail "$name"; }; }
same() {
    $PYH5 - "$WORK/symbols.h5ad" "$WORK/$1.h5ad" <<'PY' || fail "$1: another annotation than the symbol-named files"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
for k in ("obsm/X_kida", "obsm/kida_proba", "obs/kida_label/codes"):
    assert np.array_equal(a[k][:], b[k][:]), k
PY
}
run symbols
run auto --reference "$WORK/ref_feature_name.h5ad" --query "$WORK/q_gene_symbols.h5ad"
grep -q "reference $WORK/ref_feature_name.h5ad: the var index holds Ensembl IDs (.*); gene names from var\['feature_name'\]" "$WORK/auto.log" \
    || { cat "$WORK/auto.log"; fail "auto: no line for the reference's feature_name"; }
grep -q "query $WORK/q_gene_symbols.h5ad: the var index holds Ensembl IDs (.*); gene names from var\['gene_symbols'\]" "$WORK/auto.log" \
    || { cat "$WORK/auto.log"; fail "auto: no line for the query's gene_symbols"; }
same auto
pass "Ensembl index, symbols in feature_name / gene_symbols: found automatically"
run named --reference "$WORK/ref_feature_name.h5ad" --query "$WORK/q_feature_name.h5ad" --var-names-column feature_name
grep -q "query $WORK/q_feature_name.h5ad: gene names from var\['feature_name'\]" "$WORK/named.log" || { cat "$WORK/named.log"; fail "named: no log line"; }
same named
pass "--var-names-column feature_name"
run mapped --reference "$WORK/ref_ids_only.h5ad" --gene-map "$WORK/map.tsv"
same mapped
pass "--gene-map translates an Ensembl-only reference"
expect_fail "a var column that is not there" "q_gene_symbols.h5ad: var column 'feature_name' not found (var columns: gene_symbols)" \
    "$KIDA" annotate $FAST --reference "$WORK/ref_feature_name.h5ad" --query "$WORK/q_gene_symbols.h5ad" \
    --var-names-column feature_name --out "$WORK/x.h5ad"
