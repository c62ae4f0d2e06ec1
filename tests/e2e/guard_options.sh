# Options and inputs that used to give a silent wrong answer (exit 0) or fail after training are
# refused before any training, in seconds: out-of-range options (their ranges are in --help), an
# untrained annotation, a student that cannot learn, a network larger than the machine, a class
# named `unknown`, duplicate reference gene names, a damaged part of the query that only the
# output's copy reads, a model file with damaged network sizes. A run whose cells come back mostly
# `unknown` ends with a warning that says so.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
O="--out $WORK/o.h5ad"
expect_fail "--lr 1e308" 'bad value for `lr` (got 1e308, want a number in \[1e-08, 10\])' "$KIDA" annotate $SMALL --lr 1e308 $O
expect_fail "--lr -1" 'bad value for `lr` (got -1' "$KIDA" annotate $SMALL --lr -1 $O
expect_fail "--kd-temperature 0" 'bad value for `kd-temperature`' "$KIDA" annotate $SMALL --kd-temperature 0 $O
expect_fail "--layers 2^62" 'bad value for `layers` (got 4611686018427387904' "$KIDA" annotate $SMALL --layers 4611686018427387904 $O
expect_fail "--width 1e9" 'bad value for `width` (got 1000000000' "$KIDA" annotate $SMALL --width 1000000000 $O
# the widest the kernels take (was accepted up to 8192, then refused after preprocessing)
expect_fail "--width 8192" 'bad value for `width` (got 8192' "$KIDA" annotate $SMALL --width 8192 --heads 8 $O
expect_fail "--threads 100000" 'bad value for `threads`' "$KIDA" annotate $SMALL --threads 100000 $O
expect_fail "--holdout 0.999" 'bad value for `holdout`' "$KIDA" annotate $SMALL --holdout 0.999 $O
expect_fail "--epochs 0" 'epochs 0 trains no teacher' "$KIDA" annotate $SMALL --epochs 0 $O
expect_fail "--alpha 0 --beta 0" 'student would learn nothing' "$KIDA" annotate $SMALL --alpha 0 --beta 0 $O
"$KIDA" annotate --help | grep -q -- '--width N .*(range \[1, 4096\], default: 128)' || fail "--help does not state the range of --width"
pass "--help states the ranges"
expect_fail "network larger than BLAS sizes" 'too large for BLAS' \
    "$KIDA" annotate $SMALL --width 4096 --heads 8 --batch-size 1048576 $O
expect_fail "network larger than the memory" 'the network needs' \
    "$KIDA" annotate $SMALL --width 4096 --heads 8 --layers 256 --batch-size 2 $O
$PYH5 - "$WORK" <<'PY' || exit 99
import sys, shutil, h5py, numpy as np
w = sys.argv[1]
shutil.copy("data/pbmc_v2_ref.h5ad", w + "/unknown_ref.h5ad")
with h5py.File(w + "/unknown_ref.h5ad", "r+") as f:
    c = f["obs/cell_type/categories"]
    v = [x.decode() if isinstance(x, bytes) else x for x in c[:]]
    v[0] = "unknown"
    del f["obs/cell_type/categories"]
    f["obs/cell_type"].create_dataset("categories", data=np.array(v, dtype=object), dtype=h5py.string_dtype())
shutil.copy("data/pbmc_v3_query.h5ad", w + "/badlayer_query.h5ad")
with h5py.File(w + "/badlayer_query.h5ad", "r+") as f:
    n = f["obs"][f["obs"].attrs["_index"]].shape[0]
    g = f.require_group("layers")
    g.attrs["encoding-type"], g.attrs["encoding-version"] = "dict", "0.1.0"
    g.create_dataset("bad", shape=(n, 1 << 30), dtype="f4", chunks=(1, 4096))   # nothing written
shutil.copy("data/pbmc_v2_ref.h5ad", w + "/Unknown_ref.h5ad")
with h5py.File(w + "/Unknown_ref.h5ad", "r+") as f:   # CellTypist-style `Unknown`
    v = [x.decode() if isinstance(x, bytes) else x for x in f["obs/cell_type/categories"][:]]
    v[0] = "Unknown"
    del f["obs/cell_type/categories"]
    f["obs/cell_type"].create_dataset("categories", data=np.array(v, dtype=object), dtype=h5py.string_dtype())
shutil.copy("data/pbmc_v2_ref.h5ad", w + "/dupgenes_ref.h5ad")
with h5py.File(w + "/dupgenes_ref.h5ad", "r+") as f:
    ix = f["var"].attrs["_index"]
    ix = ix.decode() if isinstance(ix, bytes) else ix
    d = f["var"][ix]
    v = d[:]
    v[7] = v[3]
    d[...] = v
PY
expect_fail "class named unknown" 'class named `unknown`' "$KIDA" annotate $SMALL --reference "$WORK/unknown_ref.h5ad" $O
grep -q "mark those cells as missing" "$WORK/err" || fail "the hint does not say how to fix the labels"
expect_fail "class named Unknown" 'class named `Unknown`, a name kida reserves' "$KIDA" annotate $SMALL --reference "$WORK/Unknown_ref.h5ad" $O
expect_fail "duplicate reference genes" 'is used by genes 3 and 7' "$KIDA" annotate $SMALL --reference "$WORK/dupgenes_ref.h5ad" $O
expect_fail "damaged part of the query that the output copies" "dataset 'layers/bad' declares" \
    "$KIDA" annotate $SMALL --query "$WORK/badlayer_query.h5ad" $O
grep -q "teacher |" "$WORK/out" && fail "training started before the query's copied parts were checked"
[ ! -e "$WORK/o.h5ad" ] || fail "an output was written by a failing run"
# most cells unknown: a warning at the end
"$KIDA" train $SMALL --epochs 1 --model-out "$WORK/m.h5" --quiet >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "train"; }
"$KIDA" predict --model "$WORK/m.h5" --query data/pbmc_v3_query.h5ad --unknown-threshold 1 --out "$WORK/p.h5ad" \
    >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "predict"; }
grep -q "WARNING: .* are \`unknown\`" "$WORK/log" || { cat "$WORK/log"; fail "no warning when most cells are unknown"; }
pass "a run with most cells unknown warns"
# a model file with a damaged network size (a width whose products wrap around) is refused before
# any network is built
cp "$WORK/m.h5" "$WORK/baddims.h5"
$PYH5 - "$WORK/baddims.h5" <<'PY' || exit 99
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    f["dims"].attrs["C"] = np.int64(1 << 60)
PY
expect_fail "model file with a damaged width" "/dims attribute C = 1152921504606846976 is outside" \
    "$KIDA" predict --model "$WORK/baddims.h5" --query data/pbmc_v3_query.h5ad --out "$WORK/p2.h5ad"
