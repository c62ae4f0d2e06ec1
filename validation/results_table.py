#!/usr/bin/env python3
"""The table of docs/results.md from .work/results (written by validation/run_results.sh).

For every split: accuracy and macro-F1 (over the classes present in the query's truth) of
KI (teacher alone), KIDA (teacher + anchors + student) and the logistic-regression baseline,
mean ± sd over seeds. kida's numbers are for the argmax label (`*_raw`), comparable with the
baseline, which never abstains; the KIDA unknown rate (max probability < 0.7) is shown apart.
"""
import glob
import json
import os
import sys

import h5py
import numpy as np
from sklearn.metrics import accuracy_score, f1_score


def labels(f, key):
    g = f["obs"][key]
    cats = [c.decode() if isinstance(c, bytes) else str(c) for c in g["categories"][:]]
    codes = g["codes"][:]
    return np.array([cats[c] if c >= 0 else None for c in codes], dtype=object)


def scores(truth, pred):
    keep = np.array([t is not None for t in truth])
    t, p = truth[keep].astype(str), pred[keep].astype(str)
    classes = sorted(set(t))
    return accuracy_score(t, p), f1_score(t, p, labels=classes, average="macro", zero_division=0)


def fmt(v):
    v = np.array(v, dtype=float)
    return f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0:.3f}"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else ".work/results"
    rows = []
    for split in sorted(os.listdir(root)):
        runs = sorted(glob.glob(f"{root}/{split}/seed*/out.h5ad"))
        if not runs:
            continue
        ki, kida, lr, unk, net = [], [], [], [], ""
        for out in runs:
            d = os.path.dirname(out)
            if not os.path.exists(f"{d}/metrics.json"):
                continue
            with h5py.File(out, "r") as f:
                truth_key = "cell_type"
                truth = labels(f, truth_key)
                ki.append(scores(truth, labels(f, "kida_teacher_label_raw")))
                kida.append(scores(truth, labels(f, "kida_label_raw")))
            m = json.load(open(f"{d}/metrics.json"))
            unk.append([r for r in m["results"] if r["title"] in ("KIDA", "kida")][0]["unknown_rate"])
            b = json.load(open(f"{d}/baseline.json"))
            lr.append((b["accuracy"], b["macro_f1"]))
            net = open(f"{d}/net").read().strip() if os.path.exists(f"{d}/net") else "?"
        if not ki:
            continue
        ki, kida, lr = np.array(ki), np.array(kida), np.array(lr)
        rows.append((split, net, len(ki), ki, kida, lr, unk))
    print("| split | network | seeds | KI accuracy | KIDA accuracy | baseline accuracy | KI macro-F1 | KIDA macro-F1 | baseline macro-F1 | KIDA unknown |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for split, net, n, ki, kida, lr, unk in rows:
        print(f"| {split} | {net} | {n} | {fmt(ki[:, 0])} | {fmt(kida[:, 0])} | {fmt(lr[:, 0])} | "
              f"{fmt(ki[:, 1])} | {fmt(kida[:, 1])} | {fmt(lr[:, 1])} | {fmt(unk)} |")


if __name__ == "__main__":
    main()
