#!/usr/bin/env python3
"""Runs one peer tool on one split and writes its labels and scores.

    peers.py TOOL SPLIT_DIR SEED OUT_PREFIX [--leave-out TYPE]

TOOL is one of: celltypist, celltypist_mv (majority voting), scanvi, ingest, singler, logreg,
knn. SPLIT_DIR holds ref.h5ad and query.h5ad (raw counts; for ATAC splits the tools read
ref_genes.h5ad / query_genes.h5ad, the gene activity kida also computes). Writes
OUT_PREFIX.json (scores, wall and CPU seconds, versions) and OUT_PREFIX.tsv (cell, label).
With --leave-out TYPE the reference loses every cell of TYPE first (novel-type benchmark): the
tools run in their abstaining mode (CellTypist prob-match p 0.5; the others cannot abstain and
are scored as they are).

Every tool is run as its documentation describes, with its defaults; the only choice made here
is the input each expects (raw counts for scANVI, log1p of counts per 10k for CellTypist,
SingleR and scanpy's ingest, and kida's own preprocessing for the logistic regression and kNN
baselines: 3,000 Seurat HVGs of the reference, scaled with the reference's mean and sd).
"""
import argparse
import json
import os
import resource
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score  # noqa: E402

TOOLS = ["celltypist", "celltypist_mv", "scanvi", "ingest", "singler", "logreg", "knn"]
STOCHASTIC = {"scanvi"}  # the others give the same labels for every seed


def load(split_dir, leave_out):
    import anndata as ad
    atac = os.path.exists(os.path.join(split_dir, "ref_genes.h5ad"))
    suffix = "_genes" if atac else ""
    ref = ad.read_h5ad(os.path.join(split_dir, f"ref{suffix}.h5ad"))
    query = ad.read_h5ad(os.path.join(split_dir, f"query{suffix}.h5ad"))
    lab = ref.obs["cell_type"]
    keep = lab.notna().to_numpy()
    if leave_out:
        keep &= (lab.astype(str) != leave_out).to_numpy()
    ref = ref[keep].copy()
    ref.obs["cell_type"] = ref.obs["cell_type"].astype(str)
    for a in (ref, query):
        a.X = sp.csr_matrix(a.X, dtype=np.float32)
        a.var_names_make_unique()
    return ref, query


def lognorm(a):
    import scanpy as sc
    b = a.copy()
    sc.pp.normalize_total(b, target_sum=1e4)
    sc.pp.log1p(b)
    return b


def on_genes(a, genes):
    """a's matrix on the given genes, in that order (a gene a lacks is zero)."""
    idx = {g: i for i, g in enumerate(a.var_names)}
    pairs = [(idx[g], j) for j, g in enumerate(genes) if g in idx]
    rows = np.array([p[0] for p in pairs], dtype=np.int64)
    cols = np.array([p[1] for p in pairs], dtype=np.int64)
    P = sp.csr_matrix((np.ones(len(pairs), np.float32), (rows, cols)), shape=(a.n_vars, len(genes)))
    return sp.csr_matrix(sp.csr_matrix(a.X) @ P)


def hvg_matrices(ref, query, n_top=3000):
    """Reference and query, log-normalised, on the reference's Seurat HVGs (dense, unscaled)."""
    import scanpy as sc
    r, q = lognorm(ref), lognorm(query)
    sc.pp.highly_variable_genes(r, n_top_genes=min(n_top, r.n_vars), flavor="seurat")
    genes = r.var_names[r.var["highly_variable"].to_numpy()]
    return r[:, genes].X.toarray(), on_genes(q, genes).toarray()


def kida_prep(ref, query, n_top=3000):
    """kida's preprocessing (docs/preprocessing.md): HVGs and scaling fitted on the reference."""
    R, Q = hvg_matrices(ref, query, n_top)
    mu, sd = R.mean(0), R.std(0, ddof=1)
    sd[sd == 0] = 1
    return np.clip((R - mu) / sd, -10, 10), np.clip((Q - mu) / sd, -10, 10)


def run_logreg(ref, query, seed, leave_out):
    from sklearn.linear_model import LogisticRegression
    R, Q = kida_prep(ref, query)
    m = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(R, ref.obs["cell_type"].to_numpy())
    return m.predict(Q)


def run_knn(ref, query, seed, leave_out):
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KNeighborsClassifier
    R, Q = kida_prep(ref, query)
    pca = PCA(n_components=min(50, R.shape[0] - 1, R.shape[1]), random_state=seed).fit(R)
    m = KNeighborsClassifier(n_neighbors=15).fit(pca.transform(R), ref.obs["cell_type"].to_numpy())
    return m.predict(pca.transform(Q))


def run_celltypist(ref, query, seed, leave_out, majority=False):
    import celltypist
    r, q = lognorm(ref), lognorm(query)
    np.random.seed(seed)
    model = celltypist.train(r, labels="cell_type", n_jobs=2)  # defaults, as the docs' training example
    mode = "prob match" if leave_out else "best match"
    res = celltypist.annotate(q, model=model, mode=mode, p_thres=0.5, majority_voting=majority)
    col = "majority_voting" if majority else "predicted_labels"
    return res.predicted_labels[col].astype(str).to_numpy()


