#!/usr/bin/env python3
"""Figures and one HTML page for a file annotated by kida (run through `kida report`).

    python3 validation/report.py OUT.h5ad --out FOLDER [--truth-key cell_type] [--batch-key KEY]
                                 [--explain PREFIX] [--kida PATH/TO/kida] [--overwrite]

Needs: numpy, pandas, matplotlib, scanpy (UMAP through umap-learn, which scanpy pulls in) and
networkx (pip install scanpy matplotlib networkx). Exit 3 when one of them cannot be imported,
2 on bad input, 0 when the page is written.

Writes into FOLDER (created when missing):
  umap_predicted.png, umap_truth.png (when --truth-key is an obs column), umap_batch.png (when a
      batch column exists), umap_modality.png (when obs kida_modality holds more than one
      modality: a query of several files): UMAP of obsm X_kida (15-NN graph, random_state 0)
  confusion.png       truth x predicted (row-normalised, counts printed), when truth exists
  pathways.png        heatmap of mean cls attention per predicted type over each type's top
                      pathways (from PREFIX.pathways.tsv of kida explain when present, else the
                      pathways with the largest mean-attention difference type vs rest)
  networks.png        key-gene network per type (PREFIX.genes.tsv + PREFIX.edges.tsv), when the
                      explain outputs exist
  confidence.png      histogram of kida_conf with the unknown threshold, and the unknown rate
                      per type (kida_label_raw)
  index.html          the figures and the `kida evaluate` table (with --embedding)
PREFIX defaults to OUT with ".h5ad" replaced by ".explain" (kida explain's default).
"""
import argparse
import html
import os
import subprocess
import sys
import warnings

try:
    import numpy as np
    import pandas as pd
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import anndata as ad
    import scanpy as sc
    import networkx as nx
except Exception as e:  # noqa: BLE001
    print(f"report.py: cannot import a required package: {e}\n"
          "HINT: pip install scanpy matplotlib networkx", file=sys.stderr)
    sys.exit(3)

warnings.filterwarnings("ignore")


def die(msg, hint):
    print(f"report.py: ERROR: {msg}\nHINT: {hint}", file=sys.stderr)
    sys.exit(2)


def save(fig, folder, name):
    """Writes fig as folder/name through a temporary file (a figure is whole or absent)."""
    path = os.path.join(folder, name)
    tmp = os.path.join(folder, f".{name}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return name


def umaps(a, folder, truth_key, batch_key):
    sc.pp.neighbors(a, use_rep="X_kida", n_neighbors=15, random_state=0)
    sc.tl.umap(a, random_state=0)
    out = []
    cols = [("kida_label", "predicted (kida_label)", "umap_predicted.png")]
    if truth_key:
        cols.append((truth_key, f"true ({truth_key})", "umap_truth.png"))
    if batch_key:
        cols.append((batch_key, f"batch ({batch_key})", "umap_batch.png"))
    if "kida_modality" in a.obs and a.obs["kida_modality"].nunique() > 1:
        cols.append(("kida_modality", "modality (kida_modality)", "umap_modality.png"))
    for key, title, name in cols:
        fig, ax = plt.subplots(figsize=(6.5, 5))
        sc.pl.umap(a, color=key, ax=ax, show=False, title=f"X_kida UMAP: {title}", frameon=False)
        out.append((save(fig, folder, name), f"UMAP of X_kida coloured by {title}"))
    return out


def confusion(a, folder, truth_key):
    t = a.obs[truth_key].astype(str).where(a.obs[truth_key].notna(), None)
    p = a.obs["kida_label"].astype(str)
    ok = t.notna() & (t != "nan")
    tab = pd.crosstab(t[ok], p[ok])
    truth_types = list(tab.index)
    pred_cols = [c for c in truth_types if c in tab.columns] + \
        sorted(c for c in tab.columns if c not in truth_types and c != "unknown") + \
        (["unknown"] if "unknown" in tab.columns else [])
    tab = tab.reindex(columns=pred_cols, fill_value=0)
    frac = tab.div(tab.sum(axis=1).clip(lower=1), axis=0)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(pred_cols), 1.0 + 0.6 * len(truth_types)))
    im = ax.imshow(frac.values, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(pred_cols)), pred_cols, rotation=45, ha="right")
    ax.set_yticks(range(len(truth_types)), truth_types)
    for i in range(len(truth_types)):
        for j in range(len(pred_cols)):
            v = tab.values[i, j]
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                        color="white" if frac.values[i, j] > 0.5 else "black")
    acc = np.trace(tab.reindex(columns=truth_types, fill_value=0).values) / max(tab.values.sum(), 1)
    ax.set_xlabel("predicted (kida_label)")
    ax.set_ylabel(f"true ({truth_key})")
    ax.set_title(f"confusion (row fraction; counts); accuracy {acc:.3f}")
    fig.colorbar(im, ax=ax, fraction=0.046)
    return [(save(fig, folder, "confusion.png"), "Confusion matrix, rows normalised")]


