#!/usr/bin/env python3
"""The novel-type rule (`--novel-cutoff`, `--novel-resolution`, `--oor-quantile`, `--novel-profile-r`)
over saved runs, for choosing its defaults.

    KIDA=build/kida novel_rule.py RUN [RUN ...] [--resolutions "0.5 1 2"] [--cutoffs "0.7 0.8 0.9"]
        [--quantiles "0.95 0.99 off"] [--calibrate "off 0.1"] [--profile-r "off 0.25"]

Each RUN is the prefix of a kida_run.py run made with `--model-out RUN.model.h5` and
KIDA_KEEP_OUTPUT=1 (RUN.h5ad, RUN.json, RUN.model.h5). For every resolution, `kida predict` on the
run's model (the student: the same probabilities as the run, tests/e2e/outputs.sh) writes each
cell's cluster (obs kida_novel_cluster) and its median confidence (kida_cluster_conf); the median
distance of each cluster comes from the run's kida_oor_score, its cut-off from the run's reference
hold-out scores (uns kida/oor_holdout_scores, the quantile as kida takes it). Every (cut-off,
quantile) is then scored: a cluster is novel when its median confidence is below the cut-off or
its median distance above the quantile ("off": confidence only, as in `kida predict`). A run of a
leave-one-type-out split (RUN.json has `left_out`) is scored as the novel-type benchmark does
(score.novel: F1 of flagging the left-out type's cells, accuracy on the known types with flagged
cells counted wrong); any other run by the share of its cells flagged and the accuracy lost if the
flagged cells were `unknown`.

The profile rule: `kida predict` also writes each cluster's profile correlation (obs
kida_cluster_profile_r), and a cluster below a --profile-r value is novel too. It needs the
reference's type profiles in the model file (prep/type_profile, saved since that rule exists); a
model saved before gets them, in a temporary copy, from a one-epoch run of a tiny network on the
run's reference (the profiles depend only on the reference and the preprocessing options, which
the tiny run takes from the run's config; the genes are checked to be the same).
"""
import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score  # noqa: E402


PREP_KEYS = ("reference", "label-key", "n-top-genes", "target-sum", "scale-clip", "reference-modality")


def with_profiles(kida, run, config, tmp):
    """The run's model file, or a copy of it with prep/type_profile added (see above)."""
    import h5py
    model = run + ".model.h5"
    with h5py.File(model, "r") as m:
        if "type_profile" in m["prep"]:
            return model
    opts = dict(line.split(" = ", 1) for line in config.splitlines() if " = " in line)
    tiny = os.path.join(tmp, "tiny.model.h5")
    cmd = [kida, "train", "--model-out", tiny, "--overwrite", "--quiet", "--threads", "1", "--width", "16",
           "--layers", "1", "--heads", "2", "--epochs", "1", "--teacher-min-steps", "1"]
    for k in PREP_KEYS:
        if opts.get(k):
            cmd += ["--" + k, opts[k]]
    subprocess.run(cmd, check=True)
    copy = os.path.join(tmp, "with_profiles.model.h5")
    shutil.copy(model, copy)
    with h5py.File(copy, "a") as a, h5py.File(tiny, "r") as b:
        if not (np.array_equal(a["prep/genes"][:], b["prep/genes"][:]) and np.array_equal(a["classes"][:], b["classes"][:])):
            sys.exit(f"{run}: the tiny run's genes or classes differ from the model's; retrain the run instead")
        a["prep/type_profile"] = b["prep/type_profile"][:]
    return copy


def clusters(kida, model, query, res, tmp):
    """kida's clusters of the run's query at this resolution, their median confidences and profile
    correlations."""
    out = os.path.join(tmp, "p.h5ad")
    subprocess.run([kida, "predict", "--model", model, "--query", query, "--out", out, "--overwrite",
                    "--threads", "1", "--quiet", "--novel-cutoff", "1", "--novel-resolution", str(res),
                    "--novel-profile-r", "1"], check=True)
    import anndata as ad
    p = ad.read_h5ad(out)
    pr = p.obs["kida_cluster_profile_r"] if "kida_cluster_profile_r" in p.obs else np.full(p.n_obs, np.nan)  # no profiles
    return (p.obs["kida_novel_cluster"].astype(str).to_numpy(), p.obs["kida_cluster_conf"].to_numpy().astype(float),
            np.asarray(pr, dtype=float))


