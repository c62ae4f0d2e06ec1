#!/usr/bin/env python3
"""Build kida's bundled test data (data/*.h5ad) from the 10x PBMC 1k sources.

Usage (from the repository root):
    /usr/bin/python3 validation/make_bundled_data.py SRC_DIR [OUT_DIR]
SRC_DIR is the folder with pbmc_1k_v2_filtered_feature_bc_matrix.h5, celltypes_1k_v2.tsv,
1k_PBMC_v3_filt.{genes_x_cells.mtx.gz,genes.txt,cells.txt} and celltype_labels.tsv
(shared/data/pbmc_10x_1k_v2_v3_5p). OUT_DIR defaults to data/.

Writes
  pbmc_v2_ref.h5ad    10x 3' v2, 996 cells x 33,538 genes, raw counts, obs cell_type + batch
  pbmc_v3_query.h5ad  10x 3' v3,  906 cells x 14,688 genes, raw counts, obs cell_type (83 NA) + batch
  pbmc_v2_10x.h5      the CellRanger .h5 itself (copied when under 4 MB), for the 10x reader
Needs numpy, scipy, pandas, h5py, anndata (Debian python3-anndata or pip anndata).
"""
import gzip
import os
import shutil
import sys

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp


def decode(a):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in a]


def read_labels(path):
    t = pd.read_csv(path, sep="\t", dtype=str)
    if list(t.columns[:2]) != ["cell", "celltype"]:
        sys.exit(f"{path}: expected columns cell, celltype; got {list(t.columns)}")
    return dict(zip(t["cell"], t["celltype"]))


def labelled(adata, labels, batch):
    lab = [labels.get(b) for b in adata.obs_names]
    cats = sorted({x for x in lab if x is not None})
    adata.obs["cell_type"] = pd.Categorical(lab, categories=cats)
    adata.obs["batch"] = pd.Categorical([batch] * adata.n_obs)
    return adata


def read_10x_h5(path):
    with h5py.File(path, "r") as f:
        m = f["matrix"]
        n_genes, n_cells = (int(x) for x in m["shape"][:])
        # stored genes x cells column-major = cells x genes row-major
        X = sp.csr_matrix((m["data"][:].astype(np.float32), m["indices"][:], m["indptr"][:]),
                          shape=(n_cells, n_genes))
        obs = pd.DataFrame(index=pd.Index(decode(m["barcodes"][:])))
        var = pd.DataFrame({"gene_ids": decode(m["features/id"][:])},
                           index=pd.Index(decode(m["features/name"][:])))
    X.sort_indices()
    return ad.AnnData(X=X, obs=obs, var=var)


def read_mtx(prefix):
    with gzip.open(prefix + ".genes_x_cells.mtx.gz", "rb") as fh:
        M = scipy.io.mmread(fh)
    X = sp.csr_matrix(M.T, dtype=np.float32)
    X.sort_indices()
    genes = open(prefix + ".genes.txt").read().split()
    cells = open(prefix + ".cells.txt").read().split()
    if X.shape != (len(cells), len(genes)):
        sys.exit(f"{prefix}: matrix {X.shape} does not match {len(cells)} cells x {len(genes)} genes")
    return ad.AnnData(X=X, obs=pd.DataFrame(index=pd.Index(cells)), var=pd.DataFrame(index=pd.Index(genes)))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "data"
    os.makedirs(out, exist_ok=True)

    h5 = os.path.join(src, "pbmc_1k_v2_filtered_feature_bc_matrix.h5")
    ref = read_10x_h5(h5)
    ref.var_names_make_unique()
    ref = labelled(ref, read_labels(os.path.join(src, "celltypes_1k_v2.tsv")), "10x 3' v2")
    ref.write_h5ad(os.path.join(out, "pbmc_v2_ref.h5ad"), compression="gzip")

    qry = read_mtx(os.path.join(src, "1k_PBMC_v3_filt"))
    qry.var_names_make_unique()
    qry = labelled(qry, read_labels(os.path.join(src, "celltype_labels.tsv")), "10x 3' v3")
    qry.write_h5ad(os.path.join(out, "pbmc_v3_query.h5ad"), compression="gzip")

    if os.path.getsize(h5) < 4 * 1024 * 1024:
        shutil.copyfile(h5, os.path.join(out, "pbmc_v2_10x.h5"))

    for name, a in (("pbmc_v2_ref.h5ad", ref), ("pbmc_v3_query.h5ad", qry)):
        counts = a.obs["cell_type"].value_counts(dropna=False)
        print(f"{name}: {a.n_obs} cells x {a.n_vars} genes, nnz {a.X.nnz}")
        for k, v in counts.items():
            print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
