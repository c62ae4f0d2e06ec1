#!/usr/bin/env python3
"""Do kida explain's key genes include the canonical PBMC markers?

    python3 validation/marker_hits.py PREFIX.genes.tsv [--model MODEL.h5]

Reads the genes table of `kida explain` on the bundled PBMC data and prints, per cell type, a
markdown table: the canonical markers and the key genes of each variant (kida's key genes, by
contribution; the paper's network over the top-2 genes of the top-10 pathways; the network over
all genes of the top-10 pathways), and which markers are among them, then the count per variant. With --model it also says, per marker, whether the marker is a model
gene (a highly variable gene of the reference) and whether it is in any of the model's pathways
at all — a marker outside every chosen pathway can never be a key gene.
Needs h5py only with --model. Exit 0 always when the inputs read (this is a report, not a test).
"""
import argparse
import csv
import sys
from collections import defaultdict

MARKERS = {
    "CD8 T cell": ["CD8A", "CD8B"],
    "B cell": ["MS4A1", "CD79A"],
    "Monocyte": ["LYZ", "CD14"],
    "NK cell": ["GNLY", "NKG7"],
    "CD4 T cell": ["CD3E", "IL7R"],
    "Dendritic cell": ["FCER1A", "CST3"],
}


def model_membership(path):
    import h5py
    with h5py.File(path, "r") as f:
        genes = [g.decode() if isinstance(g, bytes) else str(g) for g in f["prep/genes"][:]]
        member = f["pathways/member_gene"][:]
        ptr = f["pathways/path_ptr"][:]
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["pathways/names"][:]]
    in_pw = defaultdict(list)
    for j in range(len(ptr) - 1):
        for r in range(ptr[j], ptr[j + 1]):
            in_pw[genes[member[r]]].append(names[j])
    return set(genes), in_pw, len(names)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("genes_tsv")
    ap.add_argument("--model", default="")
    args = ap.parse_args()
    rows = list(csv.DictReader(open(args.genes_tsv), delimiter="\t"))
    by = defaultdict(list)
    for r in rows:
        by[(r["group"], r["variant"])].append(r)
    model_genes, in_pw, n_pw = (None, None, 0)
    if args.model:
        model_genes, in_pw, n_pw = model_membership(args.model)

    variants = [("contribution", "key genes (by contribution)"), ("top2", "network of the top-2 genes"),
                ("allgenes", "all-genes network")]
    print("| type | markers | " + " | ".join(f"{title} (hits)" for _, title in variants) + " |")
    print("|---|---|" + "---|" * len(variants))
    hits = {v: 0 for v, _ in variants}
    for ty, markers in MARKERS.items():
        if not any(by.get((ty, v)) for v, _ in variants):
            print(f"| {ty} | {', '.join(markers)} |" + " (type not explained: no or too few predicted cells) |" * len(variants))
            continue
        cells = []
        for v, _ in variants:
            keys = [r["gene"] for r in by.get((ty, v), []) if r["key"] == "1"]
            h = [m for m in markers if m in keys]
            hits[v] += len(h)
            cells.append(f"{', '.join(keys) or '-'} ({', '.join(h) or 'none'})")
        print(f"| {ty} | {', '.join(markers)} | " + " | ".join(cells) + " |")
    n = sum(len(m) for m in MARKERS.values())
    print("\nmarkers found among key genes: " + "; ".join(f"{title} {hits[v]} of {n}" for v, title in variants))
    if model_genes is not None:
        print(f"\nmarker coverage in the model ({len(model_genes)} model genes, {n_pw} pathways):\n")
        print("| marker | model gene (HVG) | in the model's pathways |")
        print("|---|---|---|")
        n_hvg = n_in = 0
        for markers in MARKERS.values():
            for m in markers:
                hv = m in model_genes
                pws = in_pw.get(m, [])
                n_hvg += hv
                n_in += bool(pws)
                shown = ", ".join(p.replace("REACTOME_", "") for p in pws[:3]) + (" ..." if len(pws) > 3 else "")
                print(f"| {m} | {'yes' if hv else 'no'} | {len(pws)}{': ' + shown if pws else ''} |")
        print(f"\n{n_hvg} of 12 markers are model genes; {n_in} of 12 are in at least one of the model's pathways")


if __name__ == "__main__":
    sys.exit(main())
