#!/usr/bin/env python3
"""Make a larger or smaller SYNTHETIC atlas from one that validation/make_atlas.py wrote, fast.

THE CELLS ARE SYNTHETIC (see make_atlas.py): this only rearranges and thins an atlas of
resampled bundled cells, for timing and memory benchmarks (validation/bench_atlas.sh).

    python3 validation/grow_atlas.py --from .work/atlas/atlas_1m.h5ad --cells 10000000 \\
        --keep 0.15 --seed 0 --out .work/atlas/atlas_10m_k0.15.h5ad

Cell c of the output is cell c % N of the source (N source cells; copy k = c // N). With
--keep p < 1 every stored count of every copy is kept with probability p, independently per copy
(seed + copy), the value unchanged: an atlas of shallower cells (about p times the stored counts
per cell; a cell left empty keeps its largest count). --max-per-cell M keeps only the first M
stored counts of each cell (lowest gene indices: an atlas of many cells and few counts, for the
per-cell outputs at scale, not for the counts). --keep 1 copies the counts as they are, so
--cells below N gives the source's first cells. obs: cell_type and batch of the source cell
(categoricals), names "<source name>-<copy>"; var and the source's uns are copied; uns
`grown_from` says what was done. X is CSR float32 / int32 indices / int64 indptr, written a
block of cells at a time (memory: a few hundred MB whatever the size). make_atlas.py samples every
count of every cell (binomial thinning of the bundled cells), which costs minutes per million
cells on 2 cores; this costs the I/O. Needs numpy and h5py.
"""
import argparse
import os
import time

import h5py
import numpy as np

