#!/usr/bin/env python3
"""Cross-check kida's preprocessing against scanpy.

    python3 validation/scanpy_check.py REF.h5ad QUERY.h5ad DUMP.h5 [N_TOP_GENES]

DUMP.h5 is written by tests/prep/prep_dump (kida's HVGs, scale statistics and preprocessed query).
This script runs, on the same files,
    sc.pp.normalize_total(target_sum=1e4); sc.pp.log1p
    sc.pp.highly_variable_genes(flavor="seurat", n_top_genes=N)        (reference)
    sc.pp.scale(max_value=10) on the reference's HVGs                   (mean, std)
    the query: normalize_total + log1p on all its genes, the model genes taken by name (a missing
    gene is 0), then (x - mean) / std clipped to [-10, 10] with the reference's mean and std
and prints, per step, the largest difference. Exit 0 when every step is within tolerance, 1 when
not, 77 when scanpy cannot be imported (skip), 99 on a setup error.

Tolerances and why:
  HVG set: identical, or the genes that differ all have a scanpy normalized dispersion within
    1e-6 (relative) of the cutoff: a tie at the cutoff decided by the last bits of float32 math.
  seurat means (log1p of mean) and normalized dispersions: 1e-5 relative / 1e-5 absolute.
  scale mean and std: 1e-5 relative (kida stores them as float32: 6e-8).
  query values: 1e-4 absolute (float32 values up to 10 in magnitude).
"""
import sys
import warnings

try:
    import numpy as np
    import scanpy as sc
    import anndata as ad
    import h5py
except Exception as e:  # noqa: BLE001
    print(f"SKIP: cannot import scanpy/anndata/h5py/numpy: {e}")
    sys.exit(77)

warnings.filterwarnings("ignore")


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 99
    ref_path, query_path, dump_path = sys.argv[1:4]
    n_top = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    with h5py.File(dump_path, "r") as f:
        k = {name: f[name][()] for name in f}
    ok = True

    def report(step, value, tol, passed=None):
        nonlocal ok
        good = value <= tol if passed is None else passed
        ok &= bool(good)
        print(f"{'ok  ' if good else 'FAIL'} {step:<58s} {value:.3e}  (tol {tol:.0e})")

    ref = ad.read_h5ad(ref_path)
    sc.pp.normalize_total(ref, target_sum=1e4)
    sc.pp.log1p(ref)
    # inplace=False returns the float64 columns (inplace=True stores dispersions_norm as float32)
    v = sc.pp.highly_variable_genes(ref, flavor="seurat", n_top_genes=n_top, inplace=False)
    print(f"scanpy {sc.__version__}: reference {ref.n_obs} x {ref.n_vars}, query {query_path}")

    # step 1: seurat moments and normalized dispersions, every gene
    means = v["means"].to_numpy()
    rel = np.abs(k["hvg_mean"] - means) / np.maximum(np.abs(means), 1e-30)
    report("HVG means (log1p of mean), max rel diff", float(rel.max()), 1e-5)
    dn_sc = v["dispersions_norm"].to_numpy().astype(np.float64)
    dn_k = k["hvg_disp_norm"]
    both = ~np.isnan(dn_sc) & ~np.isnan(dn_k)
    nan_agree = np.array_equal(np.isnan(dn_sc), np.isnan(dn_k))
    report("normalized dispersion NaN pattern identical (mismatches)",
           float(np.sum(np.isnan(dn_sc) != np.isnan(dn_k))), 0, nan_agree)
    d = np.abs(dn_k[both] - dn_sc[both]) / np.maximum(1.0, np.abs(dn_sc[both]))
    report("normalized dispersions, max diff (rel, abs below 1)", float(d.max()), 1e-5)

    # step 2: the HVG set
    hv_sc = np.flatnonzero(v["highly_variable"].to_numpy())
    hv_k = np.sort(k["ref_col"].astype(np.int64))
    only_sc, only_k = np.setdiff1d(hv_sc, hv_k), np.setdiff1d(hv_k, hv_sc)
    cutoff = np.sort(dn_sc[~np.isnan(dn_sc)])[::-1][min(n_top, int(np.sum(~np.isnan(dn_sc)))) - 1]
    diff_genes = np.concatenate([only_sc, only_k])
    at_tie = bool(np.all(np.abs(dn_sc[diff_genes] - cutoff) <= 1e-6 * max(1.0, abs(cutoff))))
    print(f"     HVGs: scanpy {len(hv_sc)}, kida {len(hv_k)}, only scanpy {len(only_sc)}, only kida {len(only_k)}"
          f" (cutoff {cutoff:.6f})")
    report("HVG sets differ only at ties at the cutoff (genes differing)", float(len(diff_genes)), 0,
           len(diff_genes) == 0 or at_tie)

    # step 3: scale statistics over the common HVGs
    common = np.intersect1d(hv_sc, hv_k)
    b = ref[:, common].copy()
    sc.pp.scale(b, max_value=10)
    pos = {c: i for i, c in enumerate(k["ref_col"])}
    idx = np.array([pos[c] for c in common])
    m_sc, s_sc = b.var["mean"].to_numpy(), b.var["std"].to_numpy()
    report("scale mean, max rel diff", float(np.max(np.abs(k["mean"][idx] - m_sc) / np.maximum(np.abs(m_sc), 1e-30))), 1e-5)
    report("scale std, max rel diff", float(np.max(np.abs(k["std"][idx] - s_sc) / s_sc)), 1e-5)
    xs = np.asarray(b.X)
    report("reference scaled X: max |x| (clip at 10)", float(np.abs(xs).max()), 10.0)

    # step 4: the query, preprocessed with the reference's statistics
    q = ad.read_h5ad(query_path)
    sc.pp.normalize_total(q, target_sum=1e4)
    sc.pp.log1p(q)
    G = len(k["ref_col"])
    names = ref.var_names[k["ref_col"]]
    qpos = {n: i for i, n in enumerate(q.var_names)}
    L = q.X.toarray() if hasattr(q.X, "toarray") else np.asarray(q.X)
    xq = np.zeros((q.n_obs, G))
    qcol = np.full(G, -1)
    for g, n in enumerate(names):
        if n in qpos:
            xq[:, g] = L[:, qpos[n]]
            qcol[g] = qpos[n]
    report("query gene matching: columns differing", float(np.sum(qcol != k["query_col"])), 0)
    mean_sc = np.empty(G)
    std_sc = np.empty(G)
    full = ref[:, k["ref_col"]].copy()
    sc.pp.scale(full, max_value=10)
    mean_sc[:] = full.var["mean"].to_numpy()
    std_sc[:] = full.var["std"].to_numpy()
    xq = np.clip((xq - mean_sc) / std_sc, -10, 10)
    err = np.abs(k["query_x"] - xq)
    r, c = np.unravel_index(int(np.argmax(err)), err.shape)
    report(f"query preprocessed values, max abs diff (cell {r}, gene {names[c]})", float(err.max()), 1e-4)
    print(f"     query matched {int(np.sum(qcol >= 0))}/{G} model genes")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
