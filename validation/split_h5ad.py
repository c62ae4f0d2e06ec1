#!/usr/bin/env python3
"""Split one .h5ad into the cells whose obs[KEY] is one of VALUES and the rest.

Used by validation/run_results.sh for leave-one-batch-out and half-slice splits.
    split_h5ad.py IN.h5ad KEY VALUE[,VALUE...] SELECTED.h5ad REST.h5ad
"""
import sys

import anndata as ad


def main():
    src, key, values, sel_path, rest_path = sys.argv[1:6]
    a = ad.read_h5ad(src)
    if key not in a.obs:
        sys.exit(f"{src}: obs has no column {key!r} (columns: {list(a.obs.columns)})")
    want = set(values.split(","))
    mask = a.obs[key].astype(str).isin(want).to_numpy()
    if mask.sum() == 0 or mask.sum() == a.n_obs:
        sys.exit(f"{src}: obs[{key!r}] in {sorted(want)} selects {mask.sum()} of {a.n_obs} cells")
    a[mask].copy().write_h5ad(sel_path)
    a[~mask].copy().write_h5ad(rest_path)
    print(f"{src}: {key} in {sorted(want)}: {mask.sum()} cells -> {sel_path}, {(~mask).sum()} -> {rest_path}")


if __name__ == "__main__":
    main()
