#!/usr/bin/env python3
"""The benchmark's table, target checks and figure, from the runs of validation/peers/run.sh.

    table.py WORK [--out docs/results.md] [--figure docs/figures/peers_macro_f1.png] [--tag kida]

WORK/runs/<split>/<tool>_seed<s>.json (peers.py, kida_run.py). Prints markdown: accuracy and
macro-F1 per split and tool (mean ± sd over seeds), the best peer per split, kida's targets
(mean macro-F1 and accuracy against the mean of the best peer per split; the largest deficit on
a split; KIDA against KI; label agreement between seeds and the seed sd of macro-F1), and median
wall seconds per tool. With --out, replaces the text between the markers
`<!-- peers-table:begin -->` and `<!-- peers-table:end -->` of that file.
WORK/novel/<split>/<type>/*.json (novel.py) add the novel-type table.
"""
import argparse
import glob
import itertools
import json
import os
import re
import sys

import numpy as np

PEERS = ["celltypist", "celltypist_mv", "scanvi", "ingest", "singler", "logreg", "knn"]
NAMES = {"celltypist": "CellTypist", "celltypist_mv": "CellTypist (majority voting)", "scanvi": "scANVI",
         "ingest": "scanpy ingest", "singler": "SingleR", "logreg": "logistic reg.", "knn": "kNN",
         "kida": "kida KIDA", "kida_raw": "kida KIDA (arg-max)", "ki": "kida KI", "ki_raw": "kida KI (arg-max)"}
BEGIN, END = "<!-- peers-table:begin -->", "<!-- peers-table:end -->"


def load(work, tag):
    runs = {}
    for f in glob.glob(os.path.join(work, "runs", "*", "*_seed*.json")):
        r = json.load(open(f))
        base = os.path.basename(f)
        tool = base[:base.rindex("_seed")]
        split = os.path.basename(os.path.dirname(f))
        if tool == tag:
            for k in ("kida", "kida_raw", "ki", "ki_raw"):
                if k in r:
                    runs.setdefault(split, {}).setdefault(k, []).append(dict(r[k], seed=r["seed"], wall_s=r["wall_s"],
                                                                            cpu_s=r["cpu_s"], tsv=f[:-5] + ".tsv"))
        elif tool in PEERS:
            runs.setdefault(split, {}).setdefault(tool, []).append(r)
    return runs


def ms(v):
    v = [x for x in v if x == x]
    if not v:
        return "–"
    return f"{np.mean(v):.3f}" + (f" ± {np.std(v, ddof=1):.3f}" if len(v) > 1 else "")


def agreement(rs):
    """Mean pairwise share of cells with the same label (kida_label) between seeds."""
    labs = []
    for r in rs:
        if os.path.exists(r.get("tsv", "")):
            with open(r["tsv"]) as f:
                labs.append([line.split("\t")[1] for line in f])
    pairs = [np.mean(np.array(a) == np.array(b)) for a, b in itertools.combinations(labs, 2) if len(a) == len(b)]
    return float(np.mean(pairs)) if pairs else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("work")
    p.add_argument("--out", default="")
    p.add_argument("--figure", default="")
    p.add_argument("--tag", default="kida", help="the kida runs' file prefix in WORK/runs/<split>/")
    a = p.parse_args()
    runs = load(a.work, a.tag)
    splits = sorted(s for s in runs if "kida" in runs[s])
    if not splits:
        sys.exit(f"error: no kida runs under {a.work}/runs")
    tools = [t for t in PEERS if any(t in runs[s] for s in splits)]
    cols = tools + ["ki_raw", "ki", "kida_raw", "kida"]
    out = []
    for metric, title in (("macro_f1", "Macro-F1"), ("accuracy", "Accuracy")):
        out.append(f"### {title} (mean ± sd over seeds)\n")
        out.append("| split | " + " | ".join(NAMES[c] for c in cols) + " | best peer |")
        out.append("|---|" + "---|" * (len(cols) + 1))
        for s in splits:
            cells = []
            best = max(((np.mean([r[metric] for r in runs[s][t]]), t) for t in tools if t in runs[s]), default=(np.nan, ""))
            for c in cols:
                cells.append(ms([r[metric] for r in runs[s].get(c, [])]))
            out.append(f"| {s} | " + " | ".join(cells) + f" | {NAMES.get(best[1], '–')} {best[0]:.3f} |")
        out.append("")
    # targets, over the splits that have a peer to compare with
    out.append("### Targets (defaults, every split)\n")
    lone = [s for s in splits if not any(t in runs[s] for t in tools)]
    if lone:
        out.append(f"- not in the targets (no peer run yet): {', '.join(lone)}")
    splits = [s for s in splits if s not in lone]
    for metric in ("macro_f1", "accuracy"):
        best = [max(np.mean([r[metric] for r in runs[s][t]]) for t in tools if t in runs[s]) for s in splits]
        kida = [np.mean([r[metric] for r in runs[s]["kida"]]) for s in splits]
        gap = [k - b for k, b in zip(kida, best)]
        worst = int(np.argmin(gap))
        out.append(f"- {metric}: kida KIDA mean {np.mean(kida):.3f} vs mean of the best peer per split {np.mean(best):.3f} "
                   f"({'met' if np.mean(kida) >= np.mean(best) else 'NOT met'}); largest deficit {gap[worst]:+.3f} on "
                   f"{splits[worst]} ({'met' if min(gap) >= -0.03 else 'NOT met'}: no split more than 3 points below)")
    for metric in ("macro_f1", "accuracy"):
        kida = [np.mean([r[metric] for r in runs[s]["kida"]]) for s in splits]
        ki = [np.mean([r[metric] for r in runs[s]["ki"]]) for s in splits]
        wins = sum(k >= i for k, i in zip(kida, ki))
        out.append(f"- KIDA vs KI ({metric}): mean {np.mean(kida):.3f} vs {np.mean(ki):.3f}; KIDA >= KI on {wins} of "
                   f"{len(splits)} splits ({'met' if np.mean(kida) >= np.mean(ki) and wins * 3 >= 2 * len(splits) else 'NOT met'})")
    agree = [agreement(runs[s]["kida"]) for s in splits]
    sd = [np.std([r["macro_f1"] for r in runs[s]["kida"]], ddof=1) if len(runs[s]["kida"]) > 1 else np.nan for s in splits]
    out.append(f"- stability: label agreement between seeds, mean {np.nanmean(agree):.3f}, lowest {np.nanmin(agree):.3f} "
               f"({splits[int(np.nanargmin(agree))]}); macro-F1 seed sd mean {np.nanmean(sd):.3f}, largest {np.nanmax(sd):.3f} "
               f"({splits[int(np.nanargmax(sd))]})")
    # wall time
    out.append("\n### Wall seconds per run (median over splits and seeds)\n")
    out.append("| " + " | ".join(NAMES[t] for t in tools + ["kida"]) + " |")
    out.append("|" + "---|" * (len(tools) + 1))
    out.append("| " + " | ".join(f"{np.median([r['wall_s'] for s in splits for r in runs[s].get(t, [])]):.0f}"
                                 for t in tools + ["kida"]) + " |")
    novel = novel_table(a.work, a.tag)
    if novel:
        out += ["", novel]
    text = "\n".join(out)
    print(text)
    if a.figure:
        figure(runs, splits, tools, a.figure)
    if a.out:
        doc = open(a.out).read()
        if BEGIN not in doc or END not in doc:
            sys.exit(f"error: {a.out} has no {BEGIN} ... {END} markers")
        doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), BEGIN + "\n" + text.replace("\\", "\\\\") + "\n" + END, doc,
                     flags=re.S)
        open(a.out, "w").write(doc)


