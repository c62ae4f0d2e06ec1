"""Scores shared by every tool of the benchmark (peers and kida alike).

Cells scored: query cells with a true label that the reference also has (a type the reference
lacks cannot be named by any tool; those are the novel-type benchmark's business). A prediction
of `unknown` / `Unassigned` (an abstention) counts as wrong. Macro-F1 averages the F1 of the
classes present among the scored cells' truth; a predicted class absent from that truth only
costs precision elsewhere.
"""
import numpy as np

ABSTAIN = {"unknown", "Unassigned", "Unknown", "nan", "None", ""}


def split_extra(argv):
    """(arguments before `--`, the kida options after it)."""
    if "--" not in argv:
        return argv, []
    i = argv.index("--")
    return argv[:i], argv[i + 1:]


def clean(labels):
    return np.array(["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in labels], dtype=object)


def scored_mask(truth, ref_types):
    t = clean(truth)
    ref = set(map(str, ref_types))
    return np.array([v != "" and v in ref for v in t])


def classification(truth, pred, ref_types):
    """accuracy, macro-F1 and per-class F1 over the scored cells."""
    t, p = clean(truth), clean(pred)
    m = scored_mask(truth, ref_types)
    t, p = t[m], p[m]
    if t.size == 0:
        return {"accuracy": float("nan"), "macro_f1": float("nan"), "n_scored": 0, "per_class_f1": {}}
    f1 = {}
    for k in sorted(set(t)):
        tp = np.sum((t == k) & (p == k))
        fp = np.sum((t != k) & (p == k))
        fn = np.sum((t == k) & (p != k))
        f1[k] = float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 0.0
    return {"accuracy": float(np.mean(t == p)), "macro_f1": float(np.mean(list(f1.values()))), "n_scored": int(t.size),
            "abstained": float(np.mean([v in ABSTAIN for v in p])), "per_class_f1": f1}


def novel(truth, pred, left_out, ref_types):
    """Leave-one-type-out: F1 of calling the left-out type's query cells `unknown` (positives:
    cells of the left-out type; predicted positive: an abstention), and accuracy on the known types."""
    t, p = clean(truth), clean(pred)
    lab = t != ""
    is_novel = (t == left_out) & lab
    flagged = np.array([v in ABSTAIN for v in p]) & lab
    tp = np.sum(is_novel & flagged)
    fp = np.sum(~is_novel & flagged)
    fn = np.sum(is_novel & ~flagged)
    f1 = float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 0.0
    known = scored_mask(truth, ref_types) & ~is_novel
    acc = float(np.mean(t[known] == p[known])) if known.any() else float("nan")
    return {"novel_f1": f1, "novel_recall": float(tp / max(1, is_novel.sum())), "novel_n": int(is_novel.sum()),
            "known_accuracy": acc, "known_flagged": float(np.mean(flagged[known])) if known.any() else float("nan")}
