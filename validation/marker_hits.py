#!/usr/bin/env python3
"""Do kida explain's key genes include the canonical PBMC markers?

    python3 validation/marker_hits.py PREFIX.genes.tsv [--model MODEL.h5]

Reads the genes table of `kida explain` on the bundled PBMC data and prints, per cell type, a
markdown table: the canonical markers, the key genes of both variants (top-2 genes of the top-10
pathways; all genes of the top-10 pathways), which markers are key genes, and which are at least
nodes of the type's graphs. With --model it also says, per marker, whether the marker is a model
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

    print("| type | markers | key genes (top-2 variant) | key genes (all-genes variant) | marker hits "
          "(top-2 / all-genes) | markers among the graph's nodes (top-2 / all-genes) |")
    print("|---|---|---|---|---|---|")
    total_hits = 0
    for ty, markers in MARKERS.items():
        t2 = by.get((ty, "top2"), [])
        al = by.get((ty, "allgenes"), [])
        if not t2 and not al:
            print(f"| {ty} | {', '.join(markers)} | (type not explained: no or too few predicted cells) | | | |")
            continue
        k2 = [r["gene"] for r in t2 if r["key"] == "1"]
        ka = [r["gene"] for r in al if r["key"] == "1"]
        h2 = [m for m in markers if m in k2]
        ha = [m for m in markers if m in ka]
        n2 = [f"{m} (rank {r['rank']}/{len(t2)})" for m in markers for r in t2 if r["gene"] == m]
        na = [f"{m} (rank {r['rank']}/{len(al)})" for m in markers for r in al if r["gene"] == m]
        total_hits += len(set(h2) | set(ha))
        print(f"| {ty} | {', '.join(markers)} | {', '.join(k2)} | {', '.join(ka)} | "
              f"{', '.join(h2) or '-'} / {', '.join(ha) or '-'} | {', '.join(n2) or '-'} / {', '.join(na) or '-'} |")
    print(f"\nmarkers found among key genes: {total_hits} of {sum(len(m) for m in MARKERS.values())}")
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
