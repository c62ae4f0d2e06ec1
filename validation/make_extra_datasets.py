#!/usr/bin/env python3
"""Convert the extra real data sets of the project's shared data into .h5ad files for kida's
benchmarks (derived data: written to a git-ignored folder, never committed).

Usage (from the repository root; pyenv python3 with anndata, or Debian /usr/bin/python3):
    python3 validation/make_extra_datasets.py [--src /work/shared/data] [--out .work/datasets]
        [--only NAME[,NAME..]]

Every file: X = raw counts, cells x features, CSR float32 (gzip); obs `cell_type` (categorical,
NaN = unlabelled) and `batch` (categorical: technology, plate, donor or slice); var names =
gene symbols (or peak names for ATAC), unique (anndata's var_names_make_unique); uns `source`
says where it came from and how it was converted.

  symphony_pbmcs_small.h5ad   1,200 PBMCs x 1,767 genes, batch = donor (3pv1 / 3pv2 / 5p).
      The shared matrix is log(CP10k+1) of the variable genes only. The meta table's nUMI is
      each cell's total over ALL genes, so counts = expm1(x) * nUMI / 1e4 are recovered exactly
      (integers to ~1e-12; the script checks and rounds). Those counts cover 1,767 genes, so
      kida's normalize_total sees a smaller library than the original; obs `n_umi_all_genes`
      keeps the original total. obs `cell_type_broad` kept too.
  sc_mixology_3cl.h5ad        CEL-seq2 (274) + Drop-seq (225) cells, 3 lung cancer cell lines,
      batch = protocol; labels = `cell_line_demuxlet` (SNP demultiplexing).
  sc_mixology_5cl.h5ad        CEL-seq2 plates p1/p2/p3 (909 cells), 5 cell lines, batch = plate.
      sc_mixology: ERCC spike-ins dropped; Ensembl IDs mapped to symbols with
      gene_annotation/orgHsEgDb_hg38 (unmapped IDs keep the Ensembl ID as name; var `gene_ids`
      = Ensembl); genes are the union over the batches of a file, a gene a batch's table lacks
      counts 0 there (those tables list the genes detected in that run).
  cepo_cellbench_10x.h5ad     895 cells x 894 genes, 10x Chromium, the same 3 cell lines.
  cellbench_3protocols.h5ad   10x + CEL-seq2 + Drop-seq, 3 cell lines, on the genes all three
      share (intersection), batch = protocol: a 3-batch leave-one-out test.
  dlpfc151510.h5ad            4,634 Visium spots x 500 genes, labels = cortical layers (39 NA),
      batch = "151510"; obsm `spatial` = (array col, array row); obs `region` = left / right
      half of the slice by array column (median split) for a within-slice transfer test.
  granja_hemato_atac.h5ad     600 cells x 5,000 peaks (hg19 fragment counts), labels =
      BioClassification, batch = donor (Group); var names = peak names, var chrom/start/end
      (0-based BED start); obsm `X_umap_paper`. Peaks, not genes: kida genescore turns them
      into gene activity with gene_annotation/kida_gene_anno/hg19_genes.bed.
"""
import argparse
import os
import sys
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

ALL = ["symphony_pbmcs_small", "sc_mixology", "cepo_cellbench_10x", "cellbench_3protocols",
       "dlpfc151510", "granja_hemato_atac"]


