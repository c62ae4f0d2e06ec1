#!/usr/bin/env python3
"""Runs kida with its defaults on one split and scores KI (the teacher) and KIDA (the student).

    KIDA=build/kida kida_run.py SPLIT_DIR SEED OUT_PREFIX [-- EXTRA_KIDA_OPTIONS]

The only options given are the data's (reference, query, label key, seed and, from the split,
the modality: `--modality spatial`, or `--modality atac --genes hg19` for peak counts).
Writes OUT_PREFIX.json with, for KIDA and KI, the scores of the label kida writes (`kida_label`:
an `unknown` counts as wrong) and of the arg-max label (`kida_label_raw`), wall and CPU seconds;
OUT_PREFIX.tsv (cell, kida_label, kida_label_raw, teacher raw label); OUT_PREFIX.log.
"""
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score  # noqa: E402


def main():
    argv, extra = score.split_extra(sys.argv[1:])
    split_dir, seed, prefix = argv[0], int(argv[1]), argv[2]
    kida = os.environ.get("KIDA", "kida")
    info = json.load(open(os.path.join(split_dir, "split.json")))
    out = prefix + ".h5ad"
    cmd = [kida, "annotate", "--reference", os.path.join(split_dir, "ref.h5ad"), "--query",
           os.path.join(split_dir, "query.h5ad"), "--label-key", "cell_type", "--seed", str(seed), "--out", out,
           "--overwrite", "--log-every", "100"] + info["kida_options"] + extra
    t0 = time.time()
    with open(prefix + ".log", "w") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
    wall = time.time() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        sys.exit(f"kida failed ({rc}); see {prefix}.log")
    import anndata as ad
    q = ad.read_h5ad(out, backed="r")
    obs = q.obs
    truth = obs["cell_type"].to_numpy()
    ref_types = info["ref_types"]
    res = {"tool": "kida", "seed": seed, "split": info["name"], "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
           "options": extra}
    cols = {"kida": "kida_label", "kida_raw": "kida_label_raw", "ki": "kida_teacher_label", "ki_raw": "kida_teacher_label_raw"}
    for k, col in cols.items():
        if col in obs:
            res[k] = score.classification(truth, obs[col].to_numpy(), ref_types)
    # teacher + student together, for the ensemble ablation: the arg-max of the mean of the two
    # probability matrices (arithmetic) and of their log-probabilities (geometric)
    if "kida_proba" in q.obsm and "kida_teacher_proba" in q.obsm:
        names = np.asarray([str(c) for c in q.uns["kida"]["proba_columns"]])
        ps, pt = np.asarray(q.obsm["kida_proba"]), np.asarray(q.obsm["kida_teacher_proba"])
        res["ens"] = score.classification(truth, names[np.argmax(ps + pt, axis=1)], ref_types)
        res["ens_geo"] = score.classification(
            truth, names[np.argmax(np.log(ps + 1e-12) + np.log(pt + 1e-12), axis=1)], ref_types)
    res.update(res["kida"])  # the headline: the label kida writes
    if info.get("left_out"):  # novel-type benchmark: the left-out type should come back `unknown`
        res["left_out"] = info["left_out"]
        # a novel call: `unknown` in the label, or the out-of-reference flag (obs kida_out_of_reference)
        flag = obs["kida_out_of_reference"].to_numpy().astype(bool) if "kida_out_of_reference" in obs else False
        lab = np.where(flag, "unknown", obs["kida_label"].astype(str).to_numpy())
        res["novel"] = score.novel(truth, lab, info["left_out"], ref_types)
        res["novel_label_only"] = score.novel(truth, obs["kida_label"].to_numpy(), info["left_out"], ref_types)
        res["novel_ki"] = score.novel(truth, obs["kida_teacher_label"].to_numpy(), info["left_out"], ref_types)
    with open(prefix + ".tsv.tmp", "w") as f:
        for i, cell in enumerate(obs.index):
            f.write(f"{cell}\t{obs['kida_label'].iloc[i]}\t{obs['kida_label_raw'].iloc[i]}\t"
                    f"{obs['kida_teacher_label_raw'].iloc[i]}\n")
    os.replace(prefix + ".tsv.tmp", prefix + ".tsv")
    with open(prefix + ".json.tmp", "w") as f:
        json.dump(res, f, indent=1)
    os.replace(prefix + ".json.tmp", prefix + ".json")
    q.file.close()
    if not os.environ.get("KIDA_KEEP_OUTPUT"):
        os.unlink(out)
    print(f"{info['name']} kida seed {seed}: KIDA {res['kida']['accuracy']:.3f}/{res['kida']['macro_f1']:.3f} "
          f"[argmax {res['kida_raw']['accuracy']:.3f}/{res['kida_raw']['macro_f1']:.3f}] "
          f"KI {res['ki']['accuracy']:.3f}/{res['ki']['macro_f1']:.3f} ({wall:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
