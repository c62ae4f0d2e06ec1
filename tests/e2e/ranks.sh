# Ranks must not change the answer: 1, 2 and 4 ranks (oversubscribed) give the same
# preprocessing statistics, pathways, loss curve, anchors and labels; a checkpoint written by 2
# ranks resumes on 1; a rank that dies ends the job with a message instead of a hang.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
[ -n "${MPIEXEC:-}" ] && command -v "$MPIEXEC" >/dev/null 2>&1 || { echo "no mpiexec: skip"; exit 77; }
run() { n=$1; shift; timeout 300 "$MPIEXEC" --oversubscribe -np "$n" "$KIDA" "$@"; }
for n in 1 2 4; do
    run $n annotate $SMALL --out "$WORK/r$n.h5ad" --model-out "$WORK/m$n.h5" --quiet >"$WORK/log$n" 2>&1 || { cat "$WORK/log$n"; fail "$n ranks"; }
done
$PYH5 - "$WORK" <<'PY' || fail "rank counts disagree"
import sys, h5py, numpy as np
w = sys.argv[1]
def rel(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-3)))
m = {n: h5py.File(f"{w}/m{n}.h5", "r") for n in (1, 2, 4)}
r = {n: h5py.File(f"{w}/r{n}.h5ad", "r") for n in (1, 2, 4)}
for n in (2, 4):
    assert list(m[1]["prep/genes"][:]) == list(m[n]["prep/genes"][:]), "model genes differ"
    assert list(m[1]["pathways/names"][:]) == list(m[n]["pathways/names"][:]), "pathways differ"
    for k in ("mean", "std"):
        d = rel(m[1]["prep/" + k][:], m[n]["prep/" + k][:])
        print(f"{n} ranks: prep {k} max rel diff {d:.2e}"); assert d <= 1e-6
    h1, hn = r[1]["uns/kida/history"][:], r[n]["uns/kida/history"][:]
    d = rel(h1[:, 1:4], hn[:, 1:4])
    print(f"{n} ranks: loss curve max rel diff {d:.2e}"); assert d <= 1e-4, d
    a1, an = r[1]["obs/kida_is_anchor"][:], r[n]["obs/kida_is_anchor"][:]
    print(f"{n} ranks: anchors differing {int((a1 != an).sum())}"); assert (a1 == an).all()
    l1, ln = r[1]["obs/kida_label_raw/codes"][:], r[n]["obs/kida_label_raw/codes"][:]
    agree = float((l1 == ln).mean())
    print(f"{n} ranks: identical labels {agree:.4%}"); assert agree >= 0.999
PY
pass "1, 2, 4 ranks agree"
# a checkpoint of a 2-rank run resumed by 1 rank
KIDA_STOP_AFTER_STEPS=45 run 2 annotate $SMALL --out "$WORK/x.h5ad" >"$WORK/logx" 2>&1
grep -q "stopped by signal" "$WORK/logx" || { cat "$WORK/logx"; fail "2-rank run did not stop at the hook"; }
run 1 annotate $SMALL --out "$WORK/x.h5ad" --resume >"$WORK/logy" 2>&1 || { cat "$WORK/logy"; fail "1-rank resume"; }
grep -q "resuming from" "$WORK/logy" || fail "no resume"
$PYH5 - "$WORK" <<'PY' || fail "resumed on 1 rank differs"
import sys, h5py, numpy as np
w = sys.argv[1]
a, b = h5py.File(f"{w}/r1.h5ad", "r"), h5py.File(f"{w}/x.h5ad", "r")
l1, l2 = a["obs/kida_label_raw/codes"][:], b["obs/kida_label_raw/codes"][:]
print(f"2->1 rank resume: identical labels {(l1 == l2).mean():.4%}"); assert (l1 == l2).mean() >= 0.999
PY
pass "2-rank checkpoint resumed on 1 rank"
# a rank that dies: the job must end promptly with a message, not hang
"$MPIEXEC" --oversubscribe -np 2 "$KIDA" annotate $SMALL --epochs 50 --out "$WORK/z.h5ad" >"$WORK/logz" 2>&1 &
mpid=$!
i=0
while ! grep -q "^teacher | epoch" "$WORK/logz"; do sleep 0.2; i=$((i+1)); [ $i -lt 300 ] || { kill $mpid; fail "never started"; }; done
victim=$(pgrep -P $mpid -f "$KIDA" | tail -n 1)
[ -n "$victim" ] || victim=$(pgrep -f "$KIDA annotate.*z.h5ad" | tail -n 1)
kill -9 "$victim"
i=0
while kill -0 $mpid 2>/dev/null; do sleep 0.5; i=$((i+1)); [ $i -lt 120 ] || { kill -9 $mpid; fail "job hung after a rank died"; }; done
wait $mpid; rc=$?
[ "$rc" -ne 0 ] || fail "job exited 0 after a rank died"
cat "$WORK/logz" | tail -n 5
grep -qiE "signal 9|killed|exited on signal|aborted" "$WORK/logz" || fail "no message naming the dead rank"
pass "dead rank ends the job in $((i / 2)) s with exit $rc"
