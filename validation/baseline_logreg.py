#!/usr/bin/env python3
"""CellTypist-style baseline for kida's results table: a multinomial logistic regression on
kida's own preprocessing, trained on a reference, scored on a query's labelled cells.

Usage (from the repository root, with the pyenv python3: pip scanpy anndata scikit-learn):
    python3 validation/baseline_logreg.py REF.h5ad QUERY.h5ad [options]
    python3 validation/baseline_logreg.py ALL.h5ad --holdout 10x3pv2 --batch-key batch
    python3 validation/baseline_logreg.py ALL.h5ad ALL.h5ad \
        --ref-filter 'batch!=5p' --query-filter batch=5p

Preprocessing (as kida's src/prep/preprocess.h, fitted on the reference only):
  normalize_total(1e4) over all genes of each file -> log1p -> highly_variable_genes
  (flavor="seurat", n_top_genes=3000) on the reference -> per-gene mean and std (ddof=1, 0 -> 1)
  of the reference -> (x - mean) / std clipped to [-10, 10]. Query genes are matched to the
  reference HVGs by var name; a gene the query lacks is a zero count (its log value is 0).
Model: sklearn LogisticRegression(C=1.0, max_iter=1000, lbfgs; multinomial for > 2 classes),
random_state = --seed. Reference cells without a label are dropped.
Scores (as kida evaluate, docs/metrics.md): accuracy over the query's labelled cells, macro-F1
over the classes present in the query's truth (a predicted class absent from the truth is just
wrong). Prints one JSON line on stdout (progress on stderr).

Filters: --ref-filter / --query-filter KEY=V1[,V2..] keeps cells whose obs[KEY] is one of the
values, KEY!=V1[,..] drops them; repeatable (all must hold). --holdout V (with --batch-key,
default "batch") is shorthand for ref = cells with batch != V and query = cells with batch == V,
from one file (QUERY may be omitted).
"""
import argparse
import json
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp


def parse_filter(text):
    """'key=v1,v2' or 'key!=v1' -> (key, keep?, set of values)."""
    if "!=" in text:
        key, vals = text.split("!=", 1)
        keep = False
    elif "=" in text:
        key, vals = text.split("=", 1)
        keep = True
    else:
        sys.exit(f"error: filter '{text}' is not KEY=VALUE[,VALUE] or KEY!=VALUE[,VALUE]")
    return key.strip(), keep, set(v.strip() for v in vals.split(","))


def apply_filters(adata, filters, path, what):
    mask = np.ones(adata.n_obs, dtype=bool)
    for key, keep, vals in filters:
        if key not in adata.obs:
            sys.exit(f"error: {path}: obs has no column '{key}' for the {what} filter "
                     f"(columns: {', '.join(map(str, adata.obs.columns))})")
        col = adata.obs[key].astype(str).to_numpy()
        hit = np.isin(col, list(vals))
        if keep and not hit.any():
            sys.exit(f"error: {path}: no cell has obs['{key}'] in {sorted(vals)} "
                     f"(values: {sorted(set(col))[:20]})")
        mask &= hit if keep else ~hit
    if not mask.any():
        sys.exit(f"error: {path}: the {what} filters keep no cell")
    return adata[mask].copy()


def labels_of(adata, key, path):
    if key not in adata.obs:
        sys.exit(f"error: {path}: obs has no label column '{key}' "
                 f"(columns: {', '.join(map(str, adata.obs.columns))}); use --label-key")
    col = adata.obs[key]
    lab = col.astype(object).where(col.notna(), None).to_numpy()
    return np.array([None if (v is None or str(v) in ("", "nan", "NA")) else str(v) for v in lab],
                    dtype=object)


