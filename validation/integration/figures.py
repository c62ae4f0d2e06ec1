#!/usr/bin/env python3
"""UMAPs of every embedding of one integration set, side by side.

    figures.py SET_DIR RUN_DIR SEED OUT.png

One column per embedding (RUN_DIR/<method>_seed<SEED>.npz, in score.py's order), one row per
colouring: the batch (file of origin), the cell type (unlabelled cells grey) and, for a set of
several modalities, the modality. UMAP: umap-learn on the embedding, 15 neighbours, the same
seed for every method, so the columns differ only by the embedding.
"""
import os
import sys

import anndata as ad
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from score import load  # noqa: E402


def umap2(z, seed):
    import umap
    return umap.UMAP(n_neighbors=15, min_dist=0.3, random_state=seed, n_jobs=1).fit_transform(z)


def panel(ax, xy, values, title, legend):
    cats = sorted({v for v in values if v != "nan"})
    cmap = plt.get_cmap("tab20" if len(cats) > 10 else "tab10")
    miss = values == "nan"
    ax.scatter(xy[miss, 0], xy[miss, 1], s=2, c="lightgrey", linewidths=0)
    for i, c in enumerate(cats):
        sel = values == c
        ax.scatter(xy[sel, 0], xy[sel, 1], s=2, color=cmap(i % cmap.N), linewidths=0, label=c)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if legend:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=6, markerscale=3, frameon=False)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    set_dir, run_dir, seed, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    both = ad.read_h5ad(os.path.join(set_dir, "all.h5ad"), backed="r")
    embs = load(run_dir, seed, list(both.obs_names))
    rows = ["batch", "cell_type"] + (["modality"] if both.obs["modality"].nunique() > 1 else [])
    vals = {r: both.obs[r].astype(str).to_numpy() for r in rows}
    fig, axes = plt.subplots(len(rows), len(embs), figsize=(2.6 * len(embs) + 1.4, 2.5 * len(rows)),
                             squeeze=False)
    for j, (m, z) in enumerate(embs.items()):
        xy = umap2(z, seed)
        for i, r in enumerate(rows):
            panel(axes[i, j], xy, vals[r], f"{m} · {r}", j == len(embs) - 1)
    name = os.path.basename(os.path.normpath(set_dir))
    fig.suptitle(f"{name}: UMAP of each embedding (kida: no batch key; harmony, scvi, scanorama: batch key)",
                 fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out + ".tmp.png", dpi=110)
    os.replace(out + ".tmp.png", out)
    print(f"{name}: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
