#!/bin/sh
# roundtrip: files written by kida's h5ad writer open in anndata with exactly the content written
# (X, obs, var, obsm, uns), both new files and copies of an existing .h5ad with columns added.
# Exit 0 pass, 1 fail, 77 skip (no anndata for $PYTHON), 99 setup error.
set -u
B=${TOP_BUILDDIR:-.}
S=${TOP_SRCDIR:-..}
D=${KIDA_DATADIR:-$S/data}
PY=${PYTHON:-python3}
W="$B/tests/io/test_h5ad_write"
[ -x "$W" ] || { echo "missing $W"; exit 99; }
"$PY" -c "import anndata" 2>/dev/null || { echo "skip: $PY cannot import anndata"; exit 77; }
T=$(mktemp -d) || exit 99
trap 'rm -rf "$T"' EXIT
fail=0
run() { echo "+ $*"; "$@" || { echo "FAILED: $*"; fail=1; }; }
run "$W" --write "$T/std.h5ad"
run "$PY" "$S/validation/check_roundtrip.py" standard "$T/std.h5ad"
run "$W" --write-dense "$T/dense.h5ad"
run "$PY" "$S/validation/check_roundtrip.py" standard "$T/dense.h5ad" --dense
run "$W" --copy "$T/std.h5ad" "$T/copy.h5ad"
run "$PY" "$S/validation/check_roundtrip.py" copy "$T/copy.h5ad"
for f in pbmc_v3_query.h5ad pbmc_v2_ref.h5ad; do
  run "$W" --annotate "$D/$f" "$T/ann_$f"
  run "$PY" "$S/validation/check_roundtrip.py" annotate "$D/$f" "$T/ann_$f"
done
# a 10x .h5 copied into an AnnData file
run "$W" --annotate "$D/pbmc_v2_10x.h5" "$T/ann_10x.h5ad"
run "$PY" -c "
import anndata as ad, sys
a = ad.read_h5ad('$T/ann_10x.h5ad'); r = ad.read_h5ad('$D/pbmc_v2_ref.h5ad')
ok = a.shape == r.shape and (a.X != r.X).nnz == 0 and list(a.var_names) == list(r.var_names) \
     and list(a.var['gene_ids']) == list(r.var['gene_ids']) and list(a.obs_names) == list(r.obs_names)
print('10x copy equals the bundled h5ad:', ok); sys.exit(0 if ok else 1)"
# X as kida writes it: scipy's row and column indexing work (one integer type for indices/indptr)
run "$PY" -c "
import anndata as ad, numpy as np, sys
a = ad.read_h5ad('$T/ann_10x.h5ad')
rows = a.X[np.arange(0, a.n_obs, 7)][:, np.arange(0, a.n_vars, 5)]
ok = a.X.indices.dtype == a.X.indptr.dtype and rows.shape == (len(range(0, a.n_obs, 7)), len(range(0, a.n_vars, 5)))
print('X indexable by scipy:', ok, a.X.indices.dtype, a.X.indptr.dtype); sys.exit(0 if ok else 1)"
if [ $fail = 0 ]; then echo "roundtrip: pass"; else echo "roundtrip: FAIL"; fi
exit $fail
