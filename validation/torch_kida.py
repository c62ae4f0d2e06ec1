#!/usr/bin/python3
"""PyTorch reference of the kida network and losses, exactly as docs/model.md defines them.

Usage:  /usr/bin/python3 validation/torch_kida.py ref_in.h5 ref_out.h5

Reads the inputs written by `tests/validation/test_torch_ref write` and writes every quantity the C side
compares. All arithmetic is float64 (the float32 inputs are widened once), so the reference
itself carries no rounding the C code could be blamed for; the tolerances in
tests/validation/test_torch_ref.c measure the C float32 path against exact math.

ref_in.h5
  attrs        G P T M C NH L F K B (ints), tau alpha beta lr (floats), n_steps (int)
  params/NAME  every parameter tensor in docs/model.md shape (float32)
  path_ptr     (P+1) int64, member_gene (M) int32     the pathway map
  gene_zero    (G) float32                            z
  indptr (B+1) int64, indices int32, data float32    the CSR batch, values d = x~ - z
  labels (B) int32, teacher_logits (B,K) float32
ref_out.h5
  logits (B,K), embedding (B,C), attn (B,P)           float64
  attrs: loss_ce, loss_kd, loss_ada, loss_student     means as in docs/model.md
  grad_ce/NAME, grad_student/NAME, grad_ada/NAME     d loss / d param, param shapes (grad_ada:
                                                      L_ada alone, which is small inside the
                                                      student loss and so checked on its own)
  adam_losses (n_steps)   L_ce before each of n_steps torch.optim.Adam steps on L_ce
"""
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

PARAM_NAMES = ["emb_w", "emb_b", "cls", "ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b",
               "ln2_w", "ln2_b", "fc1_w", "fc1_b", "fc2_w", "fc2_b", "lnf_w", "lnf_b",
               "head1_w", "head1_b", "head2_w", "head2_b"]
DT = torch.float64


class KidaRef:
    """The network of docs/model.md over a fixed pathway map; parameters live in self.p."""

    def __init__(self, dims, params, path_ptr, member_gene, gene_zero):
        self.d = dims
        self.p = {k: torch.tensor(v, dtype=DT, requires_grad=True) for k, v in params.items()}
        P = dims["P"]
        # token of every membership row, from path_ptr (rows are numbered token by token)
        counts = np.diff(path_ptr)
        self.row_token = torch.tensor(np.repeat(np.arange(P), counts), dtype=torch.long)
        self.member_gene = torch.tensor(member_gene, dtype=torch.long)
        self.z = torch.tensor(gene_zero, dtype=DT)

    def tokens(self, D):
        """Pathway tokens (B,P,C) from the dense batch D (B,G) of d = x~ - z values."""
        p, B = self.p, D.shape[0]
        P, C = self.d["P"], self.d["C"]
        # z part, the same for every cell: Σ_r z[g_r] emb_w[r] into token(r)
        zrows = self.z[self.member_gene].unsqueeze(1) * p["emb_w"]                 # (M,C)
        zemb = torch.zeros(P, C, dtype=DT).index_add(0, self.row_token, zrows)     # (P,C)
        # data part: every membership row r scaled by d of its gene (0 where the gene is absent)
        drows = D[:, self.member_gene].unsqueeze(2) * p["emb_w"].unsqueeze(0)      # (B,M,C)
        demb = torch.zeros(B, P, C, dtype=DT).index_add(1, self.row_token, drows)  # (B,P,C)
        return p["emb_b"].unsqueeze(0) + zemb.unsqueeze(0) + demb

    def forward(self, D):
        """Returns logits (B,K), embedding (B,C) and attention (B,P)."""
        p, d = self.p, self.d
        B, P, C, NH, L = D.shape[0], d["P"], d["C"], d["NH"], d["L"]
        HS = C // NH
        cls = p["cls"].expand(B, 1, C)
        x = torch.cat([self.tokens(D), cls], dim=1)                                 # (B,T,C), cls last
        T = P + 1
        attn = None
        for l in range(L):
            h = F.layer_norm(x, (C,), p["ln1_w"][l], p["ln1_b"][l], eps=1e-5)
            qkv = h @ p["qkv_w"][l].T + p["qkv_b"][l]                               # (B,T,3C)
            q, k, v = qkv[..., :C], qkv[..., C:2 * C], qkv[..., 2 * C:]
            q = q.view(B, T, NH, HS).transpose(1, 2)                                # (B,NH,T,HS)
            k = k.view(B, T, NH, HS).transpose(1, 2)
            v = v.view(B, T, NH, HS).transpose(1, 2)
            A = torch.softmax(q @ k.transpose(-1, -2) / np.sqrt(HS), dim=-1)        # (B,NH,T,T)
            y = (A @ v).transpose(1, 2).reshape(B, T, C)
            x = x + y @ p["proj_w"][l].T + p["proj_b"][l]                          # dropout 0
            h = F.layer_norm(x, (C,), p["ln2_w"][l], p["ln2_b"][l], eps=1e-5)
            m = F.gelu(h @ p["fc1_w"][l].T + p["fc1_b"][l])                         # exact erf GELU
            x = x + m @ p["fc2_w"][l].T + p["fc2_b"][l]
            attn = A[:, :, P, :P].mean(dim=1)                                       # (B,P), last layer kept
        e = F.layer_norm(x[:, P], (C,), p["lnf_w"], p["lnf_b"], eps=1e-5)           # (B,C)
        logits = F.gelu(e @ p["head1_w"].T + p["head1_b"]) @ p["head2_w"].T + p["head2_b"]
        return logits, e, attn


