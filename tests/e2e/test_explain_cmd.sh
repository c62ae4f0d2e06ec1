# kida explain on the small annotated PBMC run: every output is written and consistent, the
# pathway ranking equals scanpy's rank_genes_groups(wilcoxon, tie_correct) on the attention,
# key genes come from the kept pathways, and bad inputs are clear errors.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
"$KIDA" annotate $SMALL --out "$WORK/out.h5ad" --model-out "$WORK/model.h5" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "annotate"; }
"$KIDA" explain --model "$WORK/model.h5" --pred "$WORK/out.h5ad" --out "$WORK/ex" >"$WORK/xlog" 2>&1
rc=$?
grep -q "not implemented" "$WORK/xlog" && fail "kida explain is not dispatched: add 'case CMD_EXPLAIN: return cmd_explain(c, d);' to src/cmd/commands.c"
[ $rc -eq 0 ] || { cat "$WORK/xlog"; fail "explain exit $rc"; }
cat "$WORK/xlog"
for f in pathways.tsv genes.tsv edges.tsv json h5ad; do [ -s "$WORK/ex.$f" ] || fail "no $WORK/ex.$f"; done
igraph=1
grep -q "has no igraph" "$WORK/xlog" && igraph=0
$PYH5 - "$WORK" "$igraph" <<'PY' || fail "output contents"
import sys, json, csv, h5py
w, igraph = sys.argv[1], sys.argv[2] == "1"
rows = list(csv.DictReader(open(w + "/ex.pathways.tsv"), delimiter="\t"))
genes = list(csv.DictReader(open(w + "/ex.genes.tsv"), delimiter="\t"))
js = json.load(open(w + "/ex.json"))
tested = [g for g in js["groups"] if g["tested"]]
assert len(tested) >= 5, [g["name"] for g in tested]          # the 5 big PBMC types
for g in tested:
    pw = [r for r in rows if r["group"] == g["name"]]
    assert len(pw) == 10, (g["name"], len(pw))                # 24 pathways, top 10 kept
    sc = [float(r["score"]) for r in pw]
    assert sc == sorted(sc, reverse=True), sc
    assert all(0 <= float(r["auc"]) <= 1 and 0 <= float(r["padj"]) <= 1 for r in pw)
    assert float(pw[0]["auc"]) > 0.75, pw[0]                   # the best pathway separates the type
    top2 = [r for r in genes if r["group"] == g["name"] and r["variant"] == "top2"]
    chosen = {t.split(":")[0] for r in pw for t in r["top_genes"].split(",")}
    assert {r["gene"] for r in top2} == chosen, (g["name"], chosen)
    assert 10 <= len(top2) <= 20
    allg = [r for r in genes if r["group"] == g["name"] and r["variant"] == "allgenes"]
    assert chosen <= {r["gene"] for r in allg}
    if igraph:
        for net in (top2, allg):
            keys = [r["gene"] for r in net if r["key"] == "1"]
            assert len(keys) == 5, keys
            q = [float(r["q"]) for r in net]
            assert q == sorted(q) and all(0 <= x <= 1 for x in q)
            assert [int(r["rank"]) for r in net] == list(range(1, len(net) + 1))
        assert g["key_genes_network"] == [r["gene"] for r in top2 if r["key"] == "1"]
    # key genes by contribution: every gene of the kept pathways, ranked; the keys are its first
    # (at most 5) positive contributions, as in the JSON
    con = [r for r in genes if r["group"] == g["name"] and r["variant"] == "contribution"]
    assert {r["gene"] for r in con} == {r["gene"] for r in allg}, g["name"]
    cv = [float(r["contribution"]) for r in con]
    assert cv == sorted(cv, reverse=True) and [int(r["rank"]) for r in con] == list(range(1, len(con) + 1))
    keys = [r["gene"] for r in con if r["key"] == "1"]
    assert keys == [r["gene"] for r in con[:len(keys)]] and 1 <= len(keys) <= 5, keys
    assert all(float(r["contribution"]) > 0 for r in con[:len(keys)]) and g["key_genes"] == keys
