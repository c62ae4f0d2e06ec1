# kida annotate --teacher MODEL: the teacher of `kida train` stands in for the teacher's training,
# and the run is then the one that trains its own teacher, to the bit (teacher and student
# probabilities); a model for another network or reference is refused before any work.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
"$KIDA" train $SMALL --model-out "$WORK/t.h5" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "train"; }
"$KIDA" annotate $SMALL --out "$WORK/a.h5ad" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "annotate"; }
"$KIDA" annotate $SMALL --teacher "$WORK/t.h5" --out "$WORK/b.h5ad" >"$WORK/logb" 2>&1 || { cat "$WORK/logb"; fail "annotate --teacher"; }
grep -q "teacher: the one in $WORK/t.h5 (its training skipped)" "$WORK/logb" || { cat "$WORK/logb"; fail "no line for the loaded teacher"; }
grep -q "teacher epoch" "$WORK/logb" && { cat "$WORK/logb"; fail "annotate --teacher trained a teacher"; }
grep -q "student epoch" "$WORK/logb" || { cat "$WORK/logb"; fail "annotate --teacher trained no student"; }
$PYH5 - "$WORK/a.h5ad" "$WORK/b.h5ad" <<'PY' || fail "annotate --teacher differs from the run that trains its teacher"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for k in ("kida_teacher_proba", "kida_proba"):
    x, y = a["obsm"][k][()], b["obsm"][k][()]
    assert x.shape == y.shape and x.shape[0] == 906, (k, x.shape, y.shape)
    assert np.array_equal(x, y), (k, np.abs(x - y).max())
PY
pass "annotate --teacher = annotate (teacher and student probabilities, bit for bit)"
expect_fail "--teacher: missing file" "no such file" "$KIDA" annotate $SMALL --teacher "$WORK/none.h5" --out "$WORK/c.h5ad"
expect_fail "--teacher: not a model" "not a kida model" "$KIDA" annotate $SMALL --teacher data/pbmc_v3_query.h5ad --out "$WORK/c.h5ad"
"$KIDA" train $SMALL --n-top-genes 700 --model-out "$WORK/t700.h5" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "train 700 genes"; }
expect_fail "--teacher: other genes" "model genes differ: the model has" "$KIDA" annotate $SMALL --teacher "$WORK/t700.h5" --out "$WORK/c.h5ad"
"$KIDA" train $SMALL --width 32 --model-out "$WORK/t32.h5" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "train width 32"; }
expect_fail "--teacher: other width" "the widths (--width) differ: the model has 32, this run 16" \
    "$KIDA" annotate $SMALL --teacher "$WORK/t32.h5" --out "$WORK/c.h5ad"
[ -e "$WORK/c.h5ad" ] && fail "a refused run wrote its output"
pass "refused runs wrote nothing"
