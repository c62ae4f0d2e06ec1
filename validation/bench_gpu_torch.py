#!/usr/bin/python3
"""PyTorch timing of the kida network on the GPU: validation/torch_kida.py's KidaRef, run in float32
on CUDA, eager and under torch.compile, at the shapes of validation/bench_gpu.c (G 3000, P 300,
M ~ 20000, C 128, NH 8, L 4, K 7, batch 64, 8% nonzero). Not a test; validation/bench_gpu.sh runs it.

Usage: /usr/bin/python3 validation/bench_gpu_torch.py [--batch 64] [--infer-batch 256] [--steps 20]
                                                      [--tf32] [--no-compile] [--device cuda]
(--device cpu only checks that the script runs, on a machine without a GPU.)

KidaRef is the reference of docs/model.md written for clarity: its token step materialises a
(B, M, C) tensor (every membership row scaled by its gene), and every layer runs full attention
(kida's last layer computes only the cls query). Dropout is not in it. So this measures "the
straightforward PyTorch version of the same network", the fair baseline for a user who would
otherwise write it in PyTorch, not a tuned PyTorch implementation. Prints key=value lines last.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_kida  # noqa: E402


def paper_map(P, G, rng):
    """P tokens of 10..123 distinct genes each (mean ~66), as bench_gpu.c (not the same draw)."""
    ptr, genes = [0], []
    for _ in range(P):
        want = 10 + int(rng.integers(0, 114))
        g = np.unique(rng.integers(0, G, size=want))
        genes.extend(g.tolist())
        ptr.append(len(genes))
    return np.array(ptr, dtype=np.int64), np.array(genes, dtype=np.int32)


def init_params(d, M, rng):
    L, C, F_, K, P = d["L"], d["C"], d["F"], d["K"], d["P"]
    shapes = {"emb_w": (M, C), "emb_b": (P, C), "cls": (C,), "ln1_w": (L, C), "ln1_b": (L, C),
              "qkv_w": (L, 3 * C, C), "qkv_b": (L, 3 * C), "proj_w": (L, C, C), "proj_b": (L, C),
              "ln2_w": (L, C), "ln2_b": (L, C), "fc1_w": (L, F_, C), "fc1_b": (L, F_),
              "fc2_w": (L, C, F_), "fc2_b": (L, C), "lnf_w": (C,), "lnf_b": (C,),
              "head1_w": (C, C), "head1_b": (C,), "head2_w": (K, C), "head2_b": (K,)}
    p = {}
    for k, s in shapes.items():
        if k.endswith("_w") and k.startswith("ln"):
            p[k] = np.ones(s)
        elif k.endswith("_b"):
            p[k] = np.zeros(s)
        else:
            p[k] = rng.normal(0, 0.02, size=s)
    return p


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn, steps, warm):
    for _ in range(warm):
        fn()
    sync()
    t = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        sync()
        t.append(time.perf_counter() - t0)
    return statistics.median(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--infer-batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--device", default="cuda")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        print("bench_gpu_torch: no CUDA device visible to torch; nothing to measure")
        return 77
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    if hasattr(torch, "set_default_device"):  # torch >= 2.0
        torch.set_default_device(a.device)
    elif a.device == "cuda":
        torch.set_default_tensor_type(torch.cuda.FloatTensor)
    torch_kida.DT = torch.float32  # the reference is float64 for validation; time it in float32
    rng = np.random.default_rng(1)
    G, P = 3000, 300
    d = {"G": G, "P": P, "T": P + 1, "C": 128, "NH": 8, "L": 4, "F": 512, "K": 7}
    ptr, genes = paper_map(P, G, rng)
    M = int(ptr[-1])
    d["M"] = M
    params = init_params(d, M, rng)
    model = torch_kida.KidaRef(d, params, ptr, genes, np.zeros(G))
    plist = [model.p[k] for k in torch_kida.PARAM_NAMES]
    opt = torch.optim.AdamW(plist, lr=1e-4)

    def batch(B):
        D = torch.zeros(B, G)
        mask = torch.rand(B, G) < 0.08
        D[mask] = torch.randn(int(mask.sum()))
        return D

    D = batch(a.batch)
    labels = torch.arange(a.batch) % d["K"]
    Di = batch(a.infer_batch)
    name = torch.cuda.get_device_name(0) if a.device == "cuda" else a.device
    prec = "TF32" if a.tf32 else "FP32"
    results = {}

    def make_step(fwd):
        def step():
            opt.zero_grad(set_to_none=True)
            logits, _, _ = fwd(D)
            F.cross_entropy(logits, labels).backward()
            opt.step()
        return step

    def make_infer(fwd):
        def infer():
            with torch.no_grad():
                fwd(Di)
        return infer

    variants = [("eager", model.forward)]
    if not a.no_compile and hasattr(torch, "compile"):
        variants.append(("compile", torch.compile(model.forward)))
    elif not a.no_compile:
        print("bench_gpu_torch: torch %s has no torch.compile (needs >= 2.0); eager only" % torch.__version__)
    for tag, fwd in variants:
        t0 = time.perf_counter()
        step, infer = make_step(fwd), make_infer(fwd)
        step()
        infer()
        sync()
        first = time.perf_counter() - t0  # includes compilation for torch.compile
        ts = timed(step, a.steps, 3)
        ti = timed(infer, a.steps, 3)
        results[tag] = (ts, ti, first)
        print("torch %-8s %s %s: training step %8.2f ms = %9.0f cells/s | inference (batch %d) %8.2f ms = %9.0f "
              "cells/s | first call %.1f s" % (tag, name, prec, ts * 1e3, a.batch / ts, a.infer_batch, ti * 1e3,
                                               a.infer_batch / ti, first))
    print("key=value")
    print("torch_device=%s\ntorch_precision=%s\ntorch_version=%s" % (name, prec, torch.__version__))
    for tag, (ts, ti, first) in results.items():
        print("torch_%s_train_step_ms=%.4f\ntorch_%s_train_cells_per_s=%.1f" % (tag, ts * 1e3, tag, a.batch / ts))
        print("torch_%s_infer_ms=%.4f\ntorch_%s_infer_cells_per_s=%.1f" % (tag, ti * 1e3, tag, a.infer_batch / ti))
        print("torch_%s_first_call_s=%.2f" % (tag, first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
