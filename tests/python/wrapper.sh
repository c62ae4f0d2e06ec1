# The Python package (python/): in a venv under the build folder, pip installs the newest anndata
# and ./python; kida.annotate on the bundled PBMC data with tests/e2e/small.conf's network gives
# obs kida_label with accuracy > 0.8 against obs cell_type, kida.predict with the saved model
# gives the same labels (also on 2 ranks when mpiexec works), and bad options raise
# kida.KidaError carrying kida's message. Skips (77) when venv or pip (PyPI) is unavailable.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
PY3=${PYTHON3:-python3}
V=$TOP_BUILDDIR/tests/python/venv
if [ ! -x "$V/bin/python" ]; then
    mkdir -p "$TOP_BUILDDIR/tests/python"
    "$PY3" -m venv "$V" >"$WORK/venv.log" 2>&1 || { cat "$WORK/venv.log"; rm -rf "$V"; echo "SKIP: python3 -m venv failed"; exit 77; }
fi
cp -R python "$WORK/pysrc"   # pip builds in the folder it installs from: keep the sources clean
"$V/bin/python" -m pip install -q --upgrade anndata "$WORK/pysrc" >"$WORK/pip.log" 2>&1 ||
    { tail -5 "$WORK/pip.log"; echo "SKIP: pip install anndata ./python failed (no PyPI?)"; exit 77; }
"$V/bin/python" -c 'import anndata, kida; print("anndata", anndata.__version__ if hasattr(anndata, "__version__") else "?")' 2>/dev/null
KIDA_BIN=$KIDA "$V/bin/python" - tests/e2e/small.conf "$WORK" <<'PY' || fail "python wrapper"
import os, shutil, sys
import anndata as ad
import kida

conf, work = sys.argv[1], sys.argv[2]
opts = {}
for line in open(conf):
    line = line.split("#")[0].strip()
    if "=" in line:
        k, v = (s.strip() for s in line.split("=", 1))
        if k not in ("reference", "query", "label-key"):
            opts[k.replace("-", "_")] = v
ref = ad.read_h5ad("data/pbmc_v2_ref.h5ad")
query = ad.read_h5ad("data/pbmc_v3_query.h5ad")
model = os.path.join(work, "model.h5")
q = kida.annotate(ref, query, label_key="cell_type", model_out=model, quiet=True, **opts)  # KIDA_BIN finds kida
assert isinstance(q, ad.AnnData) and q.n_obs == query.n_obs, q
assert list(q.obs_names) == list(query.obs_names)
for key in ("kida_label", "kida_conf", "kida_entropy"):
    assert key in q.obs, f"obs lacks {key}: {list(q.obs)}"
assert "X_kida" in q.obsm and "kida" in q.uns, (list(q.obsm), list(q.uns))
truth = q.obs["cell_type"]
known = truth.notna().to_numpy()
acc = float((q.obs["kida_label"].astype(str).to_numpy()[known] == truth.astype(str).to_numpy()[known]).mean())
print(f"kida.annotate: accuracy {acc:.4f} on {known.sum()} labelled cells")
assert acc > 0.8, acc

p = kida.predict(model, query, binary=os.environ["KIDA_BIN"], verbose=False)
assert (p.obs["kida_label"].astype(str).to_numpy() == q.obs["kida_label"].astype(str).to_numpy()).all()
print("kida.predict: the same labels as annotate's student")
mpiexec = os.environ.get("MPIEXEC") or shutil.which("mpiexec")
if mpiexec and shutil.which(mpiexec):
    p2 = kida.predict(model, "data/pbmc_v3_query.h5ad", ranks=2, mpiexec=mpiexec, verbose=False)
    assert (p2.obs["kida_label"].astype(str).to_numpy() == p.obs["kida_label"].astype(str).to_numpy()).all()
    print("kida.predict ranks=2 (a path as the query): the same labels")

def raises(fn, want):
    try:
        fn()
    except kida.KidaError as e:
        assert want in str(e), f"message {str(e)!r} lacks {want!r}"
        assert "HINT:" in str(e), str(e)
        print(f"KidaError as expected: {str(e).splitlines()[0]}")
        return
    raise AssertionError(f"no KidaError (want {want!r})")

raises(lambda: kida.predict(model, query, verbose=False, n_pathwys=3), "unknown option `n-pathwys`")
raises(lambda: kida.predict(model, query, verbose=False, unknown_threshold=2), "bad value for `unknown-threshold`")
raises(lambda: kida.annotate(ref, query, label_key="no_such_column", verbose=False, **opts),
       "adata_ref (written for kida as reference.h5ad): obs column 'no_such_column' not found")
try:
    kida.predict(model, query, binary=os.path.join(work, "none"))
    raise AssertionError("a missing binary did not raise")
except kida.KidaError as e:
    assert "not an executable" in str(e), str(e)
print("python wrapper ok")
PY
pass "kida.annotate / kida.predict from Python"
