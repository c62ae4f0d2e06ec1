# The outputs users expect from CellTypist / Azimuth-style tools: obsm kida_proba_df (a DataFrame
# with the class names as columns) and uns kida/proba_columns; --predictions-out (a table in query
# order, never overwritten without --overwrite); categorical columns without unused categories;
# --majority-voting (Leiden over-clusters, or --over-clustering COLUMN), the same on 1 and 2
# ranks; the end-of-run summary (types, unknown share and its WARNING, phases, outputs, next
# commands), absent with --quiet; the novel-type columns (kida_out_of_reference by cluster).
. "$TOP_SRCDIR/tests/e2e/lib.sh"
export PYTHONWARNINGS=ignore
for cmd in annotate predict; do
    for o in --predictions-out --majority-voting --over-clustering; do
        "$KIDA" $cmd --help | grep -q -- "^  $o" || fail "kida $cmd --help lacks $o"
    done
done
$PYH5 -c "import anndata, h5py" 2>/dev/null || { echo "skip: $PYH5 cannot import anndata"; exit 77; }
"$KIDA" annotate $SMALL --out "$WORK/a.h5ad" --model-out "$WORK/m.h5" --predictions-out "$WORK/a.tsv" --majority-voting \
    >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "annotate"; }
for line in "^result: 906 cells in [0-9]* predicted types (kida_label)" "^result: 0 of 906 cells unknown (0.0%)" \
    "^summary: .*teacher training .*| write " "^output: annotated file $WORK/a.h5ad" "^output: predictions table $WORK/a.tsv" \
    "^output: model $WORK/m.h5" "^next: kida evaluate --pred $WORK/a.h5ad --truth-key cell_type" \
    "^next: kida report $WORK/a.h5ad" "^majority voting: [0-9]* over-clusters of 906 cells (Leiden, resolution 5"; do
    grep -q -- "$line" "$WORK/log" || { cat "$WORK/log"; fail "annotate log lacks '$line'"; }
done
pass "annotate's summary"
# every output agrees with the annotated file
$PYH5 - "$WORK/a.h5ad" "$WORK/a.tsv" <<'PY' || fail "annotate's outputs"
import sys, anndata as ad, numpy as np, pandas as pd
a = ad.read_h5ad(sys.argv[1])
cls = list(a.uns["kida"]["classes"])
assert list(a.uns["kida"]["proba_columns"]) == cls
df = a.obsm["kida_proba_df"]
assert isinstance(df, pd.DataFrame) and list(df.columns) == cls, df
assert (df.index == a.obs_names).all() and np.array_equal(df.values, a.obsm["kida_proba"])
lines = open(sys.argv[2]).read().split("\n")
assert lines[0] == "cell\tlabel\tconfidence\tlabel_raw\tteacher_label\tis_anchor\tout_of_reference", lines[0]
t = pd.read_csv(sys.argv[2], sep="\t", index_col=0, keep_default_na=False)
assert len(t) == a.n_obs and (t.index == a.obs_names).all()
for col, key in [("label", "kida_label"), ("label_raw", "kida_label_raw"), ("teacher_label", "kida_teacher_label")]:
    assert (t[col].values == a.obs[key].astype(str).values).all(), col
assert np.allclose(t.confidence.values, a.obs.kida_conf.values, atol=1e-5)
for col, key in [("is_anchor", "kida_is_anchor"), ("out_of_reference", "kida_out_of_reference")]:   # true / false
    assert t[col].dtype == bool and (t[col].values == a.obs[key].values).all(), col
# categories: only those in use ('unknown' has no cell: --unknown-threshold 0)
for key in ["kida_label", "kida_label_raw", "kida_teacher_label", "kida_majority_voting", "kida_over_clustering"]:
    c = a.obs[key]
    assert set(c.cat.categories) == set(c.astype(str)), key
assert "unknown" not in a.obs.kida_label.cat.categories
# majority voting: one label per over-cluster, its most frequent kida_label
mv, oc, lab = a.obs.kida_majority_voting.astype(str), a.obs.kida_over_clustering.astype(str), a.obs.kida_label.astype(str)
assert oc.nunique() > 5
for c in oc.unique():
    m = oc == c
    assert mv[m].nunique() == 1 and lab[m].value_counts().iloc[0] == (lab[m] == mv[m].iloc[0]).sum(), c
