# Every bad input to the pipeline is a clear error (exit 1, file and field named, a HINT) before
# any training starts.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
expect_fail "label key missing" 'nope' "$KIDA" annotate $SMALL --label-key nope --out "$WORK/o.h5ad"
expect_fail "single class" 'single class' "$KIDA" annotate $SMALL --label-key batch --out "$WORK/o.h5ad"
expect_fail "no gene overlap (IDs vs symbols)" 'gene-map' "$KIDA" annotate $SMALL --query data/pbmc_v2_10x.h5 --use-gene-ids --out "$WORK/o.h5ad"
expect_fail "missing query" 'needs --query' "$KIDA" annotate $SMALL --query "" --out "$WORK/o.h5ad"
expect_fail "query file absent" 'nothere.h5ad' "$KIDA" annotate $SMALL --query "$WORK/nothere.h5ad" --out "$WORK/o.h5ad"
expect_fail "unknown option" 'did you mean' "$KIDA" annotate $SMALL --epoch 3 --out "$WORK/o.h5ad"
expect_fail "bad choice" 'want one of kida|ki' "$KIDA" annotate $SMALL --mode fast --out "$WORK/o.h5ad"
expect_fail "bad number" 'want an integer' "$KIDA" annotate $SMALL --epochs many --out "$WORK/o.h5ad"
expect_fail "heads do not divide width" 'multiple of --heads' "$KIDA" annotate $SMALL --heads 3 --out "$WORK/o.h5ad"
expect_fail "option of another command" 'does not apply' "$KIDA" inspect --epochs 2 data/pbmc_v2_ref.h5ad
expect_fail "unknown vector path" 'KIDA_CPU_PATH=avx9' env KIDA_CPU_PATH=avx9 "$KIDA" annotate $SMALL --out "$WORK/o.h5ad"
# a lower vector path can be chosen (every CPU has the portable one)
KIDA_CPU_PATH=portable "$KIDA" --version | grep -q 'kernels: portable' || fail "KIDA_CPU_PATH=portable not taken"
pass "KIDA_CPU_PATH=portable"
# the HDF5 library the process runs on (docs/io.md: how a site checks that its own HDF5 is used)
"$KIDA" --version | grep -Eq '^HDF5: [0-9]+\.[0-9]+\.[0-9]+ loaded \(built against [0-9]+\.[0-9]+\.[0-9]+\)$' ||
    { "$KIDA" --version; fail "kida --version does not name the HDF5 library"; }
pass "kida --version names the HDF5 library"
printf 'epochs = 2\nbatchsize = 4\n' >"$WORK/bad.conf"
expect_fail "unknown key in config file" 'bad.conf:2' "$KIDA" annotate --config "$WORK/bad.conf"
expect_fail "missing gmt" 'gene set file' "$KIDA" annotate $SMALL --gmt "$WORK/none.gmt" --out "$WORK/o.h5ad"
# an empty query (0 cells) and a model file of another format version, made with h5py
$PYH5 - "$WORK" <<'PY' || exit 99
import sys, h5py, shutil
w = sys.argv[1]
shutil.copy("data/pbmc_v3_query.h5ad", w + "/empty.h5ad")
with h5py.File(w + "/empty.h5ad", "r+") as f:
    x = f["X"]
    n_vars = int(x.attrs["shape"][1])
    for k in ("data", "indices"):
        dt = x[k].dtype; del x[k]; x.create_dataset(k, shape=(0,), dtype=dt)
    del x["indptr"]; x.create_dataset("indptr", data=[0], dtype="int64")
    x.attrs["shape"] = [0, n_vars]
    obs = f["obs"]
    for k in list(obs.keys()):
        del obs[k]
    obs.create_dataset("_index", shape=(0,), dtype=h5py.string_dtype())
    obs.attrs["column-order"] = []
with h5py.File(w + "/fake_model.h5", "w") as f:
    f.attrs["format"] = "kida-model"; f.attrs["format_version"] = 99
PY
expect_fail "empty query" 'no cells' "$KIDA" annotate $SMALL --query "$WORK/empty.h5ad" --out "$WORK/o.h5ad"
expect_fail "model of another version" 'format version 99' "$KIDA" predict --model "$WORK/fake_model.h5" --query data/pbmc_v3_query.h5ad --out "$WORK/o.h5ad"
expect_fail "not a model" 'not a kida model' "$KIDA" predict --model data/pbmc_v3_query.h5ad --query data/pbmc_v3_query.h5ad --out "$WORK/o.h5ad"
[ ! -e "$WORK/o.h5ad" ] || fail "an output was written by a failing run"
pass "all bad inputs rejected"
