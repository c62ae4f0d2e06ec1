# A damaged checkpoint is refused on --resume before anything is read into a buffer its sizes do
# not fit: state/hist must be (epochs, 5) (a (n, 7) one once filled an n x 5 buffer with 7 n values).
. "$TOP_SRCDIR/tests/e2e/lib.sh"
$PYH5 -c "import h5py" 2>/dev/null || { echo "skip: no h5py"; exit 77; }
KIDA_STOP_AFTER_STEPS=10 "$KIDA" annotate $SMALL --out "$WORK/r.h5ad" --checkpoint-every 5 --quiet >"$WORK/log1" 2>&1; rc=$?
[ "$rc" -eq 75 ] || { cat "$WORK/log1"; fail "stopped run exit $rc, want 75"; }
ck="$WORK/r.h5ad.ckpt/checkpoint.h5"
[ -e "$ck" ] || fail "no checkpoint"
cp "$ck" "$WORK/good.h5"
for shape in "3,7" "15"; do
    cp "$WORK/good.h5" "$ck"
    $PYH5 - "$ck" "$shape" <<'PY' || exit 99
import sys, h5py, numpy as np
shape = tuple(int(v) for v in sys.argv[2].split(","))
with h5py.File(sys.argv[1], "r+") as f:
    del f["state/hist"]
    f["state"].create_dataset("hist", data=np.ones(shape))
PY
    want="want 2 dimensions, 5 columns"
    expect_fail "state/hist of shape ($shape) refused" "dataset state/hist has .*$want" \
        "$KIDA" annotate $SMALL --out "$WORK/r.h5ad" --resume
done
cp "$WORK/good.h5" "$ck"
"$KIDA" annotate $SMALL --out "$WORK/r.h5ad" --resume --quiet >"$WORK/log2" 2>&1 || { cat "$WORK/log2"; fail "resume from the intact checkpoint"; }
pass "the intact checkpoint still resumes"