BLOCK = 1 << 17          # cells per block
STR = h5py.string_dtype("utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--from", dest="src", required=True)
    ap.add_argument("--cells", type=int, required=True)
    ap.add_argument("--keep", type=float, default=1.0)
    ap.add_argument("--max-per-cell", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not 0 < a.keep <= 1:
        ap.error("--keep must be in (0, 1]")
    per_cell = a.max_per_cell or "all"
    t0 = time.time()
    tmp = a.out + ".tmp"
    with h5py.File(a.src, "r") as s, h5py.File(tmp, "w") as o:
        X = s["X"]
        n_src, n_vars = (int(v) for v in X.attrs["shape"])
        ip, ix, dv = X["indptr"], X["indices"], X["data"]
        if a.keep == 1 and dv.shape[0] * 8 < (1 << 31):
            # a small source is read once: every copy is then a slice of memory
            ip, ix, dv = ip[()], ix[()], dv[()]
            if a.max_per_cell:
                rows = np.diff(ip)
                start = np.repeat(ip[:-1], rows)
                keep = np.arange(len(dv)) - start < a.max_per_cell
                ix, dv = ix[keep], dv[keep]
                ip = np.concatenate([[0], np.cumsum(np.minimum(rows, a.max_per_cell))]).astype(np.int64)
                a.max_per_cell = 0   # applied
        for k in ("encoding-type", "encoding-version"):
            o.attrs[k] = s.attrs[k]
        g = o.create_group("X")
        for k in ("encoding-type", "encoding-version"):
            g.attrs[k] = X.attrs[k]
        g.attrs["shape"] = np.array([a.cells, n_vars], dtype=np.int64)
        od = g.create_dataset("data", (0,), np.float32, maxshape=(None,), chunks=(1 << 20,))
        oi = g.create_dataset("indices", (0,), np.int32, maxshape=(None,), chunks=(1 << 20,))
        optr = np.zeros(a.cells + 1, dtype=np.int64)
        nnz = 0
        for c0 in range(0, a.cells, BLOCK):
            c1 = min(a.cells, c0 + BLOCK)
            # the block's cells as stretches of the source, split where the copy changes
            parts = []
            c = c0
            while c < c1:
                copy, r0 = divmod(c, n_src)
                r1 = min(n_src, r0 + (c1 - c))
                p0, p1 = int(ip[r0]), int(ip[r1])
                rows = np.diff(ip[r0:r1 + 1]).astype(np.int64)
                vals, cols = dv[p0:p1].astype(np.float32), ix[p0:p1].astype(np.int32)
                if a.keep < 1:
                    rng = np.random.default_rng([a.seed, copy, r0])
                    keep = rng.random(len(vals), dtype=np.float32) < a.keep
                    row_of = np.repeat(np.arange(r1 - r0), rows)
                    kept = np.bincount(row_of[keep], minlength=r1 - r0)
                    # an emptied cell keeps its largest count
                    for r in np.nonzero((kept == 0) & (rows > 0))[0]:
                        lo = int(rows[:r].sum())
                        keep[lo + int(np.argmax(vals[lo:lo + rows[r]]))] = True
                    kept = np.bincount(row_of[keep], minlength=r1 - r0)
                    vals, cols, rows = vals[keep], cols[keep], kept.astype(np.int64)
                if a.max_per_cell:
                    start = np.repeat(np.cumsum(rows) - rows, rows)
                    keep = np.arange(len(vals)) - start < a.max_per_cell
                    vals, cols, rows = vals[keep], cols[keep], np.minimum(rows, a.max_per_cell)
                parts.append((rows, vals, cols))
                c += r1 - r0
            rows = np.concatenate([p[0] for p in parts])
            vals = np.concatenate([p[1] for p in parts])
            cols = np.concatenate([p[2] for p in parts])
            optr[c0 + 1:c1 + 1] = nnz + np.cumsum(rows)
            od.resize((nnz + len(vals),))
            oi.resize((nnz + len(vals),))
            od[nnz:] = vals
            oi[nnz:] = cols
            nnz += len(vals)
        g.create_dataset("indptr", data=optr)
        # obs: the source cell's type and batch, names with the copy
        obs = o.create_group("obs")
        so = s["obs"]
        for k in ("encoding-type", "encoding-version", "_index"):
            obs.attrs[k] = so.attrs[k]
        cols_kept = [k for k in ("cell_type", "batch") if k in so]
        obs.attrs["column-order"] = np.array(cols_kept, dtype=object)
        src_of = np.arange(a.cells) % n_src
        for k in cols_kept:
            cg = obs.create_group(k)
            for at in so[k].attrs:
                cg.attrs[at] = so[k].attrs[at]
            cg.create_dataset("categories", data=so[k]["categories"][()], dtype=STR)
            cg.create_dataset("codes", data=so[k]["codes"][()][src_of])
        names = s["obs"][so.attrs["_index"]].asstr()[()]
        ix_name = obs.attrs["_index"]
        nd = obs.create_dataset(ix_name, (a.cells,), dtype=STR, chunks=(min(a.cells, 1 << 16),))
        for att in s["obs"][so.attrs["_index"]].attrs:
            nd.attrs[att] = s["obs"][so.attrs["_index"]].attrs[att]
        for c0 in range(0, a.cells, BLOCK):
            c1 = min(a.cells, c0 + BLOCK)
            idx = np.arange(c0, c1)
            nd[c0:c1] = np.char.add(np.char.add(names[idx % n_src].astype(str), "-"), (idx // n_src).astype(str)).astype(object)
        s.copy(s["var"], o, "var")
        for k in ("obsm", "varm", "obsp", "varp", "layers"):
            gg = o.create_group(k)
            gg.attrs["encoding-type"], gg.attrs["encoding-version"] = "dict", "0.1.0"
        s.copy(s["uns"], o, "uns")
        gf = o["uns"].create_dataset("grown_from", data=(f"SYNTHETIC: cell c = cell c % {n_src} of {a.src}, each "
                                                         f"stored count kept with probability {a.keep} per copy (seed "
                                                         f"{a.seed}), at most {per_cell} per cell; grow_atlas.py"),
                                         dtype=STR)
        gf.attrs["encoding-type"], gf.attrs["encoding-version"] = "string", "0.2.0"
    os.replace(tmp, a.out)
    print(f"wrote {a.out}: {a.cells:,} cells x {n_vars:,} genes, {nnz:,} stored counts "
          f"({nnz / max(a.cells, 1):.0f} per cell), {os.path.getsize(a.out) / 1e9:.2f} GB, {time.time() - t0:.0f} s. "
          f"SYNTHETIC (grown from {a.src}).")


if __name__ == "__main__":
    main()