def pathway_heatmap(a, folder, explain_tsv, per_type=5):
    names = [str(s) for s in a.uns["kida"]["pathways"]]
    attn = np.asarray(a.obsm["kida_pathway_attn"], dtype=np.float64)
    lab = a.obs["kida_label"].astype(str)
    types = [t for t in pd.Categorical(a.obs["kida_label"]).categories if t != "unknown" and (lab == t).sum() > 1]
    chosen, source = [], ""
    if explain_tsv:
        t = pd.read_csv(explain_tsv, sep="\t")
        for ty in types:
            for pw in t[t.group == ty].sort_values("rank").pathway.head(per_type):
                if pw not in chosen:
                    chosen.append(pw)
        source = f"each type's top {per_type} pathways by the rank-sum test (kida explain)"
    else:
        for ty in types:
            m = lab.values == ty
            d = attn[m].mean(0) - attn[~m].mean(0)
            for j in np.argsort(-d)[:per_type]:
                if names[j] not in chosen:
                    chosen.append(names[j])
        source = f"each type's {per_type} pathways with the largest mean-attention gain over the rest"
    idx = [names.index(c) for c in chosen]
    mean = np.array([attn[lab.values == ty][:, idx].mean(0) for ty in types])
    z = (mean - mean.mean(0)) / (mean.std(0) + 1e-12)
    short = [c.replace("REACTOME_", "").replace("HALLMARK_", "").replace("GOBP_", "")[:48] for c in chosen]
    fig, ax = plt.subplots(figsize=(1.5 + 0.55 * len(types), 1.5 + 0.28 * len(chosen)))
    im = ax.imshow(z.T, cmap="RdBu_r", vmin=-2, vmax=2, aspect="auto")
    ax.set_xticks(range(len(types)), types, rotation=45, ha="right")
    ax.set_yticks(range(len(chosen)), short, fontsize=7)
    ax.set_title("mean cls attention per type\n(z-score across types)", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.04, label="z")
    return [(save(fig, folder, "pathways.png"), f"Mean attention of {source}; z-scored per pathway across types")]


def networks(folder, genes_tsv, edges_tsv):
    g = pd.read_csv(genes_tsv, sep="\t")
    e = pd.read_csv(edges_tsv, sep="\t")
    contrib = g[(g.variant == "contribution") & (g.key == 1)]  # kida's key genes (absent in older files)
    g = g[g.variant == "top2"]
    types = list(dict.fromkeys(g.group))
    if not types:
        return []
    ncol = min(3, len(types))
    nrow = (len(types) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 4.8 * nrow), squeeze=False)
    for k, ty in enumerate(types):
        ax = axes[k // ncol][k % ncol]
        gt = g[g.group == ty]
        et = e[e.group == ty]
        G = nx.Graph()
        G.add_nodes_from(gt.gene)
        for _, r in et.iterrows():
            G.add_edge(r.gene_a, r.gene_b, weight=r.similarity)
        pos = nx.spring_layout(G, weight="weight", seed=0, k=1.2 / np.sqrt(max(len(G), 1)))
        q = dict(zip(gt.gene, gt.q))
        key = set(gt[gt.key == 1].gene)
        w = [3.0 * G[u][v]["weight"] for u, v in G.edges()]
        nx.draw_networkx_edges(G, pos, ax=ax, width=w, alpha=0.35, edge_color="grey")
        sizes = [120 + 900 * (1 - min(max(q.get(n, 1.0), 0.0), 1.0)) for n in G.nodes()]
        colors = ["tab:red" if n in key else "tab:blue" for n in G.nodes()]
        nx.draw_networkx_nodes(G, pos, ax=ax, node_size=sizes, node_color=colors, alpha=0.8)
        nx.draw_networkx_labels(G, pos, ax=ax, font_size=7)
        kc = ", ".join(contrib[contrib.group == ty].gene)
        ax.set_title(f"{ty}: network key genes {', '.join(gt[gt.key == 1].gene)}"
                     + (f"\nkey genes by contribution {kc}" if kc else ""), fontsize=8)
        ax.axis("off")
    for k in range(len(types), nrow * ncol):
        axes[k // ncol][k % ncol].axis("off")
    fig.suptitle("gene similarity networks (top-2 genes of the top-10 pathways; red = network key genes, size ~ 1 - Q)",
                 fontsize=10)
    return [(save(fig, folder, "networks.png"),
             "Key-gene networks per type: cosine-similarity graph of the gene embeddings; red nodes are the "
             "key genes (smallest Q statistic), node size grows as Q falls, edge width is the similarity")]


def confidence(a, folder):
    conf = np.asarray(a.obs["kida_conf"], dtype=float)
    thr = float(np.asarray(a.uns["kida"].get("unknown_threshold", 0.7)))
    raw = a.obs["kida_label_raw"].astype(str) if "kida_label_raw" in a.obs else a.obs["kida_label"].astype(str)
    unk = conf < thr
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"wspace": 0.6})
    ax1.hist(conf, bins=40, color="tab:blue", alpha=0.8)
    ax1.axvline(thr, color="tab:red", ls="--", label=f"unknown below {thr:g}")
    ax1.set_xlabel("kida_conf (max class probability)")
    ax1.set_ylabel("cells")
    ax1.set_title(f"confidence: {unk.mean() * 100:.1f}% of {len(conf)} cells unknown")
    ax1.legend()
    rates = pd.Series(unk, index=raw.index).groupby(raw.values).agg(["mean", "size"])
    rates = rates[rates["size"] > 0].sort_values("mean")
    ax2.barh(range(len(rates)), rates["mean"] * 100, color="tab:orange")
    ax2.set_yticks(range(len(rates)), [f"{i} (n={s})" for i, s in zip(rates.index, rates["size"])])
    ax2.set_xlabel("% of cells called unknown")
    ax2.set_title("unknown rate per most likely type (kida_label_raw)")
    return [(save(fig, folder, "confidence.png"), "Confidence histogram and unknown rate per type")]


