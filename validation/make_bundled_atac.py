#!/usr/bin/env python3
"""Build data/granja_atac.h5ad, kida's bundled scATAC test file, from the Granja et al. 2019
bone-marrow subset (shared/data/granja_hemato_atac_epichaos; see data/README.md for source and
licence).

Usage (from the repository root):
    /usr/bin/python3 validation/make_bundled_atac.py [SRC_DIR] [OUT]
SRC_DIR defaults to /work/shared/data, OUT to data/granja_atac.h5ad.

600 cells x 5,000 peaks (hg19 fragment counts; var names chr_start_end). obs:
  cell_type        the paper's BioClassification in the bundled PBMC vocabulary where the type
                   exists there (17_B -> "B cell", 19_CD8.N -> "CD8 T cell"); the progenitors keep
                   short names (HSC, CMP/LMPP, GMP, CLP), types the PBMC reference does not have
  cell_type_paper  BioClassification as published
  batch            donor (BMMC_D5T1, BMMC_D6T1)
Needs numpy, scipy, pandas, anndata (the same as validation/make_extra_datasets.py).
"""
import os
import sys
import tempfile

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_extra_datasets as mk  # noqa: E402

NAMES = {"01_HSC": "HSC", "05_CMP.LMPP": "CMP/LMPP", "07_GMP": "GMP", "15_CLP.2": "CLP",
         "17_B": "B cell", "19_CD8.N": "CD8 T cell"}


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"
    out = sys.argv[2] if len(sys.argv) > 2 else "data/granja_atac.h5ad"
    with tempfile.TemporaryDirectory() as tmp:
        mk.granja(src, tmp)
        a = mk.ad.read_h5ad(os.path.join(tmp, "granja_hemato_atac.h5ad"))
    paper = a.obs["cell_type"].astype(str)
    unknown = sorted(set(paper) - set(NAMES))
    if unknown:
        sys.exit(f"error: unexpected labels {unknown}")
    a.obs["cell_type_paper"] = pd.Categorical(paper)
    a.obs["cell_type"] = pd.Categorical([NAMES[x] for x in paper], categories=list(NAMES.values()))
    a.obs = a.obs[["cell_type", "cell_type_paper", "batch", "frip", "total_reads"]]
    del a.obsm["X_umap_paper"]
    a.uns["source"] = str(a.uns.get("source", "")) + "; cell_type renamed to the PBMC vocabulary (make_bundled_atac.py)"
    a.write_h5ad(out, compression="gzip")
    print(f"{out}: {a.n_obs} cells x {a.n_vars} peaks; cell_type {dict(a.obs['cell_type'].value_counts())}")


if __name__ == "__main__":
    main()
