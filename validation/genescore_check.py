#!/usr/bin/env python3
"""Independent check of `kida genescore`: recomputes ATAC gene activity with numpy/scipy and
requires the kida output to be IDENTICAL (same genes in the same order, same cells, same integer
counts).

The same rule as docs/atac.md, written separately and computed differently: a gene's region is
its body plus WINDOW bases upstream of the TSS (before start on +, after end on -, both sides on
an unknown strand); every peak x locus pair of a chromosome is tested by brute force
(peak.start < region.end and region.start < peak.end, half-open), loci sharing a gene name are
one gene (a peak counts once), and activity = counts (cells x peaks) @ links (peaks x genes).

Peak coordinates come either from var names of an .h5ad (chrom:start-end, chrom-start-end,
chrom_start_end, numbers as a BED interval) or from a BED (--peaks-bed); counts either from the
.h5ad (read with h5py) or straight from the Matrix Market source (--mtx peaks x cells, --cells
CSV with the cell names in column `cell`).

  genescore_check.py --kida OUT.h5ad --genes GENES.bed --h5ad ATAC.h5ad [--peaks-bed PEAKS.bed]
  genescore_check.py --kida OUT.h5ad --genes GENES.bed --mtx M.mtx.gz --peaks-bed P.bed --cells C.csv

Exit 0 identical, 1 different, 2 usage/input error.
"""
import argparse
import gzip
import re
import sys

import h5py
import numpy as np
import scipy.io
import scipy.sparse as sp


def open_text(path):
    return gzip.open(path, "rt") if path.endswith(".gz") else open(path)


def read_genes(path, gene_types):
    """Loci (chrom, start0, end, strand, name) of the kept types, in file order."""
    base = path[:-3] if path.endswith(".gz") else path
    loci, types = [], []
    with open_text(path) as f:
        for line in f:
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            t = line.rstrip("\n").split("\t")
            if base.endswith(".gtf"):
                if t[2] != "gene":
                    continue
                attrs = dict(re.findall(r'(\S+) "([^"]*)"', t[8]))
                name = attrs.get("gene_name") or attrs.get("gene_id")
                gtype = attrs.get("gene_type", attrs.get("gene_biotype", ""))
                loci.append((t[0], int(t[3]) - 1, int(t[4]), t[6], name))
                types.append(gtype)
            else:
                strand = "."
                if len(t) >= 6:
                    strand = t[5]
                elif len(t) == 5 and t[4] in "+-.":
                    strand = t[4]
                loci.append((t[0], int(t[1]), int(t[2]), strand, t[3].strip()))
                types.append("")
    norm = lambda s: s.lower().replace("-", "_")
    want = {norm(x.strip()) for x in (gene_types or "").split(",") if x.strip()}
    if want and any(types):
        loci = [l for l, ty in zip(loci, types) if norm(ty) in want]
    return loci


PEAK_RE = re.compile(r"^(.+)[:_-](\d+)[:_-](\d+)$")


def peaks_from_names(names):
    out = []
    for i, n in enumerate(names):
        m = PEAK_RE.match(n)
        if not m:
            sys.exit(f"error: var row {i} ({n!r}) is not a peak name")
        out.append((m.group(1), int(m.group(2)), int(m.group(3))))
    return out


def peaks_from_bed(path, var_names=None):
    rows = []
    with open_text(path) as f:
        for line in f:
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            t = line.rstrip("\n").split("\t")
            rows.append((t[0], int(t[1]), int(t[2]), t[3].strip() if len(t) > 3 else None))
    if var_names is None:
        return [r[:3] for r in rows]
    by_name = {}
    for r in rows:
        by_name.setdefault(r[3], []).append(r)
    if all(len(by_name.get(v, [])) == 1 for v in var_names):
        return [by_name[v][0][:3] for v in var_names]
    if len(rows) != len(var_names):
        sys.exit(f"error: {path}: {len(rows)} lines for {len(var_names)} var rows")
    return [r[:3] for r in rows]


def links(peaks, loci, window):
    """Binary peaks x genes CSR, genes = unique names in first-appearance order."""
    names, index = [], {}
    for l in loci:
        if l[4] not in index:
            index[l[4]] = len(names)
            names.append(l[4])
    pchrom = np.array([p[0] for p in peaks])
    ps = np.array([p[1] for p in peaks], dtype=np.int64)
    pe = np.array([p[2] for p in peaks], dtype=np.int64)
    rows, cols = [], []
    for chrom in sorted({l[0] for l in loci}):
        pidx = np.nonzero(pchrom == chrom)[0]
        if len(pidx) == 0:
            continue
        L = [l for l in loci if l[0] == chrom]
        rs = np.array([l[1] - window if l[3] in "+." else l[1] for l in L], dtype=np.int64)
        re_ = np.array([l[2] + window if l[3] in "-." else l[2] for l in L], dtype=np.int64)
        gid = np.array([index[l[4]] for l in L])
        hit = (ps[pidx, None] < re_[None, :]) & (rs[None, :] < pe[pidx, None])   # (peaks, loci)
        pi, li = np.nonzero(hit)
        rows.append(pidx[pi])
        cols.append(gid[li])
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    m = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(peaks), len(names)))
    m.data[:] = 1.0   # a peak counts once per gene, whatever the number of its loci it touches
    return m, names


