#!/usr/bin/env python3
"""Scores and tables for validation/run_multimodal.sh.

    multimodal_table.py --run PREFIX      # one run: PREFIX.h5ad, .eval, .logreg_{rna,atac}.json
                                          # -> PREFIX.mm.json, and a short summary on stdout
    multimodal_table.py --summary OUT --seeds "0 1 2" --refs "rna rna+atac" --net "..."
                                          # -> markdown tables (mean ± sd over seeds) on stdout

Accuracy and macro-F1 per modality are computed over the query cells whose true type
(obs cell_type) is a class of the model (uns/kida/classes), so that a type the reference lacks
does not count; macro-F1 averages over the classes present in that truth, as kida evaluate does.
KI = obs kida_teacher_label_raw, KIDA = obs kida_label_raw (the runs use --unknown-threshold 0).
Embedding scores (Leiden NMI/ARI, modality mixing within types) are read from `kida evaluate
--embedding`'s printed tables.
"""
import argparse
import json
import re
import statistics as st

MODALITIES = ("rna", "atac")


def macro_f1(truth, pred):
    f1 = []
    for k in sorted(set(truth)):
        tp = sum(1 for t, p in zip(truth, pred) if t == k and p == k)
        n_pred = sum(1 for p in pred if p == k)
        n_true = sum(1 for t in truth if t == k)
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_true if n_true else 0.0
        f1.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(f1) / len(f1) if f1 else float("nan")


def label_scores(path):
    import anndata as ad
    a = ad.read_h5ad(path)
    classes = set(str(x) for x in a.uns["kida"]["classes"])
    truth = a.obs["cell_type"].astype(str)
    out = {}
    for m in MODALITIES:
        keep = (a.obs["kida_modality"].astype(str) == m) & truth.isin(classes)
        t = list(truth[keep])
        row = {"cells": len(t)}
        for name, key in (("KI", "kida_teacher_label_raw"), ("KIDA", "kida_label_raw")):
            p = list(a.obs[key].astype(str)[keep])
            row[name] = {"accuracy": sum(x == y for x, y in zip(t, p)) / len(t) if t else float("nan"),
                         "macro_f1": macro_f1(t, p)}
        out[m] = row
    return out


def eval_scores(path):
    text = open(path).read()
    emb = {}
    for name in ("X_kida", "PCA-50"):
        m = re.search(r"^\s+%s\s+\d+\s+\d+\s+([\d.]+)\s+([\d.]+)" % re.escape(name), text, re.M)
        if m:
            emb[name] = {"nmi": float(m.group(1)), "ari": float(m.group(2))}
    mixing = {}
    part = text.split("modality mixing within types", 1)
    if len(part) == 2:
        for line in part[1].splitlines():
            m = re.match(r"^\s+(\S.*?)\s{2,}(\d+)\s+(.*?)\s{2,}([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", line)
            if m:
                mixing[m.group(1)] = {"cells": int(m.group(2)), "per_modality": m.group(3),
                                      "X_kida": float(m.group(4)), "PCA": float(m.group(5)),
                                      "random": float(m.group(6))}
    return emb, mixing


def one_run(prefix):
    r = {"labels": label_scores(prefix + ".h5ad")}
    r["embedding"], r["mixing"] = eval_scores(prefix + ".eval")
    for m in MODALITIES:
        b = json.load(open(f"{prefix}.logreg_{m}.json"))
        r["labels"][m]["logreg"] = {"accuracy": b["accuracy"], "macro_f1": b["macro_f1"]}
    r["seconds"] = float(open(prefix + ".seconds").read())
    json.dump(r, open(prefix + ".mm.json", "w"), indent=1)
    for m in MODALITIES:
        row = r["labels"][m]
        print(f"  {m:5s} {row['cells']:4d} cells: " + "  ".join(
            f"{k} {row[k]['accuracy']:.3f}/{row[k]['macro_f1']:.3f}" for k in ("KI", "KIDA", "logreg")))
    for t, v in r["mixing"].items():
        print(f"  mixing {t}: X_kida {v['X_kida']:.3f}  PCA {v['PCA']:.3f}  random {v['random']:.3f}")


def ms(v):
    v = [x for x in v if x == x]
    if not v:
        return "n/a"
    return f"{st.mean(v):.3f} ± {st.stdev(v):.3f}" if len(v) > 1 else f"{v[0]:.3f}"


def summary(out, seeds, refs, net):
    runs = {ref: [json.load(open(f"{out}/runs/ref_{ref}_seed{s}.mm.json")) for s in seeds] for ref in refs}
    lines = [f"network: {net or 'kida defaults'}; seeds {' '.join(seeds)}; accuracy / macro-F1 over the query cells "
             "whose type the reference has", "",
             "| reference | query cells | cells | method | accuracy | macro-F1 |", "|---|---|---|---|---|---|"]
    for ref, rs in runs.items():
        for m in MODALITIES:
            for k in ("KI", "KIDA", "logreg"):
                lines.append(f"| {ref} | {m} | {rs[0]['labels'][m]['cells']} | {k} | "
                             f"{ms([r['labels'][m][k]['accuracy'] for r in rs])} | "
                             f"{ms([r['labels'][m][k]['macro_f1'] for r in rs])} |")
    lines += ["", "| reference | embedding | NMI | ARI |", "|---|---|---|---|"]
    for ref, rs in runs.items():
        for e in ("X_kida", "PCA-50"):
            lines.append(f"| {ref} | {e} | {ms([r['embedding'][e]['nmi'] for r in rs])} | "
                         f"{ms([r['embedding'][e]['ari'] for r in rs])} |")
    lines += ["", "modality mixing within types (kNN entropy of modality among 15 neighbours of the same type; "
              "random = neighbours drawn at the type's shares)", "",
              "| reference | type | cells per modality | X_kida | PCA-50 | random |", "|---|---|---|---|---|---|"]
    for ref, rs in runs.items():
        for t in rs[0]["mixing"]:
            lines.append(f"| {ref} | {t} | {rs[0]['mixing'][t]['per_modality']} | "
                         f"{ms([r['mixing'][t]['X_kida'] for r in rs])} | {ms([r['mixing'][t]['PCA'] for r in rs])} | "
                         f"{rs[0]['mixing'][t]['random']:.3f} |")
    lines += ["", "kida run time per seed: " + ", ".join(
        f"{ref} {st.mean(r['seconds'] for r in rs):.0f} s" for ref, rs in runs.items())]
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run")
    ap.add_argument("--summary")
    ap.add_argument("--seeds", default="0 1 2")
    ap.add_argument("--refs", default="rna rna+atac")
    ap.add_argument("--net", default="")
    a = ap.parse_args()
    if a.run:
        one_run(a.run)
    if a.summary:
        summary(a.summary, a.seeds.split(), a.refs.split(), a.net)


if __name__ == "__main__":
    main()
