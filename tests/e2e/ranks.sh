# Ranks must not change the answer: 1, 2, 3 and 4 ranks (oversubscribed) give bit-identical model
# files (weights, preprocessing, pathways) and outputs (labels, anchors, X_kida, probabilities,
# attention, loss history), compared by h5diff without tolerance; `kida predict` on 1 and 3 ranks
# writes the same bits; a checkpoint written by 2 ranks
# resumed on 3 gives the same bits again; a rank that dies ends the job with a message instead of
# a hang. The network (tests/e2e/ranks.conf) is one where summing float gradients per rank made 1
# and 2 ranks disagree on labels and embeddings. Each run takes a few seconds to half a minute.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
[ -n "${MPIEXEC:-}" ] && command -v "$MPIEXEC" >/dev/null 2>&1 || { echo "no mpiexec: skip"; exit 77; }
run() { n=$1; shift; timeout 300 "$MPIEXEC" --oversubscribe -np "$n" "$KIDA" "$@"; }
NET="--config tests/e2e/ranks.conf"
# the same bits: whole files, except the config text (it names the output paths)
same() {
    h5diff --exclude-path /uns/kida/config "$WORK/r1.h5ad" "$2" >"$WORK/diff" 2>&1 || { head -n 20 "$WORK/diff"; fail "$1: outputs differ"; }
    [ -z "${3:-}" ] || h5diff --exclude-path /config "$WORK/m1.h5" "$3" >"$WORK/diff" 2>&1 || { head -n 20 "$WORK/diff"; fail "$1: model files differ"; }
}
for n in 1 2 3 4; do
    s=$(date +%s)
    run $n annotate $NET --out "$WORK/r$n.h5ad" --model-out "$WORK/m$n.h5" --quiet >"$WORK/log$n" 2>&1 || { cat "$WORK/log$n"; fail "$n ranks"; }
    [ $n -eq 1 ] || same "$n ranks" "$WORK/r$n.h5ad" "$WORK/m$n.h5"
    pass "$n rank(s): $(( $(date +%s) - s )) s$([ $n -eq 1 ] || echo ', bit-identical to 1 rank')"
done
# the comparison is not vacuous: the outputs hold what they should
$PYH5 - "$WORK" <<'PY' || fail "outputs incomplete"
import sys, h5py, numpy as np
r = h5py.File(f"{sys.argv[1]}/r1.h5ad", "r")
x, p, a = r["obsm/X_kida"][:], r["obsm/kida_proba"][:], r["obs/kida_is_anchor"][:]
print(f"X_kida {x.shape}, probabilities {p.shape}, {int(a.sum())} anchors")
assert x.shape[0] == p.shape[0] == a.shape[0] > 0 and np.isfinite(x).all() and 0 < a.sum() < a.size
pr = r["obs/kida_cluster_profile_r"][:]   # the novel-type rule's profiles: in the outputs and the model
tp = h5py.File(f"{sys.argv[1]}/m1.h5", "r")["prep/type_profile"][:]
assert np.isfinite(pr).all() and len(set(pr)) > 1 and np.isfinite(tp).all() and tp.shape[0] == p.shape[1]
PY
# inference alone (kida predict with the 1-rank model): 1 and 3 ranks write the same bits
for n in 1 3; do
    run $n predict --model "$WORK/m1.h5" --query data/pbmc_v3_query.h5ad --out "$WORK/p$n.h5ad" --quiet >"$WORK/logp$n" 2>&1 \
        || { cat "$WORK/logp$n"; fail "predict on $n ranks"; }
done
h5diff --exclude-path /uns/kida/config "$WORK/p1.h5ad" "$WORK/p3.h5ad" >"$WORK/diff" 2>&1 || { head -n 20 "$WORK/diff"; fail "predict: 1 and 3 ranks differ"; }
$PYH5 - "$WORK/p1.h5ad" <<'PY' || fail "predict output incomplete"
import sys, h5py, numpy as np
p = h5py.File(sys.argv[1], "r")["obsm/kida_proba"][:]
assert p.shape[0] == 906 and np.isfinite(p).all() and np.allclose(p.sum(1), 1, atol=1e-4)
# predict reads the query again in blocks for the cluster profiles: the same bits as annotate's
a, b = (h5py.File(f, "r")["obs/kida_cluster_profile_r"][:] for f in (sys.argv[1], sys.argv[1].replace("p1", "r1")))
assert np.array_equal(a, b), np.abs(a - b).max()
PY
pass "kida predict on 3 ranks: bit-identical to 1 rank"
# a checkpoint of a 2-rank run (stopped mid teacher epoch 1) resumed on 3 ranks
KIDA_STOP_AFTER_STEPS=45 run 2 annotate $NET --out "$WORK/x.h5ad" --model-out "$WORK/mx.h5" >"$WORK/logx" 2>&1
grep -q "stopped by signal" "$WORK/logx" || { cat "$WORK/logx"; fail "2-rank run did not stop at the hook"; }
run 3 annotate $NET --out "$WORK/x.h5ad" --model-out "$WORK/mx.h5" --resume >"$WORK/logy" 2>&1 || { cat "$WORK/logy"; fail "3-rank resume"; }
grep -q "resuming from" "$WORK/logy" || fail "no resume"
same "2 -> 3 rank resume" "$WORK/x.h5ad" "$WORK/mx.h5"
pass "2-rank checkpoint resumed on 3 ranks: bit-identical to 1 rank"
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