def evaluate_text(kida, path, truth_key, batch_key):
    if not kida:
        return "(no kida binary given: evaluate table left out)"
    base = [kida, "evaluate", "--pred", path, "--truth-key", truth_key, "--quiet"]
    tries = [base + ["--embedding"] + (["--batch-key", batch_key] if batch_key else []), base]
    for cmd in tries:
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout
    return f"(kida evaluate failed: {r.stderr.strip()[-2000:]})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("h5ad")
    ap.add_argument("--out", required=True)
    ap.add_argument("--truth-key", default="cell_type")
    ap.add_argument("--batch-key", default="")
    ap.add_argument("--explain", default="")
    ap.add_argument("--kida", default="")
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.h5ad):
        die(f"{args.h5ad} does not exist", "give a file written by kida annotate or kida predict")
    os.makedirs(args.out, exist_ok=True)
    index = os.path.join(args.out, "index.html")
    if os.path.exists(index) and not args.overwrite:
        die(f"{index} already exists", "choose another --out folder, or add --overwrite")
    a = ad.read_h5ad(args.h5ad)
    for k in ["kida_label", "kida_conf"]:
        if k not in a.obs:
            die(f"{args.h5ad}: obs has no {k}", "give a file written by kida annotate or kida predict")
    for k in ["X_kida", "kida_pathway_attn"]:
        if k not in a.obsm:
            die(f"{args.h5ad}: obsm has no {k}", "give a file written by kida annotate or kida predict")
    truth_key = args.truth_key if args.truth_key in a.obs else ""
    batch_key = args.batch_key or ("batch" if "batch" in a.obs else "")
    if batch_key and batch_key not in a.obs:
        die(f"{args.h5ad}: obs has no {batch_key}", "give an existing obs column with --batch-key")
    prefix = args.explain or (args.h5ad[:-5] if args.h5ad.endswith(".h5ad") else args.h5ad) + ".explain"
    have_explain = all(os.path.exists(prefix + s) for s in [".pathways.tsv", ".genes.tsv", ".edges.tsv"])

    figs = []
    figs += umaps(a, args.out, truth_key, batch_key)
    if truth_key:
        figs += confusion(a, args.out, truth_key)
    figs += pathway_heatmap(a, args.out, prefix + ".pathways.tsv" if have_explain else "")
    if have_explain:
        figs += networks(args.out, prefix + ".genes.tsv", prefix + ".edges.tsv")
    figs += confidence(a, args.out)
    table = evaluate_text(args.kida, args.h5ad, args.truth_key, batch_key)

    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>kida report: {html.escape(args.h5ad)}</title>",
             "<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto}img{max-width:100%;"
             "border:1px solid #ddd}pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}</style>",
             "</head><body>", f"<h1>kida report</h1><p>file: <code>{html.escape(os.path.abspath(args.h5ad))}</code>, "
             f"{a.n_obs} cells; mode {html.escape(str(a.uns['kida'].get('mode', '?')))}; "
             f"explain outputs: {html.escape(prefix) + '.*' if have_explain else 'none (run kida explain)'}</p>",
             "<h2>kida evaluate</h2>", f"<pre>{html.escape(table)}</pre>"]
    for name, caption in figs:
        parts.append(f"<h2>{html.escape(caption)}</h2><img src='{name}' alt='{html.escape(caption)}'>")
    parts.append("</body></html>\n")
    tmp = index + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(parts))
    os.replace(tmp, index)
    print(f"report: {len(figs)} figures and {index}")


if __name__ == "__main__":
    main()
