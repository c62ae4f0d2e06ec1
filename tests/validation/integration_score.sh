#!/bin/sh
# integration_score: validation/integration/score.py and report.py on a tiny made-up set of two
# batches and three types: an embedding whose batches overlap within
# types must score a higher iLISI, batch correction and total than one where each batch sits
# apart; the unlabelled cell is left out; an embedding whose cells are in another order is
# refused; the report's table carries the scores. Needs a python with scib-metrics (the venv
# validation/integration/run.sh builds, or INTEGRATION_PYTHON): exit 77 without one.
: "${TOP_SRCDIR:=.}"
PY=${INTEGRATION_PYTHON:-$TOP_SRCDIR/.work/venv-peers/bin/python}
if ! [ -x "$PY" ] || ! "$PY" -c "import scib_metrics, anndata" >/dev/null 2>&1; then
    echo "SKIP: no python with scib-metrics (run validation/integration/run.sh or set INTEGRATION_PYTHON)"
    exit 77
fi
export JAX_PLATFORMS=cpu OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
D=$TOP_SRCDIR/validation/integration
mkdir -p "$tmp/set" "$tmp/runs/tiny" "$tmp/bad" || exit 99
"$PY" - "$tmp" <<'PY' || exit 99
import json, sys
import anndata as ad, numpy as np, pandas as pd
t = sys.argv[1]
rng = np.random.default_rng(1)
types = np.repeat(["A", "B", "C"], 60)
batch = np.tile(np.repeat(["b1", "b2"], 30), 3)
obs = pd.DataFrame({"cell_type": types.astype(object), "batch": batch,
                    "modality": "rna"}, index=[f"c{i}" for i in range(180)])
obs.iloc[5, 0] = np.nan
for k in obs:
    obs[k] = pd.Categorical(obs[k])
ad.AnnData(X=np.ones((180, 2), np.float32), obs=obs).write_h5ad(f"{t}/set/all.h5ad")
json.dump({"name": "tiny", "reference": ["b1"], "files": []}, open(f"{t}/set/set.json", "w"))
centre = {"A": 0.0, "B": 8.0, "C": 16.0}
base = np.array([[centre[x], 0.0] for x in types]) + rng.normal(0, 1, (180, 2))
apart = base + np.where(batch == "b1", 0.0, 4.0)[:, None] * np.array([0.0, 1.0])
names = np.asarray(obs.index, dtype=str)
for m, z in (("pca", apart), ("kida", base)):
    np.savez(f"{t}/runs/tiny/{m}_seed0.npz", emb=z.astype(np.float32), obs_names=names)
np.savez(f"{t}/bad/pca_seed0.npz", emb=apart.astype(np.float32), obs_names=names[::-1])
PY
"$PY" "$D/score.py" "$tmp/set" "$tmp/runs/tiny" 0 2>"$tmp/score.err" || { cat "$tmp/score.err"; echo "FAIL: score.py"; exit 1; }
if "$PY" "$D/score.py" "$tmp/set" "$tmp/bad" 0 2>"$tmp/bad.err"; then
    echo "FAIL: score.py accepted an embedding whose cells are in another order"; exit 1
fi
grep -q "not those of all.h5ad" "$tmp/bad.err" || { cat "$tmp/bad.err"; echo "FAIL: no clear error"; exit 1; }
"$PY" "$D/report.py" "$tmp/runs" tiny >"$tmp/report.md" 2>&1 || { cat "$tmp/report.md"; echo "FAIL: report.py"; exit 1; }
"$PY" - "$tmp" <<'PY'
import json, sys
t = sys.argv[1]
r = json.load(open(f"{t}/runs/tiny/scores_seed0.json"))
bad = []
if r["cells_scored"] != 179 or r["cells"] != 180:
    bad.append(f"cells scored {r['cells_scored']} of {r['cells']}, want 179 of 180")
k, p = r["batch"]["kida"], r["batch"]["pca"]
for c in ("iLISI", "Batch correction", "Total"):
    if not k[c] > p[c]:
        bad.append(f"{c}: overlapping batches {k[c]:.3f} not above separate batches {p[c]:.3f}")
rep = open(f"{t}/report.md").read()
row = f"| kida | no | {k['iLISI']:.3f} |"
if row not in rep:
    bad.append(f"report has no row starting {row!r}:\n{rep}")
print("\n".join("FAIL: " + b for b in bad) or "integration_score: ok")
sys.exit(1 if bad else 0)
PY
