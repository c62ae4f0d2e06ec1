#!/usr/bin/python3
"""PyTorch (CPU, float32) timing of the kida network at the paper's shapes, the baseline for
validation/bench_model.c.  Usage:  /usr/bin/python3 validation/bench_torch.py [--batch 64]
[--steps 5] [--threads 1,2]

The network is docs/model.md written as a PyTorch user would: nn.Linear / LayerNorm / exact GELU,
attention as softmax((q/√HS) kᵀ) v per head (batched matmuls), dropout 0.1 in training, and the
pathway embedding as F.embedding_bag over each (cell, token)'s membership rows weighted by the
gene values (cost ∝ B·M·C, a few percent of the step). The last layer runs on every token, as the straightforward implementation does; the C
model computes only the cls row there (see docs/model.md "Performance").
Same synthetic config as bench_model.c: G 3000, P 300, M ≈ 20000, C 128, NH 8, L 4, K 7, 8%
nonzero inputs. Prints one RESULT line per thread count (cells/s, median of --steps after one
warm-up; best step; training cells per process CPU-second) for validation/bench_model.sh.
"""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, NH, p):
        super().__init__()
        self.NH, self.p = NH, p
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.fc1, self.fc2 = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        B, T, C = x.shape
        HS = C // self.NH
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.NH, HS).transpose(1, 2) for t in (q, k, v))
        a = torch.softmax((q * HS ** -0.5) @ k.transpose(-1, -2), dim=-1)
        y = (a @ v).transpose(1, 2).reshape(B, T, C)
        x = x + F.dropout(self.proj(y), self.p, self.training)
        x = x + F.dropout(self.fc2(F.gelu(self.fc1(self.ln2(x)))), self.p, self.training)
        return x, a


class Kida(nn.Module):
    def __init__(self, G, P, C, NH, L, K, path_ptr, member_gene, p):
        super().__init__()
        M = len(member_gene)
        self.P, self.C = P, C
        self.emb_w = nn.Parameter(torch.randn(M, C) * 0.1)
        self.emb_b = nn.Parameter(torch.zeros(P, C))
        self.cls = nn.Parameter(torch.randn(C) * 0.02)
        self.register_buffer("zero", torch.zeros(G))
        self.register_buffer("member_gene", torch.tensor(member_gene, dtype=torch.long))
        self.register_buffer("path_ptr", torch.tensor(path_ptr[:-1], dtype=torch.long))
        self.blocks = nn.ModuleList([Block(C, NH, p) for _ in range(L)])
        self.lnf = nn.LayerNorm(C)
        self.head1, self.head2 = nn.Linear(C, C), nn.Linear(C, K)

    def forward(self, D):
        """D: (B, G) dense batch of d = x~ - z. Returns logits, embedding, cls attention."""
        B, P, C = D.shape[0], self.P, self.C
        # one bag per (cell, token) over the token's membership rows, weighted by the gene values
        M = self.member_gene.shape[0]
        vals = (D + self.zero)[:, self.member_gene]                                   # (B,M)
        rows = torch.arange(M).repeat(B)
        offsets = (torch.arange(B).unsqueeze(1) * M + self.path_ptr.unsqueeze(0)).reshape(-1)
        tok = F.embedding_bag(rows, self.emb_w, offsets, mode="sum", per_sample_weights=vals.reshape(-1))
        tok = tok.view(B, P, C) + self.emb_b
        x = torch.cat([tok, self.cls.expand(B, 1, C)], dim=1)
        for blk in self.blocks:
            x, a = blk(x)
        e = self.lnf(x[:, P])
        logits = self.head2(F.gelu(self.head1(e)))
        return logits, e, a[:, :, P, :P].mean(dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    G, P, C, NH, L, K, B = 3000, 300, 128, 8, 4, 7, args.batch
    rng = np.random.default_rng(1)
    sizes = rng.integers(10, 124, P)
    genes = [np.unique(rng.integers(0, G, s)) for s in sizes]
    path_ptr = np.concatenate([[0], np.cumsum([len(g) for g in genes])])
    member_gene = np.concatenate(genes)
    D = torch.tensor(np.where(rng.random((B, G)) < 0.08, rng.standard_normal((B, G)), 0.0), dtype=torch.float32)
    dlogits, demb = torch.randn(B, K) / B, torch.randn(B, C) / B
    torch.manual_seed(1)
    model = Kida(G, P, C, NH, L, K, path_ptr, member_gene, 0.1)
    print(f"torch {torch.__version__} CPU float32: G={G} P={P} M={len(member_gene)} C={C} NH={NH} L={L} K={K} "
          f"batch {B}")
    for nt in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(nt)
        model.train()
        times, cpu = [], []
        for _ in range(args.steps + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            model.zero_grad(set_to_none=False)
            logits, e, _ = model(D)
            ((logits * dlogits).sum() + (e * demb).sum()).backward()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        ttr, ttr_best, ctr = float(np.median(times[1:])), min(times[1:]), float(np.median(cpu[1:]))
        model.eval()
        times, cpu = [], []
        with torch.no_grad():
            for _ in range(args.steps + 1):
                t0, c0 = time.perf_counter(), time.process_time()
                model(D)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        tinf, tinf_best, cinf = float(np.median(times[1:])), min(times[1:]), float(np.median(cpu[1:]))
        print(f"RESULT torch threads={nt} train={B / ttr:.2f} infer={B / tinf:.2f} train_best={B / ttr_best:.2f} "
              f"infer_best={B / tinf_best:.2f} train_cpu={B / ctr:.2f} infer_cpu={B / cinf:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
