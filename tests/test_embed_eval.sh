# kida evaluate --embedding on the small annotated PBMC run: the table lists X_kida and the PCA
# baseline with NMI/ARI in range, the PCA keeps the share of variance scanpy's PCA keeps, and a
# missing batch column is a clear error.
. "$TOP_SRCDIR/tests/lib.sh"
"$KIDA" annotate $SMALL --out "$WORK/out.h5ad" --model-out "$WORK/model.h5" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "annotate"; }
"$KIDA" evaluate --pred "$WORK/out.h5ad" --embedding --batch-key batch >"$WORK/eval" 2>&1 || { cat "$WORK/eval"; fail "evaluate --embedding"; }
cat "$WORK/eval"
grep -q "embedding clustering" "$WORK/eval" || fail "no embedding table: add 'if (c->embedding) embed_eval_report(path, c->truth_key, c->batch_key, stdout);' to cmd_evaluate"
awk '$1 == "X_kida" { ok = ($2 == 16 && $3 >= 2 && $4 > 0.5 && $4 <= 1 && $5 > 0.3 && $5 <= 1) } END { exit !ok }' "$WORK/eval" \
    || fail "X_kida row: want 16 dims, >= 2 clusters, NMI > 0.5, ARI > 0.3"
awk '$1 == "PCA-50" { ok = ($2 == 50 && $4 > 0.5 && $4 <= 1 && $5 > 0.3 && $5 <= 1) } END { exit !ok }' "$WORK/eval" \
    || fail "PCA row: want NMI > 0.5, ARI > 0.3"
grep -q "n/a (1 batch)" "$WORK/eval" || fail "one batch: mixing must be n/a"
share=$(sed -n 's/.*components hold \([0-9.]*\)% of the variance.*/\1/p' "$WORK/eval")
[ -n "$share" ] || fail "no variance share line"
if $PYTHON -c "import scanpy" 2>/dev/null; then
    $PYTHON - "$WORK/out.h5ad" "$share" <<'PY' || fail "PCA variance differs from scanpy's"
import sys, warnings
warnings.filterwarnings("ignore")
import scanpy as sc
a = sc.read_h5ad(sys.argv[1])
sc.pp.normalize_total(a, target_sum=1e4)
sc.pp.log1p(a)
sc.pp.highly_variable_genes(a, n_top_genes=3000, flavor="seurat")
a = a[:, a.var.highly_variable].copy()
sc.pp.scale(a, max_value=10)
sc.tl.pca(a, n_comps=50, svd_solver="arpack")
want = 100 * a.uns["pca"]["variance_ratio"].sum()
got = float(sys.argv[2])
print("variance held by 50 PCs: kida %.2f%%, scanpy %.2f%%" % (got, want))
assert abs(got - want) < 0.05
PY
    pass "PCA matches scanpy's"
else
    echo "skip: no scanpy in $PYTHON, PCA not compared"
fi
expect_fail "missing batch column" "no column nope" "$KIDA" evaluate --pred "$WORK/out.h5ad" --embedding --batch-key nope
pass "evaluate --embedding"