# novel types: kida_out_of_reference is the cell's cluster's median confidence below the cut-off
# or its profile correlation below --novel-profile-r (the distance rule is off by default); a
# cluster is all or nothing; the label is untouched without --oor-unknown
oor, cl = a.obs.kida_out_of_reference.values, a.obs.kida_novel_cluster.astype(str).values
cc, cut = a.obs.kida_cluster_conf.values, float(a.uns["kida"]["novel_cutoff"])
pr, rmin = a.obs.kida_cluster_profile_r.values, float(a.uns["kida"]["novel_profile_r"])
assert oor.dtype == bool and 0 < cut <= 0.8 and rmin == 0.25 and np.array_equal(oor, (cc < cut) | (pr < rmin))
held = np.sort(np.asarray(a.uns["kida"]["holdout_conf"]))   # the cut-off: at most the hold-out's 0.1 quantile
assert abs(cut - min(0.8, np.quantile(held, 0.1))) < 1e-6, (cut, np.quantile(held, 0.1))
assert "kida_cluster_oor_score" not in a.obs
assert (a.obs.kida_label.astype(str) == a.obs.kida_label_raw.astype(str)).all()
conf = a.obs.kida_conf.values
assert len(set(cl)) > 1
for c in set(cl):   # one cluster: one median confidence, computed from its cells
    m = cl == c
    assert len(set(cc[m])) == 1 and abs(np.median(conf[m]) - cc[m][0]) < 1e-6, c
for c in set(cl):
    assert len(set(pr[cl == c])) == 1, c
nov = oor
print("outputs ok:", oc.nunique(), "over-clusters,", int((mv != lab).sum()), "cells relabelled,", int(oor.sum()), "out of reference")
PY
pass "kida_proba_df, proba_columns, predictions table, used categories, majority voting"
# the profile correlation, recomputed here from the counts: each reference type's and each query
# cluster's mean of the model input (scaled, clipped) brought back to the log scale, centred, and
# correlated over the 50 genes per type of largest profile minus the other types' mean
$PYH5 - "$WORK/a.h5ad" "$WORK/m.h5" data/pbmc_v2_ref.h5ad <<'PY' || fail "kida_cluster_profile_r recomputed"
import sys, anndata as ad, h5py, numpy as np
a, ref = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[3])
m = h5py.File(sys.argv[2], "r")
genes = [g.decode() for g in m["prep/genes"][:]]
mu, sd, clip = m["prep/mean"][:].astype(float), m["prep/std"][:].astype(float), m["prep/target_sum_clip"][1]
cls = [c.decode() for c in m["classes"][:]]
def model_log(x, names):   # log1p CP10k on the model genes, through the clipped scaling and back
    x = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    tot = x.sum(1, keepdims=True); tot[tot == 0] = 1
    col = {g: i for i, g in enumerate(names)}
    v = np.zeros((x.shape[0], len(genes)))
    for j, g in enumerate(genes):
        if g in col: v[:, j] = x[:, col[g]]
    v = np.log1p(v / tot * 1e4)
    return np.clip((v - mu) / sd, -clip, clip) * sd + mu
R, Q = model_log(ref.X, list(ref.var_names)), model_log(a.X, list(a.var_names))
rt = ref.obs.cell_type.astype(str).values
P = np.array([R[rt == t].mean(0) for t in cls])
assert np.abs(P - m["prep/type_profile"][:]).max() < 1e-3, np.abs(P - m["prep/type_profile"][:]).max()
mk = sorted(set().union(*[set(np.argsort(-(P[i] - np.delete(P, i, 0).mean(0)), kind="stable")[:50]) for i in range(len(cls))]))
cl, lab = a.obs.kida_novel_cluster.astype(str).values, a.obs.kida_label_raw.astype(str).values
u = sorted(set(cl))
V = np.array([Q[cl == c].mean(0) for c in u])
Pc, Vc = (P - P.mean(0))[:, mk], (V - V.mean(0))[:, mk]
pr = a.obs.kida_cluster_profile_r.values
worst = 0
for k, c in enumerate(u):
    vals, cnt = np.unique(lab[cl == c], return_counts=True)
    L = cls.index(vals[np.argmax(cnt)])
    r = np.corrcoef(Vc[k], Pc[L])[0, 1]
    worst = max(worst, abs(r - pr[cl == c][0]))