def strings(ds):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in ds[()]]


def read_h5ad_x(path):
    with h5py.File(path, "r") as f:
        x = f["X"]
        if isinstance(x, h5py.Group):
            shape = tuple(x.attrs["shape"])
            enc = x.attrs.get("encoding-type", "csr_matrix")
            enc = enc.decode() if isinstance(enc, bytes) else enc
            cls = sp.csr_matrix if enc == "csr_matrix" else sp.csc_matrix
            m = cls((x["data"][()], x["indices"][()], x["indptr"][()]), shape=shape).tocsr()
        else:
            m = sp.csr_matrix(x[()])
        obs = f["obs"]
        var = f["var"]
        on = strings(obs[obs.attrs.get("_index", "_index")])
        vn = strings(var[var.attrs.get("_index", "_index")])
    return m, on, vn


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kida", required=True, help="output of kida genescore")
    ap.add_argument("--genes", required=True, help="gene table (BED or GTF, .gz ok) given to kida")
    ap.add_argument("--window", type=int, default=2000)
    ap.add_argument("--gene-types", default="protein_coding")
    ap.add_argument("--h5ad", help="peak counts given to kida (counts + var names)")
    ap.add_argument("--peaks-bed", help="peak coordinates (BED); with --h5ad matched to var rows as kida does")
    ap.add_argument("--mtx", help="peaks x cells Matrix Market counts (instead of --h5ad)")
    ap.add_argument("--cells", help="with --mtx: CSV whose column `cell` names the matrix columns")
    a = ap.parse_args()

    if a.h5ad:
        counts, cells, var = read_h5ad_x(a.h5ad)
        peaks = peaks_from_bed(a.peaks_bed, var) if a.peaks_bed else peaks_from_names(var)
    elif a.mtx and a.peaks_bed and a.cells:
        counts = sp.csr_matrix(scipy.io.mmread(a.mtx).T)   # cells x peaks
        peaks = peaks_from_bed(a.peaks_bed)
        import csv
        with open(a.cells) as f:
            cells = [r["cell"] for r in csv.DictReader(f)]
    else:
        ap.error("give --h5ad, or --mtx with --peaks-bed and --cells")
    if counts.shape != (len(cells), len(peaks)):
        sys.exit(f"error: counts {counts.shape} vs {len(cells)} cells x {len(peaks)} peaks")
    counts = counts.astype(np.float64)
    if np.any(counts.data != np.round(counts.data)):
        sys.exit("error: counts are not integers")

    loci = read_genes(a.genes, a.gene_types)
    m, names = links(peaks, loci, a.window)
    want = (counts @ m).tocsr()
    want.sort_indices()
    got, got_cells, got_genes = read_h5ad_x(a.kida)
    print(f"check: {len(cells)} cells x {len(peaks)} peaks, {len(loci)} loci -> {len(names)} genes, "
          f"{m.nnz} peak-gene links, {want.nnz} nonzeros (window {a.window})")
    ok = True
    if got_genes != names:
        diff = next((i for i, (x, y) in enumerate(zip(got_genes, names)) if x != y), min(len(got_genes), len(names)))
        print(f"FAIL genes differ: kida {len(got_genes)}, check {len(names)}; first difference at {diff}")
        ok = False
    if sorted(got_cells) != sorted(cells):
        print("FAIL cells differ")
        ok = False
    elif got_cells != cells:   # the source lists the cells in another order: compare row by name
        pos = {c: i for i, c in enumerate(cells)}
        want = want[np.array([pos[c] for c in got_cells])]
    if ok:
        if got.dtype != np.float32:
            print(f"FAIL kida X dtype {got.dtype}, want float32")
            ok = False
        d = (got.astype(np.float64) - want).tocsr()
        d.eliminate_zeros()
        if d.nnz:
            r, c = d.nonzero()
            print(f"FAIL {d.nnz} entries differ; first: cell {got_cells[r[0]]}, gene {names[c[0]]}: kida "
                  f"{got[r[0], c[0]]}, check {want[r[0], c[0]]}")
            ok = False
        elif got.nnz != want.nnz:
            print(f"FAIL kida stores {got.nnz} values, check {want.nnz} (explicit zeros?)")
            ok = False
    if ok:
        print(f"IDENTICAL: {got.shape[0]} cells x {got.shape[1]} genes, {got.nnz} nonzeros, "
              f"sum {int(got.sum())}, max {int(got.max()) if got.nnz else 0}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
