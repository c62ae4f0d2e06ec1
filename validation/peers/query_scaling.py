#!/usr/bin/env python3
"""Query-side standardisation, tested on the logistic-regression baseline before building it.

    query_scaling.py SPLIT_DIR [SPLIT_DIR ...]

kida centres and scales every gene with the reference's mean and sd (docs/preprocessing.md).
Would a query scaled with its own statistics (as Seurat scales each dataset before integration)
transfer labels better? The baseline of peers.py (3,000 Seurat HVGs of the reference, clip 10)
is fitted once on the reference and scores the query three ways: scaled with the reference's
mean and sd (what kida does), with the query's own mean and sd, and centred on the query's own
mean with the reference's sd. Prints accuracy / macro-F1 over the query cells whose type the
reference has, one line per split.
"""
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
import score  # noqa: E402

warnings.filterwarnings("ignore")


def stats(m):
    mu, sd = m.mean(0), m.std(0, ddof=1)
    sd[sd == 0] = 1
    return mu, sd


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    from sklearn.linear_model import LogisticRegression
    for split_dir in sys.argv[1:]:
        ref, query = peers.load(split_dir, None)
        R, Q = peers.hvg_matrices(ref, query)
        (rmu, rsd), (qmu, qsd) = stats(R), stats(Q)
        y = ref.obs["cell_type"].to_numpy()
        model = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(np.clip((R - rmu) / rsd, -10, 10), y)
        ways = {"reference mean, sd": (rmu, rsd), "query mean, sd": (qmu, qsd), "query mean, reference sd": (qmu, rsd)}
        cells = []
        for name, (mu, sd) in ways.items():
            c = score.classification(query.obs["cell_type"].to_numpy(), model.predict(np.clip((Q - mu) / sd, -10, 10)), set(y))
            cells.append(f"{name} {c['accuracy']:.3f}/{c['macro_f1']:.3f}")
        print(f"{os.path.basename(os.path.normpath(split_dir)):30s} " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