def run_ingest(ref, query, seed, leave_out):
    import scanpy as sc
    r, q = lognorm(ref), lognorm(query)
    genes = [g for g in r.var_names if g in set(q.var_names)]
    r, q = r[:, genes].copy(), q[:, genes].copy()
    sc.pp.highly_variable_genes(r, n_top_genes=min(2000, r.n_vars), flavor="seurat")
    hv = r.var_names[r.var["highly_variable"].to_numpy()]
    r, q = r[:, hv].copy(), q[:, hv].copy()
    # scaled as the tutorial's reference is; the query with the reference's statistics
    R = r.X.toarray()
    mu, sd = R.mean(0), R.std(0)
    sd[sd == 0] = 1
    r.X = np.clip((R - mu) / sd, -10, 10)
    q.X = np.clip((q.X.toarray() - mu) / sd, -10, 10)
    sc.pp.pca(r, random_state=seed)
    sc.pp.neighbors(r, random_state=seed)
    sc.tl.ingest(q, r, obs="cell_type", embedding_method="pca")  # labels come from the kNN in PCA space
    return q.obs["cell_type"].astype(str).to_numpy()


def run_singler(ref, query, seed, leave_out):
    import singler
    r, q = lognorm(ref), lognorm(query)
    def genes_by_cells(a):
        m = sp.csc_matrix(a.X.T)
        m.sum_duplicates()
        m.sort_indices()
        return m
    res = singler.annotate_single(test_data=genes_by_cells(q), ref_data=genes_by_cells(r), ref_labels=list(r.obs["cell_type"]),
                                  test_features=list(q.var_names), ref_features=list(r.var_names), num_threads=2)
    return np.array([str(v) for v in res.get_column("best")], dtype=object)


def run_scanvi(ref, query, seed, leave_out):
    """scANVI by scArches surgery, as scvi-tools' reference-mapping tutorial does it."""
    import scanpy as sc
    import scvi
    import torch
    scvi.settings.seed = seed
    torch.set_num_threads(2)
    scvi.settings.dl_num_workers = 0
    ref = ref.copy()
    query = query.copy()
    ref.obs["batch"] = ("ref_" + ref.obs["batch"].astype(str)) if "batch" in ref.obs else "ref"
    query.obs["batch"] = ("query_" + query.obs["batch"].astype(str)) if "batch" in query.obs else "query"
    genes = ref.var_names
    sc.pp.highly_variable_genes(ref, n_top_genes=min(2000, ref.n_vars), flavor="seurat_v3")
    ref = ref[:, ref.var["highly_variable"].to_numpy()].copy()
    scvi.model.SCVI.setup_anndata(ref, batch_key="batch", labels_key="cell_type")
    vae = scvi.model.SCVI(ref, n_layers=2, encode_covariates=True, deeply_inject_covariates=False,
                          use_layer_norm="both", use_batch_norm="none")
    vae.train(accelerator="cpu", enable_progress_bar=False)
    lvae = scvi.model.SCANVI.from_scvi_model(vae, unlabeled_category="Unknown", labels_key="cell_type")
    lvae.train(max_epochs=20, n_samples_per_label=100, accelerator="cpu", enable_progress_bar=False)
    q = on_genes(query, ref.var_names)
    import anndata as ad
    qa = ad.AnnData(X=q, obs=query.obs[["batch"]].copy())
    qa.var_names = ref.var_names
    qa.obs["cell_type"] = "Unknown"
    scvi.model.SCANVI.prepare_query_anndata(qa, lvae)
    qm = scvi.model.SCANVI.load_query_data(qa, lvae)
    qm.train(max_epochs=100, plan_kwargs=dict(weight_decay=0.0), check_val_every_n_epoch=10, accelerator="cpu",
             enable_progress_bar=False)
    del genes
    return np.asarray(qm.predict(), dtype=object)


RUN = {"celltypist": run_celltypist, "celltypist_mv": lambda *a: run_celltypist(*a, majority=True),
       "scanvi": run_scanvi, "ingest": run_ingest, "singler": run_singler, "logreg": run_logreg, "knn": run_knn}
PKG = {"celltypist": "celltypist", "celltypist_mv": "celltypist", "scanvi": "scvi-tools", "ingest": "scanpy",
       "singler": "singler", "logreg": "scikit-learn", "knn": "scikit-learn"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tool", choices=TOOLS)
    p.add_argument("split_dir")
    p.add_argument("seed", type=int)
    p.add_argument("out_prefix")
    p.add_argument("--leave-out", default="")
    a = p.parse_args()
    from importlib.metadata import version
    t0, c0 = time.time(), resource.getrusage(resource.RUSAGE_SELF)
    ref, query = load(a.split_dir, a.leave_out)
    ref_types = sorted(set(ref.obs["cell_type"]))
    pred = RUN[a.tool](ref, query, a.seed, a.leave_out)
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    res = {"tool": a.tool, "seed": a.seed, "split": os.path.basename(os.path.normpath(a.split_dir)),
           "version": version(PKG[a.tool]), "wall_s": time.time() - t0,
           "cpu_s": (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)}
    truth = query.obs["cell_type"].to_numpy()
    if a.leave_out:
        res["leave_out"] = a.leave_out
        res.update(score.novel(truth, pred, a.leave_out, ref_types))
    res.update(score.classification(truth, pred, ref_types))
    tmp = a.out_prefix + ".tmp"
    with open(tmp, "w") as f:
        for cell, lab in zip(query.obs_names, pred):
            f.write(f"{cell}\t{lab}\n")
    os.replace(tmp, a.out_prefix + ".tsv")
    with open(tmp, "w") as f:
        json.dump(res, f, indent=1)
    os.replace(tmp, a.out_prefix + ".json")
    print(f"{res['split']} {a.tool} seed {a.seed}: accuracy {res['accuracy']:.3f} macro-F1 {res['macro_f1']:.3f} "
          f"({res['wall_s']:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
