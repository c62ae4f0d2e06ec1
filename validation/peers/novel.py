#!/usr/bin/env python3
"""Novel cell types (the paper's Supp. Fig. S1): leave each reference type out in turn.

    KIDA=build/kida novel.py SPLIT_DIR OUT_DIR [--seeds "0 1"] [--what all|kida|peers] [--min-cells 10]
        [--types "B cell,Monocyte"] [-- EXTRA_KIDA_OPTIONS]

For every type that both the reference and the query hold (at least --min-cells query cells), the
reference loses that type; kida (defaults) and CellTypist (prob-match, p 0.5: `Unassigned`) then
annotate the query. Scored: F1 of calling the left-out type's cells unknown / Unassigned, and the
accuracy on the types the reduced reference still has (an abstention counts wrong there).
Writes OUT_DIR/<type>/{kida_seed<s>,celltypist_seed0}.json.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import score  # noqa: E402


def safe(name):
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def main():
    argv, extra = score.split_extra(sys.argv[1:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("split_dir")
    p.add_argument("out_dir")
    p.add_argument("--seeds", default="0 1")
    p.add_argument("--what", default="all", choices=["all", "kida", "peers"])
    p.add_argument("--min-cells", type=int, default=10)
    p.add_argument("--types", default="", help="only these left-out types (comma-separated); default all")
    a = p.parse_args(argv)
    import anndata as ad
    info = json.load(open(os.path.join(a.split_dir, "split.json")))
    if info["name"].startswith("atac_"):
        return  # gene activity from 5,000 random peaks: no type transfers well enough to test novelty
    query = ad.read_h5ad(os.path.join(a.split_dir, "query.h5ad"), backed="r")
    counts = query.obs["cell_type"].astype(str).value_counts()
    shared = [t for t in info["ref_types"] if counts.get(t, 0) >= a.min_cells]
    if a.types:
        shared = [t for t in shared if t in a.types.split(",")]
    ref = None
    for t in shared:
        d = os.path.join(a.out_dir, safe(t))
        os.makedirs(d, exist_ok=True)
        if not os.path.exists(os.path.join(d, "split.json")):
            if ref is None:
                ref = ad.read_h5ad(os.path.join(a.split_dir, "ref.h5ad"))
            keep = (ref.obs["cell_type"].astype(str) != t).to_numpy()
            r = ref[keep].copy()
            r.obs["cell_type"] = r.obs["cell_type"].cat.remove_unused_categories()
            r.write_h5ad(os.path.join(d, "ref.h5ad"))
            q = os.path.join(d, "query.h5ad")
            if not os.path.exists(q):
                os.symlink(os.path.abspath(os.path.join(a.split_dir, "query.h5ad")), q)
            sub = dict(info, name=f"{info['name']}-{safe(t)}", left_out=t,
                       ref_types=[x for x in info["ref_types"] if x != t])
            json.dump(sub, open(os.path.join(d, "split.json"), "w"), indent=1)
        if a.what in ("all", "peers") and not os.path.exists(os.path.join(d, "celltypist_seed0.json")):
            subprocess.run([sys.executable, os.path.join(HERE, "peers.py"), "celltypist", d, "0",
                            os.path.join(d, "celltypist_seed0"), "--leave-out", t], check=False)
        if a.what in ("all", "kida"):
            for s in a.seeds.split():
                if not os.path.exists(os.path.join(d, f"kida_seed{s}.json")):
                    subprocess.run([sys.executable, os.path.join(HERE, "kida_run.py"), d, s,
                                    os.path.join(d, f"kida_seed{s}"), "--"] + extra, check=False)


if __name__ == "__main__":
    main()
