# Files as scanpy and CellTypist users have them: log1p-normalised X (with and without
# uns['log1p']), counts kept in layers['counts'], X an HVG subset with all genes' counts in .raw.
# kida reads the counts where the file has them and turns log1p values back into counts where
# it has not, so the annotation is bit-identical to the one from the count files (and the counts in the output's X); the log says
# which matrix each file gave. Scaled X is refused, naming the layer that holds counts.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
$PYH5 -c "import anndata, h5py" 2>/dev/null || { echo "skip: $PYH5 cannot import anndata"; exit 77; }
$PYH5 - "$WORK" <<'PY' 2>/dev/null || { echo "setup error: writing the user files (anndata)"; exit 99; }
import sys, numpy as np, anndata as ad, scipy.sparse as sp
w = sys.argv[1]
def log1p_norm(X):   # sc.pp.normalize_total(target_sum=1e4); sc.pp.log1p, in float32 as scanpy does
    X = sp.csr_matrix(X, dtype=np.float32)
    X = sp.diags((1e4 / np.asarray(X.sum(1)).ravel()).astype(np.float32)) @ X
    X.data = np.log1p(X.data)
    return X.astype(np.float32)
r = ad.read_h5ad("data/pbmc_v2_ref.h5ad")
q = ad.read_h5ad("data/pbmc_v3_query.h5ad")
rl = r.copy(); rl.X = log1p_norm(r.X); rl.uns["log1p"] = {"base": None}
rl.write_h5ad(f"{w}/ref_log1p.h5ad")
q1 = q[:300].copy(); q1.X = log1p_norm(q1.X)                  # log1p, no uns, no counts anywhere
q1.write_h5ad(f"{w}/q_log1p.h5ad")
q2 = q[300:600].copy(); q2.layers["counts"] = q2.X.copy(); q2.X = log1p_norm(q2.X); q2.uns["log1p"] = {"base": None}
q2.write_h5ad(f"{w}/q_layer.h5ad")
q3 = q[600:].copy(); q3.raw = q3                              # .raw: counts of all genes
hvg = np.argsort(-np.asarray(q3.X.sum(0)).ravel())[:2000]
q3.X = log1p_norm(q3.X); q3 = q3[:, np.sort(hvg)].copy()       # X: log1p, then 2000 genes kept
q3.write_h5ad(f"{w}/q_hvg_raw.h5ad")
h = q[:300].copy(); h.raw = h                                # X: counts of 300 rare genes, .raw: all
h = h[:, np.argsort(np.asarray(h.X.sum(0)).ravel())[:300]].copy(); h.write_h5ad(f"{w}/q_subset_counts.h5ad")
s = q[:300].copy(); Xd = log1p_norm(s.X).toarray(); s.layers["counts"] = s.X.copy()
s.X = (Xd - Xd.mean(0)) / (Xd.std(0) + 1e-6)                 # sc.pp.scale
s.write_h5ad(f"{w}/q_scaled.h5ad")
s2 = s.copy(); del s2.layers["counts"]; s2.write_h5ad(f"{w}/q_scaled_only.h5ad")
PY
FAST="$SMALL --mode ki --epochs 3"
"$KIDA" annotate $FAST --out "$WORK/counts.h5ad" >"$WORK/log1" 2>&1 || { cat "$WORK/log1"; fail "count files"; }
"$KIDA" annotate $FAST --reference "$WORK/ref_log1p.h5ad" --query "$WORK/q_log1p.h5ad,$WORK/q_layer.h5ad,$WORK/q_hvg_raw.h5ad" \
    --out "$WORK/users.h5ad" >"$WORK/log2" 2>&1 || { cat "$WORK/log2"; fail "user files"; }
check_log() { grep -q -- "$1" "$WORK/log2" || { cat "$WORK/log2"; fail "log lacks: $1"; }; }
check_log "reference $WORK/ref_log1p.h5ad: reading X, which holds log1p-normalised values (uns\['log1p'\]; per-cell totals 10000 after expm1; counts recoverable in 100% of 996 sampled cells)"
check_log "query $WORK/q_log1p.h5ad: reading X, which holds log1p-normalised values (per-cell totals 10000 after expm1"
check_log "query $WORK/q_layer.h5ad: X holds log1p-normalised values .*; reading layers/counts instead, which holds integer counts (14688 genes; --layer X reads X)"
check_log "query $WORK/q_hvg_raw.h5ad: X holds log1p-normalised values (per-cell totals differ, a subset of the genes?.*; reading raw/X instead, which holds integer counts (14688 genes"
$PYH5 - "$WORK" <<'PY' || fail "user files give another annotation than the count files"
import sys, h5py, numpy as np
w = sys.argv[1]
a, b = h5py.File(f"{w}/counts.h5ad"), h5py.File(f"{w}/users.h5ad")
for k in ("obsm/X_kida", "obsm/kida_proba", "obs/kida_label/codes"):
    x, y = a[k][:], b[k][:]
    print(f"{k}: max abs diff {np.abs(x.astype(np.float64) - y).max():g}")
    assert np.array_equal(x, y), k