assert worst < 2e-3, worst
print("profile r recomputed: %d clusters, largest difference %.2g" % (len(u), worst))
PY
pass "kida_cluster_profile_r recomputed from the counts"
# --oor-unknown: the cells of novel clusters (a cut-off high enough that the small network has some)
# are `unknown` in kida_label, and only they (the cut-off as given: no hold-out bound)
"$KIDA" annotate $SMALL --out "$WORK/nov.h5ad" --oor-unknown --novel-cutoff 0.95 --novel-holdout-quantile 0 >"$WORK/lognov" 2>&1 ||
    { cat "$WORK/lognov"; fail "annotate --oor-unknown"; }
grep -q "^anchors: the [0-9]* cells of the teacher's novel-type clusters are not anchors" "$WORK/lognov" ||
    { cat "$WORK/lognov"; fail "--oor-unknown: no line on the anchors left out"; }
$PYH5 - "$WORK/nov.h5ad" <<'PY' || fail "--oor-unknown"
import sys, anndata as ad, numpy as np
u = ad.read_h5ad(sys.argv[1])
oor, lab = u.obs.kida_out_of_reference.values, u.obs.kida_label.astype(str).values
assert 0 < oor.sum() < u.n_obs, oor.sum()
assert np.array_equal(lab == "unknown", oor)
assert (u.obs.kida_label_raw.astype(str).values != "unknown").all()
print("--oor-unknown ok:", int(oor.sum()), "cells unknown")
PY
pass "--oor-unknown: novel clusters unknown, teacher's novel clusters no anchors"
# the table is never overwritten without --overwrite: refused before any work
cp "$WORK/a.tsv" "$WORK/a.keep"
expect_fail "existing --predictions-out" "a.tsv: output file already exists (--predictions-out)" \
    "$KIDA" annotate $SMALL --out "$WORK/b.h5ad" --predictions-out "$WORK/a.tsv"
cmp -s "$WORK/a.tsv" "$WORK/a.keep" || fail "the existing table was changed"
[ ! -e "$WORK/b.h5ad" ] || fail "--out written after a refused --predictions-out"
expect_fail "--predictions-out = --out" "is also the path of --out" \
    "$KIDA" predict --model "$WORK/m.h5" --query data/pbmc_v3_query.h5ad --out "$WORK/c.h5ad" --predictions-out "$WORK/c.h5ad"
expect_fail "--over-clustering missing column" "no obs column 'leiden_xyz'" \
    "$KIDA" predict --model "$WORK/m.h5" --query data/pbmc_v3_query.h5ad --out "$WORK/c.h5ad" --over-clustering leiden_xyz
# a query of the cells annotate called B cells: the other reference types are not categories
$PYH5 - "$WORK" <<'PY' 2>/dev/null || fail "setup: the B-cell query"
import sys, anndata as ad
w = sys.argv[1]
q, a = ad.read_h5ad("data/pbmc_v3_query.h5ad"), ad.read_h5ad(f"{w}/a.h5ad")
q[(a.obs.kida_label == "B cell").values].copy().write_h5ad(f"{w}/qb.h5ad")
PY
"$KIDA" predict --model "$WORK/m.h5" --query "$WORK/qb.h5ad" --out "$WORK/b.h5ad" --predictions-out "$WORK/a.tsv" \
    --overwrite --over-clustering cell_type >"$WORK/logb" 2>&1 || { cat "$WORK/logb"; fail "predict on the B cells"; }
grep -q "^next: kida evaluate --pred $WORK/b.h5ad --truth-key cell_type" "$WORK/logb" || { cat "$WORK/logb"; fail "predict: no evaluate line"; }
grep -q "^majority voting: over obs 'cell_type'" "$WORK/logb" || { cat "$WORK/logb"; fail "predict: no over-clustering line"; }
$PYH5 - "$WORK/b.h5ad" "$WORK/a.tsv" "$WORK/qb.h5ad" <<'PY' || fail "predict on the B cells"
import sys, anndata as ad, pandas as pd
b, q = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[3])
assert len(b.uns["kida"]["classes"]) > 2
assert list(b.obs.kida_label.cat.categories) == ["B cell"], list(b.obs.kida_label.cat.categories)
assert list(b.obs.kida_majority_voting.cat.categories) == ["B cell"]
oc = b.obs.kida_over_clustering
assert (oc.astype(str).values == q.obs.cell_type.astype(str).values).all()
assert set(oc.cat.categories) == set(q.obs.cell_type.dropna().astype(str)) and oc.isna().sum() == q.obs.cell_type.isna().sum()
t = pd.read_csv(sys.argv[2], sep="\t", keep_default_na=False)
assert len(t) == b.n_obs and (t.label == "B cell").all() and (t.teacher_label == "").all() and (t.is_anchor == "").all()
print("B-cell query ok:", len(oc.cat.categories), "cell_type clusters")
PY
pass "predict: unused types dropped from the categories, --over-clustering, the table replaced with --overwrite"
# --final: the student's probabilities, or their mean with the teacher's; predict at the default
# gives annotate's probabilities (the same default)
for f in student blend default; do
    fo="--final $f"; [ $f = default ] && fo=""
    "$KIDA" predict --model "$WORK/m.h5" --query data/pbmc_v3_query.h5ad --out "$WORK/f_$f.h5ad" $fo --quiet \
        >"$WORK/logf" 2>&1 || { cat "$WORK/logf"; fail "predict --final $f"; }