f = h5py.File(w + "/ex.h5ad", "r")
u = f["uns"]["kida_explain"]
for k in ["groups", "pathways/pathway", "pathways/score", "genes/gene", "genes/q", "weights"]:
    assert k in u, k
assert u["pathways/pathway"].shape[0] == len(rows)
assert "kida_label" in f["obs"] and "kida" in f["uns"]                  # a full copy of the input
print("outputs consistent:", len(tested), "types,", len(rows), "pathway rows,", len(genes), "gene rows")
PY
pass "explain outputs"
# the contributions, recomputed here from the model file and the annotated file's counts: the
# model input (log1p of counts per target sum, standardised with the model's mean and std,
# clipped), its mean over a type minus over the rest, times |W_j[g]|, summed over kept pathways
$PYH5 - "$WORK" <<'PY' || fail "contributions differ from a recomputation"
import sys, csv, h5py, numpy as np
w = sys.argv[1]
dec = lambda a: [x.decode() if isinstance(x, bytes) else str(x) for x in a]
m = h5py.File(w + "/model.h5", "r")
genes, mean, std = dec(m["prep/genes"][:]), m["prep/mean"][:], m["prep/std"][:]
target, clip = m["prep/target_sum_clip"][:]
W = m["student/emb_w"][:] if "student" in m else m["teacher/emb_w"][:]
ptr, mem, pnames = m["pathways/path_ptr"][:], m["pathways/member_gene"][:], dec(m["pathways/names"][:])
f = h5py.File(w + "/out.h5ad", "r")
X = f["X"]
shape = tuple(X.attrs["shape"])
dense = np.zeros(shape)
ip, ix, dv = X["indptr"][:], X["indices"][:], X["data"][:]
for i in range(shape[0]):
    dense[i, ix[ip[i]:ip[i + 1]]] = dv[ip[i]:ip[i + 1]]
var = dec(f["var"][f["var"].attrs["_index"]][:])
col = {g: j for j, g in enumerate(var)}
size = dense.sum(1)
# a model gene the file lacks has a zero count in every cell: the same value everywhere, no difference
counts = np.stack([dense[:, col[g]] if g in col else np.zeros(shape[0]) for g in genes], axis=1)
x = np.log1p(counts / (size[:, None] / target))
x = np.clip((x - mean) / std, -clip, clip)
lab = f["obs/kida_label"]
lab = np.array(dec(lab["categories"][:]))[lab["codes"][:]]
norm = np.linalg.norm(W.astype(np.float64), axis=1)
kept = {}
for r in csv.DictReader(open(w + "/ex.pathways.tsv"), delimiter="\t"):
    kept.setdefault(r["group"], []).append(pnames.index(r["pathway"]))
worst, n = 0.0, 0
for r in csv.DictReader(open(w + "/ex.genes.tsv"), delimiter="\t"):
    if r["variant"] != "contribution":
        continue
    t, gi = r["group"], genes.index(r["gene"])
    inn = lab == t
    d = x[inn, gi].mean() - x[~inn & (lab != "unknown"), gi].mean()
    want = sum(d * norm[q] for j in kept[t] for q in range(ptr[j], ptr[j + 1]) if mem[q] == gi)
    got = float(r["contribution"])
    worst = max(worst, abs(got - want) / (1e-3 + abs(want)))
    n += 1
print(f"{n} contributions recomputed, worst relative difference {worst:.1e}")
assert n > 0 and worst < 1e-3
PY
pass "contributions equal a recomputation from the counts"
# the pathway ranking is scanpy's (pyenv python with scanpy; skipped without it)
if $PYTHON -c "import scanpy" 2>/dev/null; then
    $PYTHON - "$WORK/out.h5ad" "$WORK/ex.pathways.tsv" <<'PY' || fail "ranking differs from scanpy"
import sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, anndata as ad, scanpy as sc
a = ad.read_h5ad(sys.argv[1])
lab = a.obs["kida_label"].astype(str)
keep = (lab != "unknown").values
# kida explain tests groups of 2 cells or more, against all other cells (scanpy: groups=, rest = all others)
tested = [g for g, n in lab[keep].value_counts().items() if n >= 2]
b = ad.AnnData(X=np.asarray(a.obsm["kida_pathway_attn"][keep], dtype=np.float64))
b.var_names = list(a.uns["kida"]["pathways"])
b.obs["g"] = pd.Categorical(lab[keep].values)
sc.tl.rank_genes_groups(b, "g", groups=tested, method="wilcoxon", tie_correct=True, n_genes=b.n_vars)
r = b.uns["rank_genes_groups"]
t = pd.read_csv(sys.argv[2], sep="\t")
worst = 0.0
for g in t["group"].unique():
    mine = t[t.group == g].sort_values("rank")
    # the same order up to ties: pathways of equal scores (equal rank sums) may come in either order
    score_of = dict(zip(r["names"][g], np.asarray(r["scores"][g], dtype=float)))
    ms = np.array([score_of[p] for p in mine.pathway])
    top = np.sort(np.asarray(r["scores"][g], dtype=float))[::-1][:len(mine)]
    assert np.all(ms[:-1] >= ms[1:] - 1e-6 * (1 + np.abs(ms[1:]))), (g, "not in scanpy's order")
    assert np.allclose(ms, top, rtol=1e-6, atol=1e-9), (g, "not scanpy's top pathways")
    s = np.array(r["scores"][g][:len(mine)], dtype=float)
    p = np.array(r["pvals_adj"][g][:len(mine)], dtype=float)
    worst = max(worst, np.max(np.abs(s - mine.score.values) / (1 + np.abs(s))),
                np.max(np.abs(p - mine.padj.values) / (1e-300 + np.abs(p))))
print("scanpy wilcoxon: same top-10 pathways in the same order (up to ties), worst relative difference %.1e" % worst)
assert worst < 1e-4
PY
    pass "pathway ranking equals scanpy's"
else
    echo "skip: no scanpy in $PYTHON, ranking not compared"
fi
# default prefix next to the annotated file; refusal to overwrite; bad inputs
"$KIDA" explain --model "$WORK/model.h5" --pred "$WORK/out.h5ad" >/dev/null 2>&1 || fail "explain with the default prefix"
[ -s "$WORK/out.explain.genes.tsv" ] || fail "default prefix out.explain.*"
expect_fail "refuses to overwrite" "already exists" "$KIDA" explain --model "$WORK/model.h5" --pred "$WORK/out.h5ad" --out "$WORK/ex"
expect_fail "query without attention" "kida_pathway_attn" "$KIDA" explain --model "$WORK/model.h5" --pred data/pbmc_v3_query.h5ad --out "$WORK/bad"
# --group-key: the true types instead of the predicted ones (NA cells are in no group)
"$KIDA" explain --model "$WORK/model.h5" --pred "$WORK/out.h5ad" --group-key cell_type --out "$WORK/bytype" >"$WORK/glog" 2>&1 \
    || { cat "$WORK/glog"; fail "explain --group-key cell_type"; }
$PYH5 - "$WORK" <<'PY' || fail "--group-key cell_type"
import sys, json, h5py, numpy as np
w = sys.argv[1]
js = json.load(open(w + "/bytype.json"))
f = h5py.File(w + "/out.h5ad", "r")
codes, cats = f["obs/cell_type/codes"][:], [c.decode() for c in f["obs/cell_type/categories"][:]]
want = {cats[k]: int((codes == k).sum()) for k in range(len(cats)) if (codes == k).any()}
got = {g["name"]: g["n_cells"] for g in js["groups"]}
print("groups by obs cell_type:", got)
assert js["group_key"] == "cell_type" and got == want, (got, want)
PY
grep -q "is not a class of model" "$WORK/glog" && fail "--group-key cell_type: warned about labels that are not model classes"
expect_fail "unknown --group-key" "obs has no nope column (--group-key)" \
    "$KIDA" explain --model "$WORK/model.h5" --pred "$WORK/out.h5ad" --group-key nope --out "$WORK/bad"
expect_fail "needs --model" "needs --model" "$KIDA" explain --pred "$WORK/out.h5ad" --out "$WORK/bad"
pass "explain"
