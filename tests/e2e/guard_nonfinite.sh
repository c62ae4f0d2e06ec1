# A loss or gradient that becomes NaN stops the run at once (exit 1, a message naming phase, epoch, batch and
# the options to change) with a checkpoint from before it; --resume continues it to the same
# result as a run that never failed. The checkpoint carries the run's fingerprint: another run
# (other seed, other reference) is refused, a moved input file is still the same input.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
FAST="--epochs 2 --student-min-steps 30"
"$KIDA" annotate $SMALL $FAST --out "$WORK/full.h5ad" --quiet >"$WORK/log0" 2>&1 || { cat "$WORK/log0"; fail "uninterrupted run"; }
# a NaN in the gradient of step 10 of the teacher (epoch 1 of 28 steps): no checkpoint yet, so one
# is written from before it
KIDA_TEST_NAN_AT_STEP=10:grad expect_fail "NaN gradient in the teacher" \
    "teacher: the gradient norm became nan at epoch 1, batch 10 (after 9 steps)" \
    "$KIDA" annotate $SMALL $FAST --out "$WORK/r.h5ad" --checkpoint-every 0
grep -q "lower --lr" "$WORK/err" || fail "the hint does not say what to change"
[ -e "$WORK/r.h5ad.ckpt/checkpoint.h5" ] || fail "no checkpoint from before the NaN"
[ ! -e "$WORK/r.h5ad" ] || fail "an output was written by the failed run"
expect_fail "checkpoint of another seed" "seed: 0 -> 1" "$KIDA" annotate $SMALL $FAST --out "$WORK/r.h5ad" --resume --seed 1
expect_fail "checkpoint of another reference" "input reference\[0\]: size=" \
    "$KIDA" annotate $SMALL $FAST --out "$WORK/r.h5ad" --resume --reference data/pbmc_v3_query.h5ad
cp data/pbmc_v2_ref.h5ad "$WORK/moved_ref.h5ad"
"$KIDA" annotate $SMALL $FAST --out "$WORK/r.h5ad" --resume --reference "$WORK/moved_ref.h5ad" >"$WORK/log1" 2>&1 ||
    { cat "$WORK/log1"; fail "resume after the NaN stop"; }
grep -q "resuming from .*step 9" "$WORK/log1" || { cat "$WORK/log1"; fail "resume did not start at step 9"; }
grep -q "changed options" "$WORK/log1" && fail "a moved input was reported as a change"
h5diff "$WORK/full.h5ad" "$WORK/r.h5ad" /obsm/X_kida >"$WORK/d" 2>&1 || { head "$WORK/d"; fail "X_kida differs after NaN stop + resume"; }
pass "NaN gradient stop + resume is bit-identical to the uninterrupted run"
# a NaN loss in the student (a 28-step teacher never reaches step 29; the student does)
KIDA_TEST_NAN_AT_STEP=29 expect_fail "NaN loss in the student" \
    "student: the loss became nan at epoch [0-9]*, batch [0-9]* (after 28 steps)" \
    "$KIDA" annotate $SMALL --epochs 1 --student-min-steps 40 --out "$WORK/s.h5ad"
[ -e "$WORK/s.h5ad.ckpt/checkpoint.h5" ] || fail "no checkpoint from before the student's NaN"
pass "a NaN loss in the student stops it with a checkpoint"
