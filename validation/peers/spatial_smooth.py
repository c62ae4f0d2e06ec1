#!/usr/bin/env python3
"""Scores spatial smoothing on a spatial split: kida outputs smoothed as `--spatial-smooth N`
does, and the peers' labels with the same neighbours as a majority vote.

    spatial_smooth.py SPLIT_DIR [--kida RUN.h5ad ...] [--peers PREFIX ...] [--k 7 19]

RUN.h5ad: a `kida annotate` output of the split kept by kida_run.py (KIDA_KEEP_OUTPUT=1), with
obsm kida_proba, kida_teacher_proba and spatial. PREFIX: a peers.py output prefix (PREFIX.tsv:
cell, label). Neighbours: the k nearest spots by obsm["spatial"] read as float32, distances in
double, the spot itself first, ties by index (the rule of src/analysis/spatial.c). kida: the mean
of the probabilities; peers (labels only): the most frequent label, ties to the spot's own label
when it is among the most frequent, else the first by name. Accuracy / macro-F1 over the query
spots whose type the reference has.
"""
import argparse
import collections
import json
import os

import sys

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score as scores  # noqa: E402


def neighbours(xy, k):
    n = len(xy)
    out = np.empty((n, k), dtype=np.int64)
    _, cand = cKDTree(xy).query(xy, k=min(n, k + 12))   # a margin for ties at the k-th distance
    for i in range(n):
        c = cand[i]
        d = ((xy[c] - xy[i]) ** 2).sum(1)
        d[c == i] = -1
        out[i] = c[np.lexsort((c, d))][:k]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split")
    ap.add_argument("--kida", nargs="*", default=[])
    ap.add_argument("--peers", nargs="*", default=[])
    ap.add_argument("--k", nargs="*", type=int, default=[7, 19])
    a = ap.parse_args()
    import anndata as ad
    info = json.load(open(os.path.join(a.split, "split.json")))
    q = ad.read_h5ad(os.path.join(a.split, "query.h5ad"), backed="r")
    xy = np.asarray(q.obsm["spatial"], dtype=np.float32).astype(np.float64)
    truth = q.obs["cell_type"].astype(str).to_numpy()
    cells = list(q.obs_names)

    def score(lab):
        c = scores.classification(truth, lab, info["ref_types"])
        return f"{c['accuracy']:.3f}/{c['macro_f1']:.3f}"
    nb = {k: neighbours(xy, k) for k in a.k}
    for run in a.kida:
        r = ad.read_h5ad(run, backed="r")
        names = np.asarray([str(c) for c in r.uns["kida"]["proba_columns"]])
        assert list(r.obs_names) == cells, f"{run}: not this split's query"
        for key, tag in (("kida_teacher_proba", "KI"), ("kida_proba", "KIDA")):
            p = np.asarray(r.obsm[key], dtype=np.float64)
            row = [f"none {score(names[p.argmax(1)])}"] + [f"N={k} {score(names[p[nb[k]].mean(1).argmax(1)])}" for k in a.k]
            print(f"{os.path.basename(run)} {tag}: " + " | ".join(row))
    for prefix in a.peers:
        d = dict(line.rstrip("\n").split("\t")[:2] for line in open(prefix + ".tsv"))
        lab = np.asarray([d[c] for c in cells])
        row = [f"none {score(lab)}"]
        for k in a.k:
            vote = []
            for i in range(len(lab)):
                cnt = collections.Counter(lab[nb[k][i]])
                top = max(cnt.values())
                best = sorted(x for x in cnt if cnt[x] == top)
                vote.append(lab[i] if lab[i] in best else best[0])
            row.append(f"vote {k} {score(np.asarray(vote))}")
        print(f"{os.path.basename(prefix)}: " + " | ".join(row))


if __name__ == "__main__":
    main()
