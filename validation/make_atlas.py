#!/usr/bin/env python3
"""Write a large SYNTHETIC .h5ad atlas for kida's scaling benchmarks (validation/bench_scaling.sh).

THE CELLS ARE SYNTHETIC. Every cell is a perturbed copy of one real cell of the two bundled PBMC
data sets (data/pbmc_v2_ref.h5ad: 996 cells, 10x 3' v2; data/pbmc_v3_query.h5ad: the 823
labelled of its 906 cells, 10x 3' v3). The atlas is for measuring speed and memory at scale; it
has no biological content beyond that of those 1,819 source cells, and accuracy measured on it
says nothing about real atlases.

Usage (repository root; pyenv python3 or Debian /usr/bin/python3: needs numpy and h5py only):
    python3 validation/make_atlas.py --cells 100000 --batches 8 --seed 0 \\
        --out .work/atlas/atlas_100k.h5ad [--compression none|gzip] [--depth 0.4,0.9]

How a cell is made:
  genes    var = the 33,538 genes of pbmc_v2_ref (names and var `gene_ids`). v3 source cells are
           mapped onto them by gene symbol (all 14,688 v3 genes are in the v2 list; the v2 genes
           v3 lacks count 0 in v3-derived cells, as they would in a concatenated atlas).
  batches  --batches B synthetic batches, each a contiguous block of ~N/B cells (an atlas is a
           concatenation of samples). Batch b resamples source v2 when b is even and v3 when b is
           odd, uniformly with replacement among that source's labelled cells (so cell-type
           proportions follow the source; 'Other' exists only in v2 batches).
  counts   y = Binomial(x, p) for every stored count x of the source cell (binomial thinning:
           counts stay integers, low counts drop to 0 as at lower sequencing depth), with
               p = min(1, s_b * l_c * g_bg)
           s_b   library-size scaling of batch b: uniform in --depth (default 0.4..0.9)
           l_c   per-cell library-size factor: lognormal, sigma 0.2 (median 1)
           g_bg  per-gene multiplicative noise of batch b: lognormal, sigma 0.3 (median 1)
           A cell left with no count keeps its source cell's largest count (one entry), so no
           row is empty.
  labels   obs `cell_type` (categorical) = the source cell's label; obs `batch` (categorical)
           = "syn<b>-v2" / "syn<b>-v3"; obs `source_cell` = "<source>:<barcode>".
  obs_names "syn<global index>".
  X        CSR float32 counts, int32 indices, int64 indptr; datasets chunked (1 Mi elements),
           uncompressed by default (anndata's default; --compression gzip for gzip level 4).
  uns      `synthetic` = a sentence saying all of the above, `make_atlas` = the command line.

The file is written chunk by chunk (16,384 cells at a time, appended to resizable datasets),
so memory stays ~ a few hundred MB whatever --cells is: 1 M cells fit easily on a 24 GiB
machine. The result depends on (--cells, --batches, --seed, --depth) only. Write it to the
git-ignored .work/atlas/ folder; never commit it.
"""
import argparse
import os
import sys
import time

import h5py
import numpy as np

CHUNK_CELLS = 16384          # cells generated per step (fixed: the output depends on it)
DS_CHUNK = 1 << 20           # HDF5 chunk of data/indices (elements)
SIGMA_CELL = 0.2
SIGMA_GENE = 0.3
STR = h5py.string_dtype("utf-8")


def read_csr_h5ad(path):
    """(indptr, indices, data, var_names, gene_ids or None, obs_names, labels as str or None)."""
    with h5py.File(path, "r") as f:
        X = f["X"]
        enc = X.attrs.get("encoding-type", b"")
        enc = enc.decode() if isinstance(enc, bytes) else enc
        if enc != "csr_matrix":
            sys.exit(f"{path}: X must be a CSR matrix (got encoding-type {enc!r})")
        indptr = X["indptr"][:].astype(np.int64)
        indices = X["indices"][:].astype(np.int64)
        data = X["data"][:].astype(np.float64)
        var_idx = f["var"].attrs["_index"]
        obs_idx = f["obs"].attrs["_index"]
        var_names = np.array([s.decode() for s in f["var"][var_idx][:]], dtype=object)
        gene_ids = (np.array([s.decode() for s in f["var"]["gene_ids"][:]], dtype=object)
                    if "gene_ids" in f["var"] else None)
        obs_names = np.array([s.decode() for s in f["obs"][obs_idx][:]], dtype=object)
        ct = f["obs"]["cell_type"]
        codes = ct["codes"][:].astype(np.int64)
        cats = np.array([s.decode() for s in ct["categories"][:]], dtype=object)
        labels = np.where(codes >= 0, cats[np.maximum(codes, 0)], None)
    if not np.all(data == np.round(data)) or data.min() < 0:
        sys.exit(f"{path}: X must hold raw integer counts")
    return indptr, indices, data, var_names, gene_ids, obs_names, labels


