#!/usr/bin/env python3
"""The real multi-batch sets of the integration benchmark, as the files each tool reads.

    sets.py                                        # one line per set: name, reference batch
    sets.py OUT_DIR [--datasets D] [--kida BIN] [--only a,b]

For each set, OUT_DIR/<set>/ holds
  <batch>.h5ad    one file per batch (raw counts; ATAC files as peak counts), what kida reads:
                  `kida annotate --reference <the reference batch(es)> --query <every batch>`,
                  so that X_kida covers every cell of the set;
  all.h5ad        every cell, in the order of the batch files, on the genes all batches share
                  (ATAC as the gene activity `kida genescore` computes from the peaks, the genes
                  kida sees): raw counts in X, obs cell_type, batch, modality; what the peers read;
  set.json        files, reference files, modalities, the kida options the data needs.
The sets come from the bundled PBMC files (data/) and the derived data sets that
validation/make_extra_datasets.py writes from the project's shared sources (--datasets).
"""
import argparse
import json
import os
import sys

import anndata as ad
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "peers"))
from splits import gene_activity, write  # noqa: E402  (the accuracy benchmark's: one way to write both)

# name -> source, the batch key of the source, the reference batches, the modality of each batch.
# A source "data/..." is relative to the repository; a bare name is a derived data set. A list
# of (file, batch name, modality) sources is taken as it is (one batch per file).
SETS = {
    "pbmc_10x_v2_v3": {
        "files": [("data/pbmc_v2_ref.h5ad", "10x_v2", "rna"), ("data/pbmc_v3_query.h5ad", "10x_v3", "rna")],
        "reference": ["10x_v2"]},
    "symphony_3chem": {"source": "symphony_pbmcs_small.h5ad", "reference": ["3pv2"]},
    "mixology_3cl": {"source": "sc_mixology_3cl.h5ad", "reference": ["CEL-seq2"]},
    "cellbench_3prot": {"source": "cellbench_3protocols.h5ad", "reference": ["10x"]},
    # RNA + ATAC as validation/run_multimodal.sh: the bundled PBMC RNA and the two Granja
    # marrow ATAC donors; the reference has both modalities (only B and CD8 T are in both)
    "pbmc_rna_marrow_atac": {
        "files": [("data/pbmc_v2_ref.h5ad", "rna_10x_v2", "rna"), ("data/pbmc_v3_query.h5ad", "rna_10x_v3", "rna"),
                  ("data/granja_atac.h5ad:BMMC_D6T1", "atac_D6T1", "atac"),
                  ("data/granja_atac.h5ad:BMMC_D5T1", "atac_D5T1", "atac")],
        "reference": ["rna_10x_v2", "atac_D6T1"]},
}


def safe(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def batches(spec, datasets):
    """[(batch name, modality, AnnData of raw counts)] in the set's order."""
    if "files" in spec:
        out = []
        for src, name, mod in spec["files"]:
            path, _, keep = src.partition(":")
            a = ad.read_h5ad(os.path.join(TOP, path))
            if keep:
                a = a[a.obs["batch"].astype(str) == keep].copy()
            out.append((name, mod, a))
        return out
    a = ad.read_h5ad(os.path.join(datasets, spec["source"]))
    names = list(a.obs["batch"].cat.categories)
    return [(str(b), "rna", a[a.obs["batch"] == b].copy()) for b in names]


def combined(parts):
    """Every cell on the genes all batches share; obs cell_type, batch, modality."""
    common = None
    for _, _, a in parts:
        have = set(a.var_names)
        common = list(a.var_names) if common is None else [g for g in common if g in have]
    blocks = []
    for name, mod, a in parts:
        b = a[:, common].copy()
        b.obs = pd.DataFrame({"cell_type": a.obs["cell_type"].astype(object).to_numpy(),
                              "batch": name, "modality": mod}, index=a.obs_names)
        blocks.append(b)
    both = ad.concat(blocks, join="inner")
    both.obs_names_make_unique()
    for k in ("cell_type", "batch", "modality"):
        both.obs[k] = pd.Categorical(both.obs[k])
    return both


def make(out, datasets, kida, only):
    """Writes the sets of `only` (all when empty) that OUT has no set.json of yet."""
    todo = [n for n in only or SETS if not os.path.exists(os.path.join(out, n, "set.json"))]
    for name in todo:
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        spec = SETS[name]
        parts = batches(spec, datasets)
        files, peer_parts = [], []
        for bname, mod, a in parts:
            path = os.path.join(d, safe(bname) + ".h5ad")
            a.obs["batch"] = pd.Categorical([bname] * a.n_obs)
            write(a, path)
            files.append({"batch": bname, "file": path, "modality": mod, "cells": a.n_obs,
                          "labelled": int(a.obs["cell_type"].notna().sum())})
            if mod == "atac":  # the peers read the gene activity kida computes from the same peaks
                gpath = os.path.join(d, safe(bname) + "_genes.h5ad")
                gene_activity(kida, path, gpath)
                a = ad.read_h5ad(gpath)
            peer_parts.append((bname, mod, a))
        missing = [r for r in spec["reference"] if r not in [f["batch"] for f in files]]
        if missing:
            sys.exit(f"error: set {name}: reference batch {missing} is not a batch of the set")
        both = combined(peer_parts)
        write(both, os.path.join(d, "all.h5ad"))
        info = {"name": name, "files": files, "reference": spec["reference"], "genes_shared": both.n_vars,
                "kida_options": ["--genes", "hg19"] if any(f["modality"] == "atac" for f in files) else []}
        with open(os.path.join(d, "set.json"), "w") as f:
            json.dump(info, f, indent=1)
        print(f"{name}: {both.n_obs} cells in {len(files)} batches, {both.n_vars} shared genes, "
              f"reference {', '.join(spec['reference'])}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", help="write the sets' files here (none: list the sets)")
    p.add_argument("--datasets", default=os.path.join(TOP, ".work", "datasets"),
                   help="validation/make_extra_datasets.py's output folder")
    p.add_argument("--kida", default="kida", help="the kida binary (its genescore makes the ATAC gene activity)")
    p.add_argument("--only", default="", help="comma list of sets (default all)")
    a = p.parse_args()
    only = [s for s in a.only.split(",") if s]
    unknown = [s for s in only if s not in SETS]
    if unknown:
        sys.exit(f"error: --only: unknown set(s) {', '.join(unknown)}; the sets: {', '.join(SETS)}")
    if a.out:
        make(a.out, a.datasets, a.kida, only)
    else:
        print("\n".join(f"{n} {','.join(spec['reference'])}" for n, spec in SETS.items()))


if __name__ == "__main__":
    main()