def read_lines(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def read_mtx_t(path):
    """features x cells Matrix Market -> cells x features CSR float32."""
    return sp.csr_matrix(scipy.io.mmread(path).T.tocsr(), dtype=np.float32)


def categorical(values):
    v = pd.Series(values, dtype=object)
    v = v.where(v.notna() & (v.astype(str) != "NA") & (v.astype(str) != "nan"), None)
    return pd.Categorical(v)


def make(X, obs_names, var_names, cell_type, batch, source, obs_extra=None, var_extra=None):
    obs = pd.DataFrame(index=pd.Index([str(c) for c in obs_names]))
    obs["cell_type"] = categorical(cell_type)
    obs["batch"] = categorical(batch)
    for k, v in (obs_extra or {}).items():
        obs[k] = v
    var = pd.DataFrame(index=pd.Index([str(g) for g in var_names]))
    for k, v in (var_extra or {}).items():
        var[k] = v
    with warnings.catch_warnings():  # repeated names are made unique just below
        warnings.simplefilter("ignore", UserWarning)
        a = ad.AnnData(X=sp.csr_matrix(X, dtype=np.float32), obs=obs, var=var)
    a.var_names_make_unique()
    a.obs_names_make_unique()
    a.uns["source"] = source
    return a


def check_counts(a, name):
    d = a.X.data
    if d.size and (not np.isfinite(d).all() or (d < 0).any() or np.abs(d - np.round(d)).max() > 1e-3):
        sys.exit(f"error: {name}: X is not raw counts")


def summary(a, name, path):
    nnz = a.X.nnz
    print(f"== {name}: {path}")
    print(f"   {a.n_obs} cells x {a.n_vars} features, nnz {nnz} "
          f"({100.0 * nnz / max(1, a.n_obs * a.n_vars):.1f}%), "
          f"median counts/cell {np.median(np.asarray(a.X.sum(1)).ravel()):.0f}")
    ct = a.obs["cell_type"]
    print(f"   cell_type ({ct.cat.categories.size} classes, {int(ct.isna().sum())} unlabelled): "
          + ", ".join(f"{k} {v}" for k, v in ct.value_counts().items()))
    print("   batch: " + ", ".join(f"{k} {v}" for k, v in a.obs["batch"].value_counts().items()))
    if a.obsm:
        print("   obsm: " + ", ".join(f"{k} {v.shape}" for k, v in a.obsm.items()))


def write(a, out, name):
    check_counts(a, name)
    path = os.path.join(out, name + ".h5ad")
    tmp = path + ".tmp"
    a.write_h5ad(tmp, compression="gzip")
    os.replace(tmp, path)
    summary(a, name, path)
    return path


def ensembl_map(src):
    """Ensembl gene ID -> symbol (first entrez row wins), from orgHsEgDb_hg38."""
    t = pd.read_csv(os.path.join(src, "gene_annotation/orgHsEgDb_hg38/hg38_genes_orgHsEgDb_3.16.tsv.gz"),
                    sep="\t", dtype=str).dropna(subset=["ensembl_ids", "symbol"])
    m = {}
    for sym, ids in zip(t["symbol"], t["ensembl_ids"]):
        for e in ids.split(";"):
            m.setdefault(e.strip(), sym)
    return m


def symbols(ids, emap):
    names = [emap.get(i, i) for i in ids]
    mapped = sum(i in emap for i in ids)
    return names, mapped


# ---------------------------------------------------------------------------------------------
def symphony(src, out):
    d = os.path.join(src, "symphony_pbmcs_small")
    X = scipy.io.mmread(os.path.join(d, "pbmcs_exprs_small.genes_x_cells.mtx.gz")).T.tocsr()
    genes = read_lines(os.path.join(d, "pbmcs_exprs_small.genes.txt"))
    cells = read_lines(os.path.join(d, "pbmcs_exprs_small.cells.txt"))
    meta = pd.read_csv(os.path.join(d, "pbmcs_meta_small.csv"))
    if list(meta["cell_id"]) != cells:
        sys.exit("error: symphony: pbmcs_meta_small.csv cell_id order differs from the matrix columns")
    X = sp.csr_matrix(X, dtype=np.float64)
    X.data = np.expm1(X.data)
    X = sp.csr_matrix(sp.diags(meta["nUMI"].to_numpy(dtype=np.float64) / 1e4) @ X)
    dev = np.abs(X.data - np.round(X.data)).max() if X.nnz else 0.0
    if dev > 1e-3:
        sys.exit(f"error: symphony: expm1(x) * nUMI / 1e4 is not integral (max deviation {dev}); "
                 "the log-normalisation is not log(CP10k+1) with nUMI as library size")
    X.data = np.round(X.data)
    a = make(X, cells, genes, meta["cell_type"], meta["donor"],
             "immunogenomics/symphony pbmcs_exprs_small (log(CP10k+1), variable genes only); "
             "counts recovered as round(expm1(x) * nUMI / 1e4), max deviation from an integer "
             f"{dev:.2e}; batch = donor (technology)",
             obs_extra={"cell_type_broad": pd.Categorical(meta["cell_type_broad"]),
                        "n_umi_all_genes": meta["nUMI"].to_numpy(dtype=np.int64)})
    return [write(a, out, "symphony_pbmcs_small")]


def mixology_batch(d, stem, emap):
    c = pd.read_csv(os.path.join(d, stem + ".count.csv.gz"), index_col=0)
    m = pd.read_csv(os.path.join(d, stem + ".metadata.csv.gz"), index_col=0)
    if list(c.columns) != list(m.index):
        sys.exit(f"error: sc_mixology {stem}: count columns and metadata rows differ")
    c = c[~c.index.str.startswith("ERCC")]
    return c, m


def mixology_combine(parts, emap, name, out, note):
    """parts: list of (batch name, counts genes x cells DataFrame, metadata)."""
    genes = sorted(set().union(*[set(c.index) for _, c, _ in parts]))
    gpos = {g: i for i, g in enumerate(genes)}
    blocks, cells, ct, batch = [], [], [], []
    for b, c, m in parts:
        Xb = sp.csr_matrix(c.to_numpy(dtype=np.float32).T)  # cells x this batch's genes
        cols = np.array([gpos[g] for g in c.index])
        P = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (np.arange(len(cols)), cols)),
                          shape=(len(cols), len(genes)))
        blocks.append(Xb @ P)
        cells += [f"{b}_{x}" for x in c.columns]
        ct += list(m["cell_line_demuxlet"])
        batch += [b] * c.shape[1]
    names, mapped = symbols(genes, emap)
    a = make(sp.vstack(blocks).tocsr(), cells, names, ct, batch,
             f"LuyiTian/sc_mixology data/csv ({note}); labels cell_line_demuxlet; ERCC dropped; "
             f"Ensembl -> symbol via orgHsEgDb_hg38 ({mapped}/{len(genes)} mapped); gene union, "
             "absent = 0",
             var_extra={"gene_ids": genes})
    return write(a, out, name)


