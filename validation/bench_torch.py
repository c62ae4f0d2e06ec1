#!/usr/bin/env python3
"""PyTorch 2.x (CPU) timing of the kida network at the paper's shapes, written as a strong engineer
would: the baseline for validation/bench_model.c (run both with validation/bench_model.sh).

    python validation/bench_torch.py [--batch 64] [--steps 5] [--threads 1,2]
                                     [--precision fp32,bf16] [--compile]

The network is docs/model.md with the work a careful PyTorch user would cut: attention through
F.scaled_dot_product_attention; the last layer computes only the cls row after its qkv projection
(as the C model does), with its cls -> pathway attention written out; the pathway tokens as one
padded per-token batched matmul (each token's member genes padded to the longest, gathered from
the dense batch, times a (P, S, C) weight); dropout 0.1 in training. Precision fp32 is float32
throughout; bf16 runs the forward under torch.autocast("cpu", torch.bfloat16) (oneDNN: AMX or
AVX512-BF16 where the CPU has them), float32 master weights. --compile also times
torch.compile(model) and reports it, or why it failed.

Same synthetic inputs as bench_model.c, drawn with kida's counter-based generator
(src/core/rng.h, ported below): G 3000, P 300, M ≈ 20000, C 128, NH 8, L 4, K 7, 8% nonzero.
Training = forward + backward of Σ dlogits·logits + Σ demb·embedding, as bench_model.c. Prints one
RESULT line per (precision, threads): cells/s (median of --steps after one warm-up), best step,
and cells per process CPU-second (all threads).
"""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

