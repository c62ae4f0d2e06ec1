#!/usr/bin/env python3
"""The tables of docs/integration.md from score.py's results.

    report.py RUNS_DIR SET [SET ...]

Reads RUNS_DIR/<set>/scores_seed*.json; a number is the mean over the seeds found (their
count in the heading). Prints Markdown: a summary (scib total per set and method), then per
set the metrics, and for a set of several modalities the same with the modality as the batch
and the modality iLISI within cell types.
"""
import glob
import json
import os
import sys

BATCH = ["iLISI", "KBET", "Graph connectivity", "BRAS", "PCR comparison"]
BIO = ["Isolated labels", "KMeans NMI", "KMeans ARI", "Silhouette label", "cLISI"]
SHORT = {"Graph connectivity": "graph conn.", "BRAS": "batch ASW (BRAS)", "PCR comparison": "PCR",
         "Isolated labels": "isolated", "KMeans NMI": "NMI", "KMeans ARI": "ARI",
         "Silhouette label": "label ASW", "Batch correction": "**batch**", "Bio conservation": "**bio**",
         "Total": "**total**"}
KEYED = {"harmony", "scvi", "scanorama"}


def given(m):
    if m == "scanvi":
        return "yes, and the reference's types"
    if m in KEYED:
        return "yes"
    return "no (no correction)" if m == "pca" else "no"


def mean(xs):
    return sum(xs) / len(xs)


def averaged(runs, part):
    """{method: {metric: mean over seeds}} of results[part], methods in the first run's order."""
    out = {}
    for m in runs[0][part]:
        have = [r[part][m] for r in runs if m in r.get(part, {})]
        out[m] = {k: mean([h[k] for h in have]) for k in have[0]}
    return out


def table(res, cols):
    head = ["method", "batch key"] + [SHORT.get(c, c) for c in cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m, r in res.items():
        lines.append("| " + " | ".join([m, given(m)] + [f"{r[c]:.3f}" for c in cols]) + " |")
    return "\n".join(lines)


def load(runs_dir, s):
    files = sorted(glob.glob(os.path.join(runs_dir, s, "scores_seed*.json")))
    return [json.load(open(f)) for f in files]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs_dir, sets = sys.argv[1], sys.argv[2:]
    got = {s: load(runs_dir, s) for s in sets}
    got = {s: r for s, r in got.items() if r}
    methods = []
    for runs in got.values():
        methods += [m for m in runs[0]["batch"] if m not in methods]
    print("### scib total (0.4 batch + 0.6 bio; unscaled)\n")
    print("| set | seeds | " + " | ".join(methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    for s, runs in got.items():
        res = averaged(runs, "batch")
        cells = [f"{res[m]['Total']:.3f}" if m in res else "" for m in methods]
        print(f"| {s} | {len(runs)} | " + " | ".join(cells) + " |")
    cols = BATCH + ["Batch correction"] + BIO + ["Bio conservation", "Total"]
    for s, runs in got.items():
        r0 = runs[0]
        print(f"\n### {s}\n")
        print(f"{r0['cells_scored']} labelled cells of {r0['cells']}; batches {', '.join(r0['batches'])}; "
              f"kida's reference {', '.join(r0['reference'])}; seeds {', '.join(str(r['seed']) for r in runs)}.\n")
        print(table(averaged(runs, "batch"), cols))
        if "modality" in r0:
            print("\nThe same with the modality (RNA, ATAC) as the batch:\n")
            print(table(averaged(runs, "modality"), cols))
            mix = [r["modality_within_types"] for r in runs]
            names = [m for m in mix[0] if m != "types"]
            print(f"\nModality iLISI within the cell types that have both modalities ({', '.join(mix[0]['types'])}); "
                  "random = a Gaussian embedding, the most mixing there is:\n")
            print("| " + " | ".join(names) + " |")
            print("|" + "---|" * len(names))
            print("| " + " | ".join(f"{mean([x[m]['mean'] for x in mix]):.3f}" for m in names) + " |")


if __name__ == "__main__":
    main()