def novel_table(work, tag):
    rows = {}
    for f in glob.glob(os.path.join(work, "novel", "*", "*", "*_seed*.json")):
        r = json.load(open(f))
        split = os.path.basename(os.path.dirname(os.path.dirname(f)))
        typ = r.get("left_out", os.path.basename(os.path.dirname(f)))
        tool = os.path.basename(f)[:os.path.basename(f).rindex("_seed")]
        if tool == tag:
            rows.setdefault((split, typ), {}).setdefault("kida", []).append(r["novel"])
        elif tool == "celltypist":
            rows.setdefault((split, typ), {}).setdefault("celltypist", []).append(r)
    if not rows:
        return ""
    out = ["### Novel cell types (leave one reference type out)\n",
           "| split | left-out type (query cells) | kida novel F1 | kida known-type accuracy | CellTypist prob-match novel F1 | CellTypist known-type accuracy |",
           "|---|---|---|---|---|---|"]
    agg = {"kida": [], "celltypist": [], "kida_known": [], "ct_known": []}
    for (split, typ), r in sorted(rows.items()):
        k, c = r.get("kida", []), r.get("celltypist", [])
        n = (k or c)[0]["novel_n"]
        out.append(f"| {split} | {typ} ({n}) | {ms([x['novel_f1'] for x in k])} | {ms([x['known_accuracy'] for x in k])} | "
                   f"{ms([x['novel_f1'] for x in c])} | {ms([x['known_accuracy'] for x in c])} |")
        if k and c:
            agg["kida"].append(np.mean([x["novel_f1"] for x in k]))
            agg["celltypist"].append(np.mean([x["novel_f1"] for x in c]))
            agg["kida_known"].append(np.mean([x["known_accuracy"] for x in k]))
            agg["ct_known"].append(np.mean([x["known_accuracy"] for x in c]))
    if agg["kida"]:
        out.append(f"| **mean** | | **{np.mean(agg['kida']):.3f}** | {np.mean(agg['kida_known']):.3f} | "
                   f"**{np.mean(agg['celltypist']):.3f}** | {np.mean(agg['ct_known']):.3f} |")
    return "\n".join(out)


def figure(runs, splits, tools, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cols = tools + ["ki", "kida"]
    w = 0.8 / len(cols)
    fig, ax = plt.subplots(figsize=(max(10, 1.1 * len(splits)), 4.5))
    x = np.arange(len(splits))
    for i, c in enumerate(cols):
        m = [np.mean([r["macro_f1"] for r in runs[s].get(c, [])]) if runs[s].get(c) else np.nan for s in splits]
        e = [np.std([r["macro_f1"] for r in runs[s].get(c, [])]) if len(runs[s].get(c, [])) > 1 else 0 for s in splits]
        ax.bar(x + (i - len(cols) / 2 + 0.5) * w, m, w, yerr=e, label=NAMES[c], capsize=1.5,
               color=None if c not in ("kida", "ki") else ("#d62728" if c == "kida" else "#ff9896"))
    ax.set_xticks(x)
    ax.set_xticklabels(splits, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("macro-F1")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7, ncol=5, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