class Source:
    """The labelled cells of one bundled file, on the atlas gene space."""

    def __init__(self, name, path, atlas_genes):
        indptr, indices, data, var, _, obs, labels = read_csr_h5ad(path)
        col = {g: i for i, g in enumerate(atlas_genes)}
        remap = np.array([col.get(g, -1) for g in var], dtype=np.int64)
        if (remap < 0).any():
            print(f"{name}: {int((remap < 0).sum())} genes not in the atlas gene list are dropped")
        keep = np.array([lab is not None for lab in labels])
        rows = np.flatnonzero(keep)
        lens = indptr[rows + 1] - indptr[rows]
        self.indptr = np.concatenate([[0], np.cumsum(lens)])
        take = np.concatenate([np.arange(indptr[r], indptr[r + 1]) for r in rows])
        ix = remap[indices[take]]
        ok = ix >= 0
        if not ok.all():  # drop unmapped genes (never happens with the bundled files)
            rowof = np.repeat(np.arange(len(rows)), lens)[ok]
            self.indptr = np.concatenate([[0], np.cumsum(np.bincount(rowof, minlength=len(rows)))])
        self.indices = ix[ok]
        self.counts = data[take][ok].astype(np.int64)
        self.labels = labels[rows]
        self.barcodes = obs[rows]
        self.name = name
        self.n = len(rows)


def build_chunk(src, pick, s_b, gfac, rng):
    """Thinned copies of source rows `pick`: (indptr from 0, indices int32, data float32)."""
    lens = src.indptr[pick + 1] - src.indptr[pick]
    n_cells = len(pick)
    starts = np.repeat(src.indptr[pick], lens)
    within = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    pos = starts + within
    cols = src.indices[pos]
    x = src.counts[pos]
    rowof = np.repeat(np.arange(n_cells), lens)
    lcell = rng.lognormal(0.0, SIGMA_CELL, n_cells)
    p = np.minimum(1.0, s_b * lcell[rowof] * gfac[cols])
    y = rng.binomial(x, p)
    # a cell thinned to nothing keeps its source's largest count once
    tot = np.bincount(rowof, weights=y, minlength=n_cells)
    empty = np.flatnonzero(tot == 0)
    for c in empty:
        a, b = np.searchsorted(rowof, [c, c + 1])
        y[a + int(np.argmax(x[a:b]))] = int(x[a:b].max())
    keep = y > 0
    new_len = np.bincount(rowof[keep], minlength=n_cells)
    indptr = np.concatenate([[0], np.cumsum(new_len)]).astype(np.int64)
    return indptr, cols[keep].astype(np.int32), y[keep].astype(np.float32)


def write_strings(group, name, values):
    ds = group.create_dataset(name, data=np.array(values, dtype=object), dtype=STR)
    ds.attrs["encoding-type"] = "string-array"
    ds.attrs["encoding-version"] = "0.2.0"
    return ds


def write_categorical(obs, name, codes, cats):
    g = obs.create_group(name)
    g.attrs["encoding-type"] = "categorical"
    g.attrs["encoding-version"] = "0.2.0"
    g.attrs["ordered"] = False
    dt = np.int8 if len(cats) < 127 else np.int32
    g.create_dataset("codes", data=np.asarray(codes, dtype=dt))
    write_strings(g, "categories", list(cats))


