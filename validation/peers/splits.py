#!/usr/bin/env python3
"""The real reference -> query splits of kida's benchmark, and the files each tool reads.

Every split is a pair of .h5ad files with raw counts in X (cells x genes, CSR), a `cell_type`
obs column, and `batch`. They are cut from the bundled PBMC files (data/) and from the
derived data sets that validation/make_extra_datasets.py writes from the project's shared
sources. ATAC splits come as peak counts (for kida, `--modality atac --genes hg19`) and as the
gene activity `kida genescore` computes from them (for the other tools: the same genes kida
sees).

    splits.py list                       # one line per split: name, kind, cells
    splits.py make OUT_DIR [--datasets D] [--kida BIN] [--only a,b]
        writes OUT_DIR/<split>/{ref,query}.h5ad (+ ref_genes/query_genes for ATAC) and
        OUT_DIR/<split>/split.json (what kida needs besides the two files)
"""
import argparse
import json
import os
import subprocess
import sys

import anndata as ad
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("KIDA_TOP") or os.path.abspath(os.path.join(HERE, "..", ".."))

# name -> (source file, how to cut it, extra kida options describing the data)
#   ("file", ref, query)            two files as they are
#   ("batch", file, key, value)     query = cells with obs[key] == value, reference = the rest
#   ("batch-rev", file, key, value) the reverse: reference = obs[key] == value
SPLITS = {
    "pbmc_v2_to_v3": (("file", "data/pbmc_v2_ref.h5ad", "data/pbmc_v3_query.h5ad"), []),
    "pbmc_v3_to_v2": (("file", "data/pbmc_v3_query.h5ad", "data/pbmc_v2_ref.h5ad"), []),
    "symphony_lobo_3pv1": (("batch", "symphony_pbmcs_small.h5ad", "batch", "3pv1"), []),
    "symphony_lobo_3pv2": (("batch", "symphony_pbmcs_small.h5ad", "batch", "3pv2"), []),
    "symphony_lobo_5p": (("batch", "symphony_pbmcs_small.h5ad", "batch", "5p"), []),
    "celllines_celseq2_to_dropseq": (("batch", "sc_mixology_3cl.h5ad", "batch", "Drop-seq"), []),
    "celllines_dropseq_to_celseq2": (("batch-rev", "sc_mixology_3cl.h5ad", "batch", "Drop-seq"), []),
    "cellbench_lobo_10x": (("batch", "cellbench_3protocols.h5ad", "batch", "10x"), []),
    "cellbench_lobo_CEL-seq2": (("batch", "cellbench_3protocols.h5ad", "batch", "CEL-seq2"), []),
    "cellbench_lobo_Drop-seq": (("batch", "cellbench_3protocols.h5ad", "batch", "Drop-seq"), []),
    "dlpfc_left_to_right": (("batch-rev", "dlpfc151510.h5ad", "region", "left"), ["--modality", "spatial"]),
    "dlpfc_right_to_left": (("batch", "dlpfc151510.h5ad", "region", "left"), ["--modality", "spatial"]),
    "atac_D6T1_to_D5T1": (("batch", "granja_hemato_atac.h5ad", "batch", "BMMC_D5T1"), ["--modality", "atac", "--genes", "hg19"]),
    "atac_D5T1_to_D6T1": (("batch-rev", "granja_hemato_atac.h5ad", "batch", "BMMC_D5T1"), ["--modality", "atac", "--genes", "hg19"]),
}
# the splits of `run.sh --quick`: one per family, the ones that move most between configurations
QUICK = ["pbmc_v2_to_v3", "symphony_lobo_3pv1", "cellbench_lobo_Drop-seq", "dlpfc_left_to_right"]


def is_atac(name):
    return name.startswith("atac_")


def cut(name, datasets):
    how, _ = SPLITS[name]
    if how[0] == "file":
        return ad.read_h5ad(os.path.join(TOP, how[1])), ad.read_h5ad(os.path.join(TOP, how[2]))
    a = ad.read_h5ad(os.path.join(datasets, how[1]))
    sel = (a.obs[how[2]].astype(str) == how[3]).to_numpy()
    if how[0] == "batch-rev":
        sel = ~sel
    return a[~sel].copy(), a[sel].copy()


def write(a, path):
    tmp = path + ".tmp.h5ad"
    a.write_h5ad(tmp)
    os.replace(tmp, path)


def gene_activity(kida, peaks_path, out_path):
    subprocess.run([kida, "genescore", "--peaks", peaks_path, "--genes", "hg19", "--out", out_path,
                    "--overwrite", "--quiet"], check=True)


def make(out, datasets, kida, only):
    for name in only or SPLITS:
        d = os.path.join(out, name)
        if os.path.exists(os.path.join(d, "split.json")):
            continue
        os.makedirs(d, exist_ok=True)
        ref, query = cut(name, datasets)
        write(ref, os.path.join(d, "ref.h5ad"))
        write(query, os.path.join(d, "query.h5ad"))
        info = {"name": name, "kida_options": SPLITS[name][1], "ref_cells": ref.n_obs, "query_cells": query.n_obs,
                "ref_types": sorted(map(str, ref.obs["cell_type"].dropna().unique())),
                "query_types": sorted(map(str, query.obs["cell_type"].dropna().unique()))}
        if is_atac(name):  # the other tools read gene activity: the genes kida computes from the peaks
            for part in ("ref", "query"):
                gene_activity(kida, os.path.join(d, f"{part}.h5ad"), os.path.join(d, f"{part}_genes.h5ad"))
        with open(os.path.join(d, "split.json"), "w") as f:
            json.dump(info, f, indent=1)
        print(f"{name}: reference {ref.n_obs} cells, query {query.n_obs} cells", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd", choices=["list", "make"])
    p.add_argument("out", nargs="?")
    p.add_argument("--datasets", default=os.path.join(TOP, ".work", "datasets"))
    p.add_argument("--kida", default="kida")
    p.add_argument("--only", default="")
    a = p.parse_args()
    only = [s for s in a.only.split(",") if s]
    for s in only:
        if s not in SPLITS:
            sys.exit(f"error: unknown split {s!r}; splits: {', '.join(SPLITS)}")
    if a.cmd == "list":
        for n in SPLITS:
            print(n, "quick" if n in QUICK else "")
        return
    if not a.out:
        sys.exit("error: make needs OUT_DIR")
    make(a.out, a.datasets, a.kida, only)


if __name__ == "__main__":
    main()
