#!/usr/bin/env python3
"""Check .h5ad files written by kida's writer (tests/io/test_h5ad_write) with anndata itself.

    check_roundtrip.py standard FILE [--dense]   content of `test_h5ad_write --write[-dense]`
    check_roundtrip.py copy FILE                 content of `test_h5ad_write --copy <standard> FILE`
    check_roundtrip.py annotate SRC FILE         FILE = `test_h5ad_write --annotate SRC FILE`:
                                                 SRC's X/obs/var/obsm/uns unchanged + additions

The expected values are built here independently of the C test (same definitions).
Exit 0 pass, 1 fail, 77 if anndata cannot be imported.
"""
import sys

try:
    import anndata as ad
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
except ImportError as e:  # pragma: no cover
    print(f"skip: {e}")
    sys.exit(77)

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print(f"FAIL {what}")


NO, NV = 6, 4
CLASSES = ["B cell", "T cell", "NK"]


def dense_x():
    x = np.zeros((NO, NV), dtype=np.float32)
    for i in range(NO):
        for j in range(NV):
            if (i + 2 * j) % 3 == 0:
                x[i, j] = i * NV + j + 0.5
    return x


def x_array(a):
    return a.X.toarray() if sp.issparse(a.X) else np.asarray(a.X)


def check_standard(a, dense, copied):
    check(a.shape == (NO, NV), f"shape {a.shape}")
    check(sp.issparse(a.X) != dense, f"X sparse={sp.issparse(a.X)}")
    if sp.issparse(a.X):
        check(a.X.format == "csr", f"X format {a.X.format}")
    check(x_array(a).dtype == np.float32, f"X dtype {x_array(a).dtype}")
    check(np.array_equal(x_array(a), dense_x()), "X values")
    check(list(a.obs_names) == [f"cell{i}" for i in range(NO)], "obs names")
    check(list(a.var_names) == ["GeneA", "GeneB", "GeneC", "GeneD"], "var names")
    cols = ["score", "count", "flag", "label", "note"] + (["kida_label", "kida_conf"] if copied else [])
    check(list(a.obs.columns) == cols, f"obs columns {list(a.obs.columns)}")
    score = [0.9, 0.8, 0.7, 0.6, 0.5, 0.1] if copied else [0.5, 1.5, -2.25, 0.0, 3.0, 1e-3]
    check(a.obs["score"].dtype == np.float32 and np.array_equal(a.obs["score"].values, np.float32(score)), "obs score")
    check(a.obs["count"].dtype == np.int32 and list(a.obs["count"]) == [7, -1, 0, 2147483647, 42, 3], "obs count")
    check(a.obs["flag"].dtype == bool and list(a.obs["flag"]) == [True, False, False, True, True, False], "obs flag")
    lab = a.obs["label"]
    check(isinstance(lab.dtype, pd.CategoricalDtype) and list(lab.cat.categories) == ["alpha", "beta", "gamma"]
          and not lab.cat.ordered, "obs label categories")
    check(list(lab.cat.codes) == [2, 0, -1, 1, 2, 0], f"obs label codes {list(lab.cat.codes)}")
    check(list(a.obs["note"]) == ["caf\u00e9", "", "x y", "a/b", "\u2713", "last"], f"obs note {list(a.obs['note'])}")
    emb = np.arange(NO * 2, dtype=np.float32).reshape(NO, 2) / 4 - 1
    check(a.obsm["X_emb"].dtype == np.float32 and np.array_equal(a.obsm["X_emb"], emb), "obsm X_emb")
    u = a.uns
    check(u["title"] == "kida roundtrip", "uns title")
    k = u["kida"]
    check(k["version"] == "0.1", "uns kida/version")
    check(list(k["classes"]) == CLASSES, "uns kida/classes")
    check(float(k["config"]["lr"]) == 0.001, "uns kida/config/lr")
    check(np.array_equal(k["weights"], np.array([1.0, -2.5, 1e300])) and k["weights"].dtype == np.float64, "uns weights")
    check(np.array_equal(k["steps"], np.array([0, 10, -20, 9007199254740993], dtype=np.int64))
          and k["steps"].dtype == np.int64, "uns steps")
    check(np.array_equal(k["attn"], np.float32([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])), "uns attn")
    if copied:
        kl = a.obs["kida_label"]
        check(list(kl.cat.categories) == CLASSES and list(kl.cat.codes) == [0, 1, 2, 1, 0, -1], "obs kida_label")
        check(np.array_equal(a.obs["kida_conf"].values, np.float32([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])), "obs kida_conf")
        check(np.array_equal(a.obsm["X_kida"], np.arange(NO * 3, dtype=np.float32).reshape(NO, 3)), "obsm X_kida")
        check(float(k["config"]["temperature"]) == 0.5, "uns temperature")


def check_annotate(src, out):
    s, a = ad.read_h5ad(src), ad.read_h5ad(out)
    n = s.n_obs
    check(a.shape == s.shape, f"shape {a.shape} vs {s.shape}")
    check((x_array(a) != x_array(s)).sum() == 0, "X unchanged")
    check(list(a.obs_names) == list(s.obs_names) and list(a.var_names) == list(s.var_names), "names unchanged")
    for c in s.obs.columns:
        check(a.obs[c].equals(s.obs[c]), f"obs {c} unchanged")
    for c in s.var.columns:
        check(a.var[c].equals(s.var[c]), f"var {c} unchanged")
    for key in s.obsm:
        check(np.array_equal(np.asarray(a.obsm[key]), np.asarray(s.obsm[key])), f"obsm {key} unchanged")
    check(list(a.obs.columns) == list(s.obs.columns) + [c for c in ["kida_label", "kida_conf"] if c not in s.obs],
          f"obs columns {list(a.obs.columns)}")
    i = np.arange(n)
    codes = np.where(i % 7 == 0, -1, i % 3)
    check(list(a.obs["kida_label"].cat.categories) == CLASSES
          and np.array_equal(a.obs["kida_label"].cat.codes.values, codes), "obs kida_label")
    check(np.array_equal(a.obs["kida_conf"].values, (i % 10).astype(np.float32) / np.float32(10)), "obs kida_conf")
    check(np.array_equal(a.obsm["X_kida"], np.stack([i, -i], 1).astype(np.float32)), "obsm X_kida")
    check(list(a.uns["kida"]["classes"]) == CLASSES, "uns kida/classes")


def main():
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "standard":
        check_standard(ad.read_h5ad(args[1]), "--dense" in args, False)
    elif len(args) == 2 and args[0] == "copy":
        check_standard(ad.read_h5ad(args[1]), False, True)
    elif len(args) == 3 and args[0] == "annotate":
        check_annotate(args[1], args[2])
    else:
        print(__doc__)
        sys.exit(99)
    print(f"check_roundtrip {args[0]}: {'FAIL' if FAILS else 'ok'} ({len(FAILS)} failed checks)")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