def loss_ce(logits, labels):
    return F.cross_entropy(logits, labels, reduction="mean")


def loss_kd(student, teacher, tau):
    """tau^2 · mean_i KL(softmax(teacher/tau) || softmax(student/tau)) (Hinton direction)."""
    logp = F.log_softmax(teacher / tau, dim=1)
    logs = F.log_softmax(student / tau, dim=1)
    return tau * tau * (logp.exp() * (logp - logs)).sum(dim=1).mean()


def loss_ada(e, logits):
    """(1/K) Σ_{a<b} n_ab / sqrt(n_aa n_bb), n = Qᵀ S Q, S_ij = exp(-||e_i - e_j||²)."""
    q = torch.softmax(logits, dim=1)                                # (N,K)
    diff = e.unsqueeze(1) - e.unsqueeze(0)                          # (N,N,C)
    S = torch.exp(-(diff * diff).sum(dim=2))                        # (N,N)
    n = q.T @ S @ q                                                 # (K,K)
    K = n.shape[0]
    dg = torch.sqrt(torch.diagonal(n))
    r = n / (dg.unsqueeze(0) * dg.unsqueeze(1))
    upper = torch.triu(torch.ones(K, K, dtype=torch.bool), diagonal=1)
    return r[upper].sum() / K


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: torch_kida.py ref_in.h5 ref_out.h5")
    torch.set_grad_enabled(True)
    with h5py.File(sys.argv[1], "r") as f:
        dims = {k: int(f.attrs[k]) for k in ("G", "P", "T", "M", "C", "NH", "L", "F", "K", "B")}
        tau, alpha, beta, lr = (float(f.attrs[k]) for k in ("tau", "alpha", "beta", "lr"))
        n_steps = int(f.attrs["n_steps"])
        params = {k: f["params"][k][()].astype(np.float64) for k in PARAM_NAMES}
        path_ptr, member_gene = f["path_ptr"][()], f["member_gene"][()]
        gene_zero = f["gene_zero"][()].astype(np.float64)
        indptr, indices, data = f["indptr"][()], f["indices"][()], f["data"][()]
        labels = torch.tensor(f["labels"][()].astype(np.int64))
        teacher = torch.tensor(f["teacher_logits"][()], dtype=DT)
    B, G = dims["B"], dims["G"]
    D = torch.zeros(B, G, dtype=DT)                                 # the CSR batch, densified
    for b in range(B):
        sl = slice(int(indptr[b]), int(indptr[b + 1]))
        D[b, torch.tensor(indices[sl].astype(np.int64))] = torch.tensor(data[sl], dtype=DT)

    model = KidaRef(dims, params, path_ptr, member_gene, gene_zero)
    plist = [model.p[k] for k in PARAM_NAMES]
    logits, e, attn = model.forward(D)
    ce = loss_ce(logits, labels)
    kd = loss_kd(logits, teacher, tau)
    ada = loss_ada(e, logits)
    student = alpha * kd + beta * ada
    g_ce = torch.autograd.grad(ce, plist, retain_graph=True)
    g_st = torch.autograd.grad(student, plist, retain_graph=True)
    g_ada = torch.autograd.grad(ada, plist)

    # n_steps of Adam on L_ce, recording the loss before each step
    opt = torch.optim.Adam(plist, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    adam_losses = []
    for _ in range(n_steps):
        opt.zero_grad()
        lg, _, _ = model.forward(D)
        L = loss_ce(lg, labels)
        adam_losses.append(L.item())
        L.backward()
        opt.step()

    with h5py.File(sys.argv[2], "w") as f:
        f["logits"] = logits.detach().numpy()
        f["embedding"] = e.detach().numpy()
        f["attn"] = attn.detach().numpy()
        for k, v in (("loss_ce", ce), ("loss_kd", kd), ("loss_ada", ada), ("loss_student", student)):
            f.attrs[k] = v.item()
        for name, gc, gs, ga in zip(PARAM_NAMES, g_ce, g_st, g_ada):
            f["grad_ce/" + name] = gc.numpy()
            f["grad_student/" + name] = gs.numpy()
            f["grad_ada/" + name] = ga.numpy()
        f["adam_losses"] = np.array(adam_losses)
    print("torch_kida: B=%d G=%d P=%d C=%d L=%d K=%d  ce %.6f kd %.6f ada %.6f student %.6f"
          % (B, G, dims["P"], dims["C"], dims["L"], dims["K"], ce.item(), kd.item(), ada.item(),
             student.item()))


if __name__ == "__main__":
    main()