inp = [x.decode() if isinstance(x, bytes) else x for x in b["uns/kida/query_inputs"][:]]
print("uns kida/query_inputs:", inp)
assert inp == [f"{w}/q_log1p.h5ad: X (log1p-normalised values, turned back into counts); gene names: the var index",
               f"{w}/q_layer.h5ad: layers/counts (integer counts); gene names: the var index",
               f"{w}/q_hvg_raw.h5ad: raw/X (integer counts); gene names: the var index"], inp
import anndata as ad, scipy.sparse as sp
S, L = ad.read_h5ad(f"{w}/counts.h5ad"), ad.read_h5ad(f"{w}/users.h5ad")   # X of a list: counts on the model genes
col = {g: i for i, g in enumerate(S.var_names)}
have = [j for j, g in enumerate(L.var_names) if g in col]
SX, LX = sp.csr_matrix(S.X, dtype=np.float64), sp.csr_matrix(L.X, dtype=np.float64)
d = abs(SX[:, [col[L.var_names[j]] for j in have]] - LX[:, have]).max()
print(f"X (counts on the {len(have)} model genes the query has): max abs diff {d:g}")
assert d == 0 and len(have) > 600
PY
pass "log1p X, counts in a layer, HVG X with counts in .raw: the count files' annotation, bit for bit"

# the layer options: --reference-layer raw reads raw/X (with raw/var's names) of an HVG file
"$KIDA" annotate $FAST --reference "$WORK/q_hvg_raw.h5ad" --label-key cell_type --reference-layer raw \
    --query "$WORK/q_layer.h5ad" --query-layer counts --out "$WORK/layers.h5ad" >"$WORK/log3" 2>&1 \
    || { cat "$WORK/log3"; fail "--reference-layer raw --query-layer counts"; }
grep -q "reference $WORK/q_hvg_raw.h5ad: reading raw/X (integer counts, 14688 genes)" "$WORK/log3" || { cat "$WORK/log3"; fail "raw not read"; }
grep -q "query $WORK/q_layer.h5ad: reading layers/counts (integer counts" "$WORK/log3" || { cat "$WORK/log3"; fail "layer not read"; }
pass "--reference-layer raw, --query-layer counts"

# scaled X: refused before any work, naming the matrix that holds counts
expect_fail "scaled X asked for, counts in a layer" "--query-layer X holds scaled values" \
    "$KIDA" annotate $FAST --query "$WORK/q_scaled.h5ad" --query-layer X --out "$WORK/x.h5ad"
grep -q "^HINT: read the counts instead: --query-layer counts (layers/counts holds integer counts)" "$WORK/err" \
    || { cat "$WORK/err"; fail "hint does not name --query-layer counts"; }
expect_fail "scaled X only" "X holds scaled values (negative, e.g. .*); no matrix of the file holds counts or normalised values" \
    "$KIDA" annotate $FAST --query "$WORK/q_scaled_only.h5ad" --out "$WORK/x.h5ad"
expect_fail "--layer sets the query's too" "pbmc_v3_query.h5ad: layer 'nope' not found" \
    "$KIDA" annotate $FAST --layer nope --reference-layer X --out "$WORK/x.h5ad"
[ ! -e "$WORK/x.h5ad" ] || fail "an output was written by a refused run"
"$KIDA" annotate $FAST --query "$WORK/q_scaled.h5ad" --out "$WORK/sc.h5ad" >"$WORK/log4" 2>&1 || { cat "$WORK/log4"; fail "scaled X, counts layer, auto"; }
grep -q "X holds scaled values (negative, e.g. .*); reading layers/counts instead" "$WORK/log4" || { cat "$WORK/log4"; fail "auto did not take layers/counts"; }
pass "scaled X: refused, or its counts layer read"

# a query whose X holds few genes and whose .raw holds all: the overlap error says to read .raw
expect_fail "HVG-subset X, low overlap" "too few model genes found in $WORK/q_subset_counts.h5ad" \
    "$KIDA" annotate $FAST --query "$WORK/q_subset_counts.h5ad" --out "$WORK/x.h5ad"
grep -q "holds only 300 genes (highly variable genes?) and its .raw 14688: read .raw with --query-layer raw" "$WORK/err" \
    || { cat "$WORK/err"; fail "the overlap hint does not suggest .raw"; }
# kida inspect says what each matrix holds
"$KIDA" inspect "$WORK/q_layer.h5ad" >"$WORK/insp" 2>&1 || { cat "$WORK/insp"; fail "inspect"; }
grep -q "^holds:      log1p-normalised values (uns\['log1p'\]" "$WORK/insp" || { cat "$WORK/insp"; fail "inspect: no holds line"; }
grep -q "^others:     layers/counts: integer counts" "$WORK/insp" || { cat "$WORK/insp"; fail "inspect: no others line"; }
pass "kida inspect: what X and the layers hold"
