# kida annotate end to end on the bundled data with a small network: the output holds every key
# of the contract, evaluate prints sane metrics, and predict with the saved model reproduces the
# student's labels.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
"$KIDA" annotate $SMALL --out "$WORK/out.h5ad" --model-out "$WORK/model.h5" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "annotate"; }
grep -q "anchors:" "$WORK/log" || fail "no anchor line"
grep -q "ETA" "$WORK/log" || fail "no progress line with ETA"
[ ! -e "$WORK/out.h5ad.ckpt/checkpoint.h5" ] || fail "checkpoint left behind after success"
grep -q "\"epoch_done\": 8, .*holdout_accuracy\": 0" "$WORK/out.h5ad.ckpt/metrics.jsonl" || fail "metrics.jsonl lacks the last teacher epoch"
$PYH5 - "$WORK/out.h5ad" <<'PY' || fail "output keys"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
for k in ["kida_label", "kida_label_raw", "kida_teacher_label"]:
    assert f["obs"][k].attrs["encoding-type"] == "categorical", k
for k in ["kida_conf", "kida_entropy", "kida_is_anchor", "cell_type", "batch"]:
    assert k in f["obs"], k
n = f["obs"]["kida_conf"].shape[0]
assert n == 906, n
assert f["obsm"]["X_kida"].shape == (n, 16)
P = len(f["uns"]["kida"]["pathways"])
assert P == 25 and f["uns"]["kida"]["pathways"][-1] == b"UNANNOTATED", P   # 24 chosen + --unannotated (default)
assert f["obsm"]["kida_proba"].shape[0] == n and f["obsm"]["kida_pathway_attn"].shape == (n, P)
p = f["obsm"]["kida_proba"][:]
assert np.allclose(p.sum(1), 1, atol=1e-4)
conf = f["obs"]["kida_conf"][:]
assert np.allclose(conf, p.max(1), atol=1e-6)
a = f["obs"]["kida_is_anchor"][:].astype(bool)
# per teacher-predicted type: 40% of its cells (rounded up), at least --anchor-min 10 (all when fewer)
tl = f["obs"]["kida_teacher_label_raw"]["codes"][:]
for k in np.unique(tl):
    m = int((tl == k).sum())
    want = min(m, max(int(np.ceil(0.4 * m - 1e-9)), 10))
    assert int(a[tl == k].sum()) == want, (k, int(a[tl == k].sum()), want)
for k in ["classes", "pathways", "config", "history", "version"]:
    assert k in f["uns"]["kida"], k
att = f["obsm"]["kida_pathway_attn"][:]
assert (att >= 0).all() and (att.sum(1) <= 1 + 1e-4).all()
print("keys ok, anchors", a.sum())
PY
"$KIDA" evaluate --pred "$WORK/out.h5ad" --truth-key cell_type --metrics-out "$WORK/m" >"$WORK/eval" 2>&1 || { cat "$WORK/eval"; fail "evaluate"; }
cat "$WORK/eval"
acc=$(sed -n 's/^ *KIDA accuracy \([0-9.]*\).*/\1/p' "$WORK/eval")
[ -n "$acc" ] || fail "no KIDA accuracy line"
awk -v a="$acc" 'BEGIN{exit !(a > 0.6)}' || fail "KIDA accuracy $acc <= 0.6 on the easy PBMC transfer"
[ -s "$WORK/m.json" ] && [ -s "$WORK/m.tsv" ] || fail "metrics files"
# the printed confusion matrix (the student's, first) holds the counts of the TSV's
grep -q '^confusion matrix (rows: true type' "$WORK/eval" || fail "evaluate prints no confusion matrix"
awk '/^confusion matrix/ { n++; head = 1; next }
     n == 1 && head { c = NF; head = 0; next }    # the column numbers and u
     n == 1 && /^ +[0-9]+ / && !/predicted only/ { row = ""; for (i = NF - c + 1; i <= NF; i++) row = row " " $i; print substr(row, 2) }' \
    "$WORK/eval" >"$WORK/conf_printed"
# the TSV has a row of zeros for a type only predicted; the printed matrix has none
awk -F '\t' '/^truth\\predicted/ { on = 1; next }
     on && NF > 1 { row = ""; s = 0; for (i = 2; i <= NF; i++) { row = row " " $i; s += $i } if (s) print substr(row, 2) }' \
    "$WORK/m.tsv" >"$WORK/conf_tsv"
[ -s "$WORK/conf_printed" ] && cmp -s "$WORK/conf_printed" "$WORK/conf_tsv" ||
    { cat "$WORK/conf_printed" "$WORK/conf_tsv"; fail "printed confusion matrix differs from the TSV's"; }
"$KIDA" inspect "$WORK/model.h5" >"$WORK/insp" 2>&1 || { cat "$WORK/insp"; fail "inspect of a model file"; }
grep -q '^kida model file: [1-9][0-9]* types, width 16, 1 layer, 2[45] pathways$' "$WORK/insp" ||
    { cat "$WORK/insp"; fail "inspect does not describe the model"; }
grep -q '^weights:    teacher, student' "$WORK/insp" || { cat "$WORK/insp"; fail "inspect: model weights"; }
"$KIDA" predict --model "$WORK/model.h5" --query data/pbmc_v3_query.h5ad --out "$WORK/pred.h5ad" >"$WORK/plog" 2>&1 || { cat "$WORK/plog"; fail "predict"; }
$PYH5 - "$WORK/out.h5ad" "$WORK/pred.h5ad" <<'PY' || fail "predict differs from annotate's student"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:])
x, y = a["obsm"]["X_kida"][:], b["obsm"]["X_kida"][:]
print("max |dX_kida|", np.abs(x - y).max())
assert np.array_equal(a["obs"]["kida_label"]["codes"][:], b["obs"]["kida_label"]["codes"][:])
assert np.abs(x - y).max() < 1e-5
PY
pass "annotate, evaluate (confusion matrix), inspect of the model, predict"