done
$PYH5 - "$WORK" <<'PY' || fail "--final blend"
import sys, anndata as ad, numpy as np
w = sys.argv[1]
a, s, b, d = (ad.read_h5ad(f"{w}/{n}.h5ad") for n in ("a", "f_student", "f_blend", "f_default"))
ps, pb, pt = s.obsm["kida_proba"], b.obsm["kida_proba"], a.obsm["kida_teacher_proba"]
assert np.abs(ps - pt).max() > 1e-3, "student = teacher: the check below could not fail"
assert np.allclose(pb, (ps + pt) / 2, atol=1e-6), np.abs(pb - (ps + pt) / 2).max()
cls = np.asarray(a.uns["kida"]["classes"])
assert (b.obs.kida_label_raw.astype(str).values == cls[pb.argmax(1)]).all()
assert np.allclose(b.obs.kida_conf.values, pb.max(1), atol=1e-6)
assert np.allclose(d.obsm["kida_proba"], a.obsm["kida_proba"], atol=1e-6), "predict's default differs from annotate's"
print("--final blend ok:", int((b.obs.kida_label_raw.astype(str).values != s.obs.kida_label_raw.astype(str).values).sum()), "labels moved by the teacher")
PY
pass "--final blend: the mean of the two models' probabilities; predict's default = annotate's"
# most cells unknown: a WARNING; --quiet: no summary
"$KIDA" predict --model "$WORK/m.h5" --query data/pbmc_v3_query.h5ad --out "$WORK/u.h5ad" --unknown-threshold 0.99999 \
    >"$WORK/logu" 2>&1 || { cat "$WORK/logu"; fail "predict --unknown-threshold"; }
grep -q "^WARNING: .* cells (.*%) are .unknown." "$WORK/logu" || { cat "$WORK/logu"; fail "no WARNING above half unknown"; }
grep -q "^result: [0-9]* of 906 cells unknown" "$WORK/logu" || fail "no unknown share"
"$KIDA" predict --model "$WORK/m.h5" --query data/pbmc_v3_query.h5ad --out "$WORK/q.h5ad" --quiet >"$WORK/logq" 2>&1 || fail "predict --quiet"
! grep -qE "^(result|output|next|summary):" "$WORK/logq" || { cat "$WORK/logq"; fail "summary printed with --quiet"; }
pass "unknown WARNING, --quiet"
# majority voting: 2 ranks give the columns and the table of 1 rank
[ -n "${MPIEXEC:-}" ] && command -v "$MPIEXEC" >/dev/null 2>&1 || { echo "no mpiexec: 2-rank check skipped"; exit 0; }
for n in 1 2; do
    timeout 300 "$MPIEXEC" --oversubscribe -np $n "$KIDA" predict --model "$WORK/m.h5" --query data/pbmc_v3_query.h5ad \
        --out "$WORK/r$n.h5ad" --predictions-out "$WORK/r$n.tsv" --majority-voting >"$WORK/logr$n" 2>&1 || { cat "$WORK/logr$n"; fail "$n ranks"; }
done
cmp -s "$WORK/r1.tsv" "$WORK/r2.tsv" || fail "2 ranks: another table"
for k in obs/kida_majority_voting obs/kida_over_clustering obsm/kida_proba_df; do
    h5diff "$WORK/r1.h5ad" "$WORK/r2.h5ad" "$k" "$k" >"$WORK/diff" 2>&1 || { head "$WORK/diff"; fail "2 ranks: $k differs"; }
done
pass "majority voting and the table: 2 ranks = 1 rank"
