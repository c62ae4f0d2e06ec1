# Weight averaging (--teacher-average, --student-average): the kept weights are the mean of the
# weights after each of the phase's last steps, to the bit; a run stopped inside the averaging
# window and resumed gives the same bits; 2 ranks give the same bits as 1. Also: the best
# hold-out epoch (--best-checkpoint, used with --teacher-average 0) travels in the checkpoint, so a
# resumed run keeps it. The default (--teacher-average 0.5) is the one the other tests run.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
# small.conf: 896 training cells / 32 = 28 steps an epoch, 8 epochs = 224 teacher steps
T=224
log_has() { grep -q "$2" "$1" || { cat "$1"; fail "log $1 lacks '$2'"; }; }

# 1. the mean of the last two steps, checked against the two weights it averages
"$KIDA" train $SMALL --model-out "$WORK/last.h5" --teacher-average 0 --best-checkpoint false >"$WORK/l1" 2>&1 || { cat "$WORK/l1"; fail "train"; }
KIDA_STOP_AFTER_STEPS=$((T - 1)) "$KIDA" train $SMALL --model-out "$WORK/stop.h5" --teacher-average 0 --best-checkpoint false \
    --checkpoint-every 1000 >"$WORK/l2" 2>&1
[ $? -eq 75 ] || { cat "$WORK/l2"; fail "stop at step $((T - 1))"; }
"$KIDA" train $SMALL --model-out "$WORK/avg2.h5" --teacher-average 0.005 >"$WORK/l3" 2>&1 || { cat "$WORK/l3"; fail "train, average of 2 steps"; }
log_has "$WORK/l3" "keeping the mean weights of its last 2 steps"
$PYH5 - "$WORK" <<'PY' || fail "the average is not the mean of the last two steps"
import sys, h5py, numpy as np
w = sys.argv[1]
a = h5py.File(f"{w}/stop.h5.ckpt/checkpoint.h5", "r")["teacher"]   # after step T-1
b = h5py.File(f"{w}/last.h5", "r")["teacher"]                      # after step T
m = h5py.File(f"{w}/avg2.h5", "r")["teacher"]
n = moved = 0
for k in b:
    x, y, z = a[k][()], b[k][()], m[k][()]
    want = ((x.astype(np.float64) + y.astype(np.float64)) / 2).astype(np.float32)
    assert np.array_equal(z, want), f"{k}: largest difference {np.abs(z - want).max()}"
    n += z.size
    moved += int((x != y).sum())
assert moved > n // 2, f"steps T-1 and T differ in only {moved} of {n} weights: the check would be vacuous"
print(f"{n} weights: the kept teacher is the mean of steps T-1 and T to the bit ({moved} differ between them)")
PY
pass "teacher average = mean of the last steps' weights, to the bit"

# 2. averaging one step keeps the last weights; a real average moves them
"$KIDA" annotate $SMALL --out "$WORK/plain.h5ad" --teacher-average 0 --best-checkpoint false --quiet || fail "plain run"
"$KIDA" annotate $SMALL --out "$WORK/one.h5ad" --teacher-average 1e-6 --student-average 1e-6 >"$WORK/l4" 2>&1 || { cat "$WORK/l4"; fail "one-step average"; }
log_has "$WORK/l4" "teacher: keeping the mean weights of its last 1 steps"
log_has "$WORK/l4" "student: keeping the mean weights of its last 1 steps"
h5diff "$WORK/plain.h5ad" "$WORK/one.h5ad" /obsm/X_kida >"$WORK/d" 2>&1 || { head "$WORK/d"; fail "a one-step average changed the result"; }
S="--teacher-average 0.5 --student-average 0.5"
"$KIDA" annotate $SMALL $S --out "$WORK/avg.h5ad" >"$WORK/l5" 2>&1 || { cat "$WORK/l5"; fail "averaged run"; }
log_has "$WORK/l5" "teacher: keeping the mean weights of its last $((T / 2)) steps"
! h5diff -q "$WORK/plain.h5ad" "$WORK/avg.h5ad" /obsm/X_kida >/dev/null 2>&1 || fail "averaging half the steps changed nothing"
pass "a one-step average is the plain run; half the steps averaged is not"

# 3. stopped inside the window (teacher, then student) and resumed: the same bits
for at in 200 330; do
    KIDA_STOP_AFTER_STEPS=$at "$KIDA" annotate $SMALL $S --out "$WORK/r$at.h5ad" --checkpoint-every 7 >"$WORK/l6" 2>&1
    [ $? -eq 75 ] || { cat "$WORK/l6"; fail "stop after $at steps"; }
    "$KIDA" annotate $SMALL $S --out "$WORK/r$at.h5ad" --resume >"$WORK/l7" 2>&1 || { cat "$WORK/l7"; fail "resume after $at steps"; }
    log_has "$WORK/l7" "resuming from"
    h5diff "$WORK/avg.h5ad" "$WORK/r$at.h5ad" /obsm/X_kida >"$WORK/d" 2>&1 || { head "$WORK/d"; fail "stop at $at + resume differs"; }
done
pass "stopped in the teacher's and the student's averaging window, resumed: bit-identical"

# 4. the best epoch so far is in a checkpoint written mid-teacher
KIDA_STOP_AFTER_STEPS=45 "$KIDA" annotate $SMALL --out "$WORK/b.h5ad" --teacher-average 0 --checkpoint-every 7 >"$WORK/l8" 2>&1
[ $? -eq 75 ] || { cat "$WORK/l8"; fail "stop after 45 steps"; }
$PYH5 - "$WORK/b.h5ad.ckpt/checkpoint.h5" <<'PY' || fail "checkpoint lacks the best epoch"
import sys, h5py, numpy as np
s = h5py.File(sys.argv[1], "r")["state"]
acc, best = float(s["best_acc"][0]), s["best_params"][:]
assert 0 < acc <= 1 and best.size == s["adam_m"].size and np.isfinite(best).all(), (acc, best.size)
print(f"best epoch so far: hold-out accuracy {acc:.4f}, {best.size} weights")
PY
pass "the best hold-out epoch is checkpointed"

# 5. 1 and 2 ranks: the same bits with averaging
if [ -n "${MPIEXEC:-}" ] && command -v "$MPIEXEC" >/dev/null 2>&1; then
    timeout 300 "$MPIEXEC" --oversubscribe -np 2 "$KIDA" annotate $SMALL $S --out "$WORK/avg_2r.h5ad" --quiet >"$WORK/l9" 2>&1 \
        || { cat "$WORK/l9"; fail "2 ranks"; }
    h5diff --exclude-path /uns/kida/config "$WORK/avg.h5ad" "$WORK/avg_2r.h5ad" >"$WORK/d" 2>&1 || { head "$WORK/d"; fail "2 ranks differ"; }
    pass "2 ranks with averaging: bit-identical to 1"
else
    echo "no mpiexec: rank check skipped"
fi