def sc_mixology(src, out):
    d = os.path.join(src, "sc_mixology_celllines")
    emap = ensembl_map(src)
    p3 = [("CEL-seq2", *mixology_batch(d, "sc_celseq2", emap)),
          ("Drop-seq", *mixology_batch(d, "sc_dropseq", emap))]
    p5 = [(f"CEL-seq2_p{i}", *mixology_batch(d, f"sc_celseq2_5cl_p{i}", emap)) for i in (1, 2, 3)]
    return [mixology_combine(p3, emap, "sc_mixology_3cl", out, "sc_celseq2 + sc_dropseq"),
            mixology_combine(p5, emap, "sc_mixology_5cl", out, "sc_celseq2_5cl_p1..p3")]


def cepo_read(src):
    d = os.path.join(src, "cepo_cellbench_10x")
    X = read_mtx_t(os.path.join(d, "cellbench.counts.genes_x_cells.mtx.gz"))
    genes = read_lines(os.path.join(d, "cellbench.genes.txt"))
    meta = pd.read_csv(os.path.join(d, "cellbench.cells.csv"))
    if X.shape != (len(meta), len(genes)):
        sys.exit(f"error: cepo: matrix {X.shape} vs {len(meta)} cells x {len(genes)} genes")
    return X, genes, meta


def cepo(src, out):
    X, genes, meta = cepo_read(src)
    a = make(X, meta["cell"], genes, meta["celltype"], ["10x"] * len(meta),
             "PYangLab/Cepo data/cellbench.rda (counts assay); labels celltype; batch 10x")
    return [write(a, out, "cepo_cellbench_10x")]


def cellbench_3protocols(src, out):
    X10, g10, meta = cepo_read(src)
    d = os.path.join(src, "sc_mixology_celllines")
    emap = ensembl_map(src)
    c10 = pd.DataFrame(X10.T.toarray(), index=g10, columns=meta["cell"]).groupby(level=0).sum()
    parts = [("10x", c10, pd.Series(list(meta["celltype"]), index=meta["cell"]))]
    for b, stem in (("CEL-seq2", "sc_celseq2"), ("Drop-seq", "sc_dropseq")):
        c, m = mixology_batch(d, stem, emap)
        names, _ = symbols(list(c.index), emap)
        c.index = names
        c = c.groupby(level=0).sum()  # symbols shared by several Ensembl IDs: sum their counts
        parts.append((b, c, m["cell_line_demuxlet"]))
    common = sorted(set.intersection(*[set(c.index) for _, c, _ in parts]))
    X = sp.vstack([sp.csr_matrix(c.loc[common].to_numpy(dtype=np.float32).T) for _, c, _ in parts])
    cells = sum([[f"{b}_{x}" for x in c.columns] for b, c, _ in parts], [])
    ct = sum([list(l) for _, _, l in parts], [])
    batch = sum([[b] * c.shape[1] for b, c, _ in parts], [])
    a = make(X, cells, common, ct, batch,
             "Cepo cellbench (10x) + sc_mixology sc_celseq2 + sc_dropseq (ERCC dropped, Ensembl -> "
             f"symbol, duplicates summed); genes = intersection of the three ({len(common)})")
    return [write(a, out, "cellbench_3protocols")]


