#!/usr/bin/env python3
"""scib-metrics scores of every embedding of one integration set.

    score.py SET_DIR RUN_DIR SEED [--out RUN_DIR/scores_seed<SEED>.json]

Reads every RUN_DIR/<method>_seed<SEED>.npz (kida, pca, harmony, scvi, scanorama, and kida
variants such as kida_tm) and scores them on the labelled cells of SET_DIR/all.h5ad with scib-metrics'
Benchmarker and its default metrics: bio conservation (isolated labels, KMeans NMI and ARI,
label silhouette, cLISI) and batch correction (BRAS, scib-metrics' batch silhouette; iLISI;
kBET per label; graph connectivity; PCR comparison against PCA-50), unscaled (min_max_scale
off, so a number does not depend on which other methods are in the table); the totals are
scib's: batch = mean of the batch metrics, bio = mean of the bio metrics, total = 0.4 batch +
0.6 bio. Neighbours are exact (scikit-learn), self included. The batch key is obs `batch`,
the set's file of origin; a set of several modalities is scored a second time with obs
`modality` as the batch, and with the modality iLISI within each cell type that holds both
modalities (scib's iLISI on a kNN graph of that type's cells, k = min(90, cells - 1); the mean
over those types, weighted by cells), next to the same for random neighbours (a Gaussian
embedding), the most mixing there can be.
"""
import argparse
import json
import os
import sys
import warnings

import anndata as ad
import numpy as np
import pandas as pd

METHODS = ["kida", "pca", "harmony", "scvi", "scanvi", "scanorama"]


def exact_neighbors(x, k):
    from scib_metrics.nearest_neighbors import NeighborsResults
    from sklearn.neighbors import NearestNeighbors
    k = min(k, x.shape[0])
    dist, idx = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x)
    return NeighborsResults(indices=idx, distances=dist)


def load(run_dir, seed, names):
    """{method: embedding} of every RUN_DIR/<method>_seed<SEED>.npz, METHODS first."""
    tail = f"_seed{seed}.npz"
    found = sorted(f[:-len(tail)] for f in os.listdir(run_dir) if f.endswith(tail))
    embs = {}
    for m in [m for m in METHODS if m in found] + [m for m in found if m not in METHODS]:
        p = os.path.join(run_dir, m + tail)
        z = np.load(p)
        if list(z["obs_names"]) != names:
            sys.exit(f"error: {p}: its cells are not those of all.h5ad in the same order; rerun it")
        embs[m] = z["emb"]
    return embs


def benchmark(obs, embs, batch_key):
    from scib_metrics.benchmark import Benchmarker
    a = ad.AnnData(X=np.zeros((obs.shape[0], 1), dtype=np.float32), obs=obs)
    for m, z in embs.items():
        a.obsm[m] = z
    bm = Benchmarker(a, batch_key=batch_key, label_key="cell_type", embedding_obsm_keys=list(embs),
                     pre_integrated_embedding_obsm_key="pca", n_jobs=1, progress_bar=False)
    bm.prepare(neighbor_computer=exact_neighbors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bm.benchmark()
    df = bm.get_results(min_max_scale=False)
    df = df.drop(index="Metric Type")
    return {m: {k: float(v) for k, v in df.loc[m].items()} for m in embs}


def modality_mixing(obs, embs, seed):
    """Modality iLISI within each cell type with both modalities; random neighbours alongside."""
    from scib_metrics import ilisi_knn
    types = [t for t, g in obs.groupby("cell_type", observed=True) if g["modality"].nunique() > 1]
    rng = np.random.default_rng(seed)
    rand = rng.standard_normal((obs.shape[0], 10)).astype(np.float32)
    out = {"types": types}
    for m, z in list(embs.items()) + [("random", rand)]:
        per, n = {}, {}
        for t in types:
            sel = (obs["cell_type"] == t).to_numpy()
            nn = exact_neighbors(z[sel], 90)
            per[t] = float(ilisi_knn(nn, obs["modality"].to_numpy()[sel]))
            n[t] = int(sel.sum())
        out[m] = {"per_type": per, "mean": float(sum(per[t] * n[t] for t in types) / sum(n.values()))}
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("set_dir")
    p.add_argument("run_dir")
    p.add_argument("seed", type=int)
    p.add_argument("--out")
    a = p.parse_args()
    both = ad.read_h5ad(os.path.join(a.set_dir, "all.h5ad"), backed="r")
    obs = both.obs[["cell_type", "batch", "modality"]].copy()
    embs = load(a.run_dir, a.seed, list(both.obs_names))
    if "pca" not in embs:
        sys.exit(f"error: {a.run_dir}: no pca_seed{a.seed}.npz (PCA-50 is the pre-integration embedding scib needs)")
    lab = obs["cell_type"].notna().to_numpy()
    obs = obs[lab].copy()
    for k in obs:
        obs[k] = pd.Categorical(obs[k].astype(str))
    embs = {m: z[lab] for m, z in embs.items()}
    info = json.load(open(os.path.join(a.set_dir, "set.json")))
    res = {"set": info["name"], "seed": a.seed, "cells_scored": int(lab.sum()), "cells": int(lab.size),
           "reference": info["reference"], "batches": list(obs["batch"].cat.categories),
           "batch": benchmark(obs, embs, "batch")}
    if obs["modality"].nunique() > 1:
        res["modality"] = benchmark(obs, embs, "modality")
        res["modality_within_types"] = modality_mixing(obs, embs, a.seed)
    out = a.out or os.path.join(a.run_dir, f"scores_seed{a.seed}.json")
    with open(out + ".tmp", "w") as f:
        json.dump(res, f, indent=1)
    os.replace(out + ".tmp", out)
    for m, r in res["batch"].items():
        print(f"{info['name']} {m:10s} batch {r['Batch correction']:.3f} bio {r['Bio conservation']:.3f} "
              f"total {r['Total']:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