def cluster_median(cl, v):
    out = np.empty(len(v))
    for c in np.unique(cl):
        out[cl == c] = np.median(v[cl == c])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--resolutions", default="0.5 1 2")
    ap.add_argument("--cutoffs", default="0.7 0.8 0.9")
    ap.add_argument("--quantiles", default="0.95 0.99 off")
    ap.add_argument("--calibrate", default="off", help="hold-out confidence quantiles q: cut-off min(cut-off, "
                    "that quantile of uns kida/holdout_conf); 'off': the cut-off as given")
    ap.add_argument("--profile-r", default="off", help="profile correlation cut-offs ('off': no profile rule)")
    ap.add_argument("--json", default="", help="also write the rows here")
    a = ap.parse_args()
    kida = os.environ.get("KIDA", "kida")
    import anndata as ad
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in a.runs:
            info = json.load(open(run + ".json"))
            q = ad.read_h5ad(run + ".h5ad", backed="r")
            truth = q.obs["cell_type"].astype(str).to_numpy()
            lab = q.obs["kida_label"].astype(str).to_numpy()
            ref_types = [str(c) for c in q.uns["kida"]["proba_columns"]]
            dist = q.obs["kida_oor_score"].to_numpy().astype(float)
            held = np.asarray(q.uns["kida"]["oor_holdout_scores"], dtype=float)
            hconf = np.asarray(q.uns["kida"]["holdout_conf"], dtype=float)
            query = q.file.filename
            config = str(q.uns["kida"]["config"])
            q.file.close()
            model = with_profiles(kida, run, config, tmp) if a.profile_r.split() != ["off"] else run + ".model.h5"
            for res in a.resolutions.split():
                cl, cc, pr = clusters(kida, model, query, res, tmp)
                cs = cluster_median(cl, dist)
                for t, qt, cq, rp in itertools.product(a.cutoffs.split(), a.quantiles.split(), a.calibrate.split(),
                                                       a.profile_r.split()):
                    far = cs > np.quantile(held, float(qt)) if qt != "off" else np.zeros(len(lab), bool)
                    cut = min(float(t), np.quantile(hconf, float(cq))) if cq != "off" else float(t)
                    unlike = pr < float(rp) if rp != "off" else np.zeros(len(lab), bool)
                    flag = (cc < cut) | far | unlike
                    pred = np.where(flag, "unknown", lab)
                    row = {"run": os.path.basename(run), "resolution": float(res), "cutoff": float(t), "quantile": qt,
                           "calibrate": cq, "profile_r": rp}
                    if info.get("left_out"):
                        s = score.novel(truth, pred, info["left_out"], ref_types)
                        row.update(kind="novel", novel_f1=s["novel_f1"], known_accuracy=s["known_accuracy"],
                                   known_flagged=s["known_flagged"],
                                   known_accuracy_unflagged=score.novel(truth, lab, info["left_out"], ref_types)["known_accuracy"])
                    else:
                        c, c0 = score.classification(truth, pred, ref_types), score.classification(truth, lab, ref_types)
                        row.update(kind="known", flagged=c["abstained"], accuracy=c0["accuracy"],
                                   accuracy_flagged_unknown=c["accuracy"])
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    if a.json:
        json.dump(rows, open(a.json, "w"), indent=1)
    # one line per (resolution, cut-off): the mean novel F1 and the mean share of flagged cells elsewhere
    print("\nresolution cutoff quantile calibrate profile_r | novel F1 mean (min) | known acc. with flags (mean) | "
          "flagged on full references mean (max)")
    key = lambda r: (r["resolution"], r["cutoff"], r["quantile"], r["calibrate"], r["profile_r"])  # noqa: E731
    for k in sorted({key(r) for r in rows}):
        nv = [r for r in rows if key(r) == k and r["kind"] == "novel"]
        kn = [r for r in rows if key(r) == k and r["kind"] == "known"]
        f1 = [r["novel_f1"] for r in nv]
        fl = [r["flagged"] for r in kn]
        print(f"{k[0]:>10g} {k[1]:>6g} {k[2]:>8s} {k[3]:>9s} {k[4]:>9s} | {np.mean(f1) if f1 else float('nan'):.3f} ({min(f1) if f1 else float('nan'):.3f}) | "
              f"{np.mean([r['known_accuracy'] for r in nv]) if nv else float('nan'):.3f} | "
              f"{np.mean(fl) if fl else float('nan'):.3f} ({max(fl) if fl else float('nan'):.3f})")


if __name__ == "__main__":
    main()