def mix(x):
    """splitmix64 finaliser on numpy uint64 arrays (src/core/rng.h rng_mix)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def rng_u64(seed, stream, a, b):
    a, b = np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64)
    s = mix(np.uint64(seed) ^ mix(np.uint64(stream)))
    with np.errstate(over="ignore"):
        return mix(mix(s ^ a) + b)


def rng_uniform(seed, stream, a, b):
    return (rng_u64(seed, stream, a, b) >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)


def rng_normal(seed, stream, a, b):
    b = np.asarray(b, dtype=np.uint64)
    u1 = ((rng_u64(seed, stream, a, 2 * b) >> np.uint64(11)).astype(np.float64) + 0.5) / 9007199254740992.0
    u2 = (rng_u64(seed, stream, a, 2 * b + 1) >> np.uint64(11)).astype(np.float64) / 9007199254740992.0
    return (np.sqrt(-2.0 * np.log(u1)) * np.cos(6.283185307179586 * u2)).astype(np.float32)


def paper_map(P, G, seed):
    """validation/bench_common.c bench_paper_map: token j over 10..123 random genes."""
    genes = []
    for j in range(P):
        want = 10 + int(rng_u64(seed, 1, j, 0) % np.uint64(114))
        picks = rng_u64(seed, 2, j, np.arange(want)) % np.uint64(G)
        genes.append(np.unique(picks.astype(np.int64)))
    return genes


def paper_batch(B, G, density, seed):
    """validation/bench_common.c bench_paper_batch as a dense (B, G) array."""
    b, g = np.meshgrid(np.arange(B), np.arange(G), indexing="ij")
    keep = rng_uniform(seed, 3, b, g) < density
    return np.where(keep, rng_normal(seed, 4, b, g), 0.0).astype(np.float32)


class Block(nn.Module):
    def __init__(self, C, NH, p, cls_only):
        super().__init__()
        self.NH, self.p, self.cls_only = NH, p, cls_only
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.fc1, self.fc2 = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        B, T, C = x.shape
        HS = C // self.NH
        q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, self.NH, HS).permute(2, 0, 3, 1, 4)  # (B,NH,T,HS) each
        attn = None
        if self.cls_only:  # the cls query only: its attention row is an output too
            a = torch.softmax((q[:, :, T - 1 :] * HS ** -0.5) @ k.transpose(-1, -2), dim=-1)  # (B,NH,1,T)
            y = (a @ v).transpose(1, 2).reshape(B, 1, C)
            x = x[:, T - 1 :]
            attn = a[:, :, 0, : T - 1].mean(dim=1)
        else:
            y = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, T, C)
        x = x + F.dropout(self.proj(y), self.p, self.training)
        x = x + F.dropout(self.fc2(F.gelu(self.fc1(self.ln2(x)))), self.p, self.training)
        return x, attn


class Kida(nn.Module):
    def __init__(self, G, C, NH, L, K, genes, p):
        super().__init__()
        P, S = len(genes), max(len(g) for g in genes)
        self.P, self.C = P, C
        idx = np.full((P, S), G, dtype=np.int64)  # padding points at an always-zero column G
        for j, g in enumerate(genes):
            idx[j, : len(g)] = g
        self.register_buffer("idx", torch.tensor(idx))
        self.register_buffer("pad", torch.tensor(idx < G, dtype=torch.float32).unsqueeze(-1))
        self.emb_w = nn.Parameter(torch.randn(P, S, C) * 0.1)  # padded rows are masked to zero
        self.emb_b = nn.Parameter(torch.zeros(P, C))
        self.cls = nn.Parameter(torch.randn(C) * 0.02)
        self.register_buffer("zero", torch.zeros(G))
        self.blocks = nn.ModuleList([Block(C, NH, p, l + 1 == L) for l in range(L)])
        self.lnf = nn.LayerNorm(C)
        self.head1, self.head2 = nn.Linear(C, C), nn.Linear(C, K)

    def forward(self, D):
        """D: (B, G) dense batch of d = x~ - z. Returns logits, embedding, cls attention."""
        B, P, C = D.shape[0], self.P, self.C
        vals = F.pad(D + self.zero, (0, 1))[:, self.idx]                        # (B,P,S)
        tok = torch.bmm(vals.transpose(0, 1), self.emb_w * self.pad).transpose(0, 1)  # (B,P,C)
        x = torch.cat([tok + self.emb_b, self.cls.expand(B, 1, C)], dim=1)
        for blk in self.blocks:
            x, attn = blk(x)
        e = self.lnf(x[:, 0])
        return self.head2(F.gelu(self.head1(e))), e, attn


def timed(fn, steps):
    wall, cpu = [], []
    for _ in range(steps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall[1:])), min(wall[1:]), float(np.median(cpu[1:]))


def bench(model, D, dlogits, demb, prec, steps, B):
    amp = prec == "bf16"

    def train():
        model.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            logits, e, _ = model(D)
        ((logits.float() * dlogits).sum() + (e.float() * demb).sum()).backward()

    def infer():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            model(D)

    model.train()
    tr = timed(train, steps)
    model.eval()
    inf = timed(infer, steps)
    return tr, inf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--precision", default="fp32,bf16")
    ap.add_argument("--compile", action="store_true")
    args = ap.parse_args()
    G, P, C, NH, L, K, B = 3000, 300, 128, 8, 4, 7, args.batch
    genes = paper_map(P, G, 1)
    D = torch.tensor(paper_batch(B, G, 0.08, 2))
    dlogits, demb = torch.randn(B, K) / B, torch.randn(B, C) / B
    torch.manual_seed(1)
    model = Kida(G, C, NH, L, K, genes, 0.1)
    M = sum(len(g) for g in genes)
    print(f"torch {torch.__version__} CPU ({torch.backends.cpu.get_cpu_capability()}): G={G} P={P} M={M} C={C} "
          f"NH={NH} L={L} K={K} batch {B}, nnz {int((D != 0).sum())}", flush=True)
    variants = [("eager", model)]
    if args.compile:
        try:
            t0 = time.perf_counter()
            cm = torch.compile(model)
            with torch.no_grad():
                cm(D)
            print(f"torch.compile: first call {time.perf_counter() - t0:.1f} s", flush=True)
            variants.append(("compiled", cm))
        except Exception as ex:  # reported, not fatal: the eager numbers stand
            print(f"torch.compile failed: {type(ex).__name__}: {str(ex).splitlines()[0] if str(ex) else ''}", flush=True)
    for name, mod in variants:
        for prec in args.precision.split(","):
            for nt in [int(t) for t in args.threads.split(",")]:
                torch.set_num_threads(nt)
                try:
                    (ttr, ttr_best, ctr), (tinf, tinf_best, cinf) = bench(mod, D, dlogits, demb, prec, args.steps, B)
                except Exception as ex:
                    print(f"{name} {prec} threads={nt} failed: {type(ex).__name__}: {str(ex).splitlines()[0]}", flush=True)
                    continue
                print(f"RESULT torch{'' if name == 'eager' else '_compiled'} threads={nt} precision={prec} "
                      f"train={B / ttr:.2f} infer={B / tinf:.2f} train_best={B / ttr_best:.2f} "
                      f"infer_best={B / tinf_best:.2f} train_cpu={B / ctr:.2f} infer_cpu={B / cinf:.2f}", flush=True)


if __name__ == "__main__":
    main()