def log_normalise(adata, target_sum):
    """normalize_total over all genes, then log1p; returns CSR float64."""
    import scanpy as sc
    X = adata.X
    if not sp.issparse(X):
        X = sp.csr_matrix(np.asarray(X))
    X = sp.csr_matrix(X, dtype=np.float64)
    if X.nnz and (not np.isfinite(X.data).all() or (X.data < 0).any()):
        sys.exit("error: X holds NaN, Inf or negative values; kida and this baseline need raw counts")
    adata.X = X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.pp.normalize_total(adata, target_sum=target_sum)
        sc.pp.log1p(adata)
    return sp.csr_matrix(adata.X)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ref")
    ap.add_argument("query", nargs="?")
    ap.add_argument("--label-key", default="cell_type")
    ap.add_argument("--query-label-key", default=None, help="default: --label-key")
    ap.add_argument("--ref-filter", action="append", default=[])
    ap.add_argument("--query-filter", action="append", default=[])
    ap.add_argument("--holdout", default=None, help="batch value held out as the query")
    ap.add_argument("--batch-key", default="batch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-hvg", type=int, default=3000)
    ap.add_argument("--target-sum", type=float, default=1e4)
    ap.add_argument("--clip", type=float, default=10.0)
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--max-iter", type=int, default=1000)
    ap.add_argument("--name", default=None, help="a name for this split in the JSON")
    args = ap.parse_args()

    import anndata as ad
    import scanpy as sc
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    t0 = time.time()
    qpath = args.query or args.ref
    ref_f = [parse_filter(f) for f in args.ref_filter]
    qry_f = [parse_filter(f) for f in args.query_filter]
    if args.holdout is not None:
        ref_f.append((args.batch_key, False, {args.holdout}))
        qry_f.append((args.batch_key, True, {args.holdout}))
    if qpath == args.ref and not ref_f and not qry_f:
        sys.exit("error: reference and query are the same file and no filter splits them; "
                 "use --holdout or --ref-filter/--query-filter")
    ref = apply_filters(ad.read_h5ad(args.ref), ref_f, args.ref, "reference")
    qry = apply_filters(ad.read_h5ad(qpath), qry_f, qpath, "query")
    for a, p in ((ref, args.ref), (qry, qpath)):
        if not a.var_names.is_unique:
            print(f"warning: {p}: var names are not unique; made unique", file=sys.stderr)
            a.var_names_make_unique()

    y_ref = labels_of(ref, args.label_key, args.ref)
    y_qry = labels_of(qry, args.query_label_key or args.label_key, qpath)
    keep = np.array([v is not None for v in y_ref])
    if keep.sum() < 2:
        sys.exit(f"error: {args.ref}: fewer than 2 labelled reference cells")
    ref = ref[keep].copy()
    y_ref = y_ref[keep].astype(str)

    # reference: normalise, log, HVGs, scale statistics
    Xr = log_normalise(ref, args.target_sum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.pp.highly_variable_genes(ref, flavor="seurat", n_top_genes=args.n_hvg)
    hvg = np.flatnonzero(ref.var["highly_variable"].to_numpy())
    genes = ref.var_names[hvg]
    Xr = Xr[:, hvg].toarray()
    mean = Xr.mean(axis=0)
    std = Xr.std(axis=0, ddof=1)
    std[std == 0] = 1.0
    Xr = np.clip((Xr - mean) / std, -args.clip, args.clip)

    # query: normalise over all its genes, match the HVGs by name (missing -> 0), same scaling
    Xq_all = log_normalise(qry, args.target_sum)
    pos = qry.var_names.get_indexer(genes)
    matched = pos >= 0
    Xq = np.zeros((qry.n_obs, len(genes)))
    if matched.any():
        Xq[:, matched] = Xq_all[:, pos[matched]].toarray()
    Xq = np.clip((Xq - mean) / std, -args.clip, args.clip)

    clf = LogisticRegression(C=args.C, max_iter=args.max_iter, random_state=args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(Xr, y_ref)
    pred = clf.predict(Xq)

    lab = np.array([v is not None for v in y_qry])
    yt, yp = y_qry[lab].astype(str), pred[lab]
    truth_classes = sorted(set(yt))
    out = {
        "method": "logreg",
        "name": args.name,
        "ref": args.ref, "query": qpath,
        "ref_filter": args.ref_filter + ([f"{args.batch_key}!={args.holdout}"] if args.holdout else []),
        "query_filter": args.query_filter + ([f"{args.batch_key}={args.holdout}"] if args.holdout else []),
        "seed": args.seed,
        "n_ref": int(ref.n_obs), "n_query": int(qry.n_obs), "n_labelled": int(lab.sum()),
        "n_genes": int(len(genes)), "genes_matched": int(matched.sum()),
        "gene_overlap": float(matched.mean()) if len(genes) else 0.0,
        "accuracy": float(accuracy_score(yt, yp)) if len(yt) else None,
        "macro_f1": float(f1_score(yt, yp, labels=truth_classes, average="macro",
                                   zero_division=0)) if len(yt) else None,
        "per_class_f1": dict(zip(truth_classes, map(float, f1_score(
            yt, yp, labels=truth_classes, average=None, zero_division=0)))) if len(yt) else {},
        "n_iter": int(np.max(clf.n_iter_)),
        "seconds": round(time.time() - t0, 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