def empty_dict(f, name):
    g = f.create_group(name)
    g.attrs["encoding-type"] = "dict"
    g.attrs["encoding-version"] = "0.1.0"
    return g


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=100000, help="number of synthetic cells")
    ap.add_argument("--batches", type=int, default=8, help="number of synthetic batches")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="output .h5ad (default .work/atlas/atlas_<cells>.h5ad)")
    ap.add_argument("--data", default="data", help="folder with the bundled pbmc_*.h5ad files")
    ap.add_argument("--compression", choices=["none", "gzip"], default="none")
    ap.add_argument("--depth", default="0.4,0.9", help="range of the per-batch library-size scaling s_b")
    a = ap.parse_args()
    if a.cells < 1 or a.batches < 1 or a.batches > a.cells:
        sys.exit("need --cells >= 1 and 1 <= --batches <= --cells")
    lo, hi = (float(v) for v in a.depth.split(","))
    if not (0 < lo <= hi <= 1):
        sys.exit("--depth must be lo,hi with 0 < lo <= hi <= 1")
    out = a.out or os.path.join(".work", "atlas", f"atlas_{a.cells}.h5ad")
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    t0 = time.time()

    ref = os.path.join(a.data, "pbmc_v2_ref.h5ad")
    _, _, _, genes, gene_ids, _, _ = read_csr_h5ad(ref)
    srcs = [Source("v2", ref, genes), Source("v3", os.path.join(a.data, "pbmc_v3_query.h5ad"), genes)]
    G = len(genes)
    classes = sorted(set(srcs[0].labels) | set(srcs[1].labels))
    cls_code = {c: i for i, c in enumerate(classes)}
    for s in srcs:
        s.codes = np.array([cls_code[l] for l in s.labels], dtype=np.int64)

    # per-batch parameters: one generator per batch, so they do not depend on --cells
    bounds = [(b * a.cells) // a.batches for b in range(a.batches + 1)]
    params = []
    for b in range(a.batches):
        r = np.random.default_rng([a.seed, 1, b])
        params.append((srcs[b % 2], float(r.uniform(lo, hi)), r.lognormal(0.0, SIGMA_GENE, G)))

    tmp = out + ".tmp"
    comp = dict(compression="gzip", compression_opts=4) if a.compression == "gzip" else {}
    with h5py.File(tmp, "w") as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        X = f.create_group("X")
        X.attrs["encoding-type"] = "csr_matrix"
        X.attrs["encoding-version"] = "0.1.0"
        X.attrs["shape"] = np.array([a.cells, G], dtype=np.int64)
        d_data = X.create_dataset("data", shape=(0,), maxshape=(None,), dtype=np.float32,
                                  chunks=(DS_CHUNK,), **comp)
        d_ind = X.create_dataset("indices", shape=(0,), maxshape=(None,), dtype=np.int32,
                                 chunks=(DS_CHUNK,), **comp)
        d_ptr = X.create_dataset("indptr", shape=(a.cells + 1,), dtype=np.int64)
        d_ptr[0] = 0
        cell_code = np.empty(a.cells, dtype=np.int64)
        batch_code = np.empty(a.cells, dtype=np.int64)
        src_cell = np.empty(a.cells, dtype=object)
        nnz = 0
        for b in range(a.batches):
            src, s_b, gfac = params[b]
            for k, c0 in enumerate(range(bounds[b], bounds[b + 1], CHUNK_CELLS)):
                c1 = min(c0 + CHUNK_CELLS, bounds[b + 1])
                rng = np.random.default_rng([a.seed, 2, b, k])
                pick = rng.integers(0, src.n, c1 - c0)
                ip, ix, val = build_chunk(src, pick, s_b, gfac, rng)
                m = len(val)
                d_data.resize((nnz + m,))
                d_ind.resize((nnz + m,))
                d_data[nnz:nnz + m] = val
                d_ind[nnz:nnz + m] = ix
                d_ptr[c0 + 1:c1 + 1] = ip[1:] + nnz
                nnz += m
                cell_code[c0:c1] = src.codes[pick]
                batch_code[c0:c1] = b
                src_cell[c0:c1] = [f"{src.name}:{bc}" for bc in src.barcodes[pick]]
            print(f"batch {b}: cells {bounds[b]}..{bounds[b + 1]} from {src.name}, s_b {s_b:.3f}; "
                  f"nnz so far {nnz:,} ({time.time() - t0:.0f} s)", flush=True)

        obs = f.create_group("obs")
        obs.attrs["encoding-type"] = "dataframe"
        obs.attrs["encoding-version"] = "0.2.0"
        obs.attrs["_index"] = "_index"
        obs.attrs["column-order"] = np.array(["cell_type", "batch", "source_cell"], dtype=object)
        write_strings(obs, "_index", [f"syn{i}" for i in range(a.cells)])
        write_categorical(obs, "cell_type", cell_code, classes)
        write_categorical(obs, "batch", batch_code,
                          [f"syn{b}-{params[b][0].name}" for b in range(a.batches)])
        write_strings(obs, "source_cell", src_cell)
        var = f.create_group("var")
        var.attrs["encoding-type"] = "dataframe"
        var.attrs["encoding-version"] = "0.2.0"
        var.attrs["_index"] = "_index"
        var.attrs["column-order"] = np.array(["gene_ids"], dtype=object)
        write_strings(var, "_index", list(genes))
        write_strings(var, "gene_ids", list(gene_ids))
        uns = empty_dict(f, "uns")
        uns.create_dataset("synthetic", data=(
            "SYNTHETIC atlas for kida scaling benchmarks: every cell is a binomially thinned copy of a "
            "real cell of kida's bundled pbmc_v2_ref / pbmc_v3_query (p = min(1, s_b * l_c * g_bg): "
            "per-batch library-size scaling, per-cell lognormal(0.2), per-batch per-gene "
            "lognormal(0.3)); labels are the source cells'. Not real data."), dtype=STR)
        uns.create_dataset("make_atlas", data=" ".join(sys.argv), dtype=STR)
        for name in ("obsm", "varm", "obsp", "varp", "layers"):
            empty_dict(f, name)
    os.replace(tmp, out)
    size = os.path.getsize(out)
    print(f"wrote {out}: {a.cells:,} cells x {G:,} genes, {nnz:,} stored counts "
          f"({nnz / a.cells:.0f} per cell), {a.batches} batches, {size / 1e9:.2f} GB, "
          f"{time.time() - t0:.0f} s. SYNTHETIC (resampled bundled PBMC cells).")


if __name__ == "__main__":
    main()
