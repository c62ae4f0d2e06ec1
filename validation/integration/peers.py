#!/usr/bin/env python3
"""The embeddings integration users pick, on one integration set (SET_DIR/all.h5ad).

    peers.py METHOD SET_DIR SEED OUT_PREFIX       METHOD: pca | harmony | scvi | scanvi | scanorama

Every method starts from the same cells and genes (raw counts; ATAC as gene activity) and the
usual scanpy preprocessing: normalize_total 1e4, log1p, 2,000 highly variable genes chosen
with the batch key (Seurat flavour, scanpy's batch_key), for PCA and Harmony scaled (clip 10).
  pca        PCA-50 of that matrix: no integration, the baseline
  harmony    harmonypy on PCA-50, batch key given (its defaults otherwise)
  scvi       scvi-tools SCVI on the raw counts of the 2,000 genes, batch key given; 2 layers,
             30 latent dimensions, negative binomial (scib-metrics' tutorial settings), at most
             SCVI_EPOCHS epochs (default 200; scvi-tools' own default is 400 on sets this small)
  scanvi     scvi-tools SCANVI started from that scVI model (scArches-style), given the batch
             key and the cell types of the reference batches only (set.json's reference; every
             other cell "Unknown"): the same labels kida gets, so the fair supervised peer on bio
             conservation; SCANVI_EPOCHS (default 20) more epochs, 100 cells per label a batch
  scanorama  scanorama.integrate on the log-normalised genes, one matrix per batch (50 dims)
The batch key is obs `batch` (one per file; in the RNA + ATAC set that separates the modalities
too). Writes OUT_PREFIX.npz (emb, obs_names) and OUT_PREFIX.json (seconds, settings).
"""
import json
import os
import sys
import time

import anndata as ad
import numpy as np
import scanpy as sc

N_HVG = 2000
N_PCS = 50
SCVI_EPOCHS = int(os.environ.get("SCVI_EPOCHS", "200"))
SCANVI_EPOCHS = int(os.environ.get("SCANVI_EPOCHS", "20"))
UNLABELLED = "Unknown"


def lognorm(a):
    """a with layers counts, X = log1p(CP10k), var highly_variable (batch-aware)."""
    a.layers["counts"] = a.X.copy()
    sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    n = min(N_HVG, a.n_vars)
    sc.pp.highly_variable_genes(a, n_top_genes=n, flavor="seurat", batch_key="batch")
    return a[:, a.var["highly_variable"]].copy()


def pca(a, seed, set_dir=None):
    b = a.copy()
    sc.pp.scale(b, max_value=10)
    sc.tl.pca(b, n_comps=min(N_PCS, b.n_vars - 1, b.n_obs - 1), random_state=seed)
    return b.obsm["X_pca"]


def harmony(a, seed, set_dir=None):
    import harmonypy
    z = pca(a, seed)
    h = harmonypy.run_harmony(z, a.obs, ["batch"], random_state=seed, verbose=False)
    z = np.asarray(h.Z_corr)
    return z.T if z.shape[0] != a.n_obs else z


def scvi_model(a, seed, labels=None):
    """scVI trained on a's raw counts with the batch key (and, for scANVI, obs `label`)."""
    import scvi
    import torch
    scvi.settings.seed = seed
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    b = ad.AnnData(X=a.layers["counts"].copy(), obs=a.obs[["batch"]].copy())
    if labels is not None:
        b.obs["label"] = labels
    scvi.model.SCVI.setup_anndata(b, batch_key="batch", labels_key=None if labels is None else "label")
    m = scvi.model.SCVI(b, n_layers=2, n_latent=30, gene_likelihood="nb")
    m.train(max_epochs=SCVI_EPOCHS, accelerator="cpu", enable_progress_bar=False)
    return m


def scvi_emb(a, seed, set_dir=None):
    return scvi_model(a, seed).get_latent_representation()


def scanvi_emb(a, seed, set_dir):
    """scANVI from the scVI model, with the reference batches' cell types as the only labels."""
    import scvi
    info = json.load(open(os.path.join(set_dir, "set.json")))
    ref = np.isin(a.obs["batch"].astype(str).to_numpy(), info["reference"])
    truth = a.obs["cell_type"].astype(object).to_numpy()
    known = np.array([t == t and t is not None for t in truth])
    labels = np.where(ref & known, truth.astype(str), UNLABELLED)
    if (labels == UNLABELLED).all():
        sys.exit(f"error: {set_dir}: no labelled cell in the reference batches {info['reference']}")
    m = scvi.model.SCANVI.from_scvi_model(scvi_model(a, seed, labels), unlabeled_category=UNLABELLED)
    m.train(max_epochs=SCANVI_EPOCHS, n_samples_per_label=100, accelerator="cpu", enable_progress_bar=False)
    return m.get_latent_representation()


def scanorama_emb(a, seed, set_dir=None):
    import scanorama
    np.random.seed(seed)
    order = list(a.obs["batch"].cat.categories)
    idx = [np.flatnonzero(a.obs["batch"].to_numpy() == b) for b in order]
    mats = [a.X[i] for i in idx]
    genes = [list(a.var_names)] * len(order)
    dims = min(N_PCS, a.n_vars - 1, min(len(i) for i in idx) - 1)
    integrated, _ = scanorama.integrate(mats, genes, dimred=dims, seed=seed, verbose=0)
    z = np.zeros((a.n_obs, integrated[0].shape[1]), dtype=np.float32)
    for i, e in zip(idx, integrated):
        z[i] = e
    return z


METHODS = {"pca": pca, "harmony": harmony, "scvi": scvi_emb, "scanvi": scanvi_emb, "scanorama": scanorama_emb}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in METHODS:
        sys.exit(__doc__)
    method, set_dir, seed, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    a = lognorm(ad.read_h5ad(os.path.join(set_dir, "all.h5ad")))
    t0 = time.time()
    z = np.asarray(METHODS[method](a, seed, set_dir), dtype=np.float32)
    wall = time.time() - t0
    if z.shape[0] != a.n_obs or not np.isfinite(z).all():
        sys.exit(f"error: {method}: embedding of shape {z.shape} (cells {a.n_obs}) or not finite")
    np.savez(prefix + ".npz.tmp.npz", emb=z, obs_names=np.asarray(a.obs_names, dtype=str))
    os.replace(prefix + ".npz.tmp.npz", prefix + ".npz")
    with open(prefix + ".json", "w") as f:
        json.dump({"method": method, "seed": seed, "wall_s": wall, "dims": int(z.shape[1]),
                   "genes": int(a.n_vars),
                   "scvi_epochs": SCVI_EPOCHS if method in ("scvi", "scanvi") else None,
                   "scanvi_epochs": SCANVI_EPOCHS if method == "scanvi" else None}, f, indent=1)
    print(f"{os.path.basename(set_dir)} {method} seed {seed}: {z.shape[1]} dims ({wall:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