def dlpfc(src, out):
    d = os.path.join(src, "dlpfc151510_drsc")
    X = read_mtx_t(os.path.join(d, "dlpfc151510.counts.genes_x_spots.mtx.gz"))
    ids = read_lines(os.path.join(d, "dlpfc151510.genes.txt"))
    spots = pd.read_csv(os.path.join(d, "dlpfc151510.spots.csv"))
    if X.shape != (len(spots), len(ids)):
        sys.exit(f"error: dlpfc: matrix {X.shape} vs {len(spots)} spots x {len(ids)} genes")
    names, mapped = symbols(ids, ensembl_map(src))
    col = spots["col"].to_numpy()
    region = np.where(col < np.median(col), "left", "right")
    a = make(X, spots["barcode"], names, spots["annotation"], ["151510"] * len(spots),
             "feiyoung/DR.SC data/dlpfc151510.rda (500 pre-selected genes, raw counts); labels = "
             f"manual layer annotation (Maynard et al. 2021); Ensembl -> symbol {mapped}/{len(ids)}; "
             "obsm spatial = (array col, array row); region = halves by array column",
             obs_extra={"region": pd.Categorical(region), "array_row": spots["row"].to_numpy(),
                        "array_col": col},
             var_extra={"gene_ids": ids})
    a.obsm["spatial"] = np.stack([col, spots["row"].to_numpy()], axis=1).astype(np.float64)
    return [write(a, out, "dlpfc151510")]


def granja(src, out):
    d = os.path.join(src, "granja_hemato_atac_epichaos")
    X = read_mtx_t(os.path.join(d, "hemato_atac.counts.peaks_x_cells.mtx.gz"))
    bed = pd.read_csv(os.path.join(d, "hemato_atac.peaks.hg19.bed"), sep="\t", header=None,
                      names=["chrom", "start", "end", "name", "score"])
    cells = pd.read_csv(os.path.join(d, "hemato_atac.cells.csv"))
    if X.shape != (len(cells), len(bed)):
        sys.exit(f"error: granja: matrix {X.shape} vs {len(cells)} cells x {len(bed)} peaks")
    a = make(X, cells["cell"], bed["name"], cells["BioClassification"], cells["Group"],
             "CompEpigen/epiCHAOS data/hemato_atac.rda (Granja et al. 2019, hg19, 5,000 random "
             "peaks, fragment counts); labels BioClassification; batch = donor (Group)",
             obs_extra={"frip": cells["FRIP"].to_numpy(), "total_reads": cells["TotalReads"].to_numpy()},
             var_extra={"chrom": bed["chrom"].to_numpy(), "start": bed["start"].to_numpy(np.int64),
                        "end": bed["end"].to_numpy(np.int64)})
    a.obsm["X_umap_paper"] = cells[["UMAP1", "UMAP2"]].to_numpy(dtype=np.float64)
    return [write(a, out, "granja_hemato_atac")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default="/work/shared/data")
    ap.add_argument("--out", default=".work/datasets")
    ap.add_argument("--only", default=",".join(ALL), help="comma list of: " + ", ".join(ALL))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    jobs = {"symphony_pbmcs_small": symphony, "sc_mixology": sc_mixology, "cepo_cellbench_10x": cepo,
            "cellbench_3protocols": cellbench_3protocols, "dlpfc151510": dlpfc,
            "granja_hemato_atac": granja}
    for name in args.only.split(","):
        if name not in jobs:
            sys.exit(f"error: unknown data set '{name}' (choose from {', '.join(ALL)})")
        jobs[name](args.src, args.out)


if __name__ == "__main__":
    main()
