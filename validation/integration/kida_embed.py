#!/usr/bin/env python3
"""kida's embedding of every cell of one integration set.

    KIDA=build/kida kida_embed.py SET_DIR SEED OUT_PREFIX [-- EXTRA_KIDA_OPTIONS]

One `kida annotate` run: --reference = the set's reference batch file(s), --query = every batch
file (the reference's too), so obsm X_kida covers every cell and every cell is embedded by the
same network (the student). No batch or modality label is given to kida beyond what the data
needs (an ATAC file is named as one, as its peaks must become gene activity).
Writes OUT_PREFIX.npz (emb = X_kida, obs_names; rows in the order of SET_DIR/all.h5ad),
OUT_PREFIX.json (the command, seconds, the student's query accuracy on the labelled cells),
OUT_PREFIX.log (kida's output). KIDA_KEEP_OUTPUT=1 keeps kida's h5ad and checkpoints.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import anndata as ad
import numpy as np


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra, argv = argv[argv.index("--") + 1:], argv[:argv.index("--")]
    if len(argv) != 3:
        sys.exit(__doc__)
    set_dir, seed, prefix = argv[0], int(argv[1]), argv[2]
    kida = os.environ.get("KIDA", "kida")
    info = json.load(open(os.path.join(set_dir, "set.json")))
    files = info["files"]
    ref = [f for f in files if f["batch"] in info["reference"]]
    out = prefix + ".h5ad"
    cmd = [kida, "annotate", "--reference", ",".join(f["file"] for f in ref),
           "--query", ",".join(f["file"] for f in files), "--label-key", "cell_type", "--seed", str(seed),
           "--out", out, "--overwrite", "--log-every", "200"]
    if any(f["modality"] != "rna" for f in files):
        cmd += ["--reference-modality", ",".join(f["modality"] for f in ref),
                "--query-modality", ",".join(f["modality"] for f in files)]
    cmd += info["kida_options"] + extra
    t0 = time.time()
    with open(prefix + ".log", "w") as log:
        log.write(" ".join(cmd) + "\n")
        log.flush()
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
    wall = time.time() - t0
    if rc != 0:
        sys.exit(f"kida failed ({rc}); see {prefix}.log")
    q = ad.read_h5ad(out)
    both = ad.read_h5ad(os.path.join(set_dir, "all.h5ad"), backed="r")
    if list(q.obs_names) != list(both.obs_names):
        sys.exit(f"error: {out}: the cells are not those of {set_dir}/all.h5ad in the same order")
    truth = q.obs["cell_type"].astype(object).to_numpy()
    lab = np.array([t == t and t is not None for t in truth])
    acc = float(np.mean(q.obs["kida_label_raw"].astype(str).to_numpy()[lab] == truth[lab].astype(str)))
    np.savez(prefix + ".npz.tmp.npz", emb=np.asarray(q.obsm["X_kida"], dtype=np.float32),
             obs_names=np.asarray(q.obs_names, dtype=str))
    os.replace(prefix + ".npz.tmp.npz", prefix + ".npz")
    res = {"method": "kida", "seed": seed, "set": info["name"], "command": cmd, "wall_s": wall,
           "label_accuracy_all_cells": acc, "options": extra}
    with open(prefix + ".json", "w") as f:
        json.dump(res, f, indent=1)
    if not os.environ.get("KIDA_KEEP_OUTPUT"):
        os.unlink(out)
        shutil.rmtree(out + ".ckpt", ignore_errors=True)
    print(f"{info['name']} kida seed {seed}: {q.n_obs} cells embedded, label accuracy {acc:.3f} ({wall:.0f} s)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
