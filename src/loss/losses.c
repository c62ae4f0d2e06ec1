// losses: see losses.h. The math of each backward pass is written above it.
#include "loss/losses.h"

#include <math.h>
#include <string.h>

#include "core/log.h"

// Max and log-sum-exp of x/tau for one row, in double.
static void row_lse(const float *x, size_t K, double inv_tau, double *max_out, double *lse_out) {
    double mx = -INFINITY;
    for (size_t a = 0; a < K; a++) if ((double)x[a] * inv_tau > mx) mx = (double)x[a] * inv_tau;
    double s = 0.0;
    for (size_t a = 0; a < K; a++) s += exp((double)x[a] * inv_tau - mx);
    *max_out = mx;
    *lse_out = mx + log(s);
}

void softmax_rows(float *probs, const float *logits, size_t B, size_t K, float tau) {
    double inv_tau = 1.0 / (double)tau;
    for (size_t i = 0; i < B; i++) {
        const float *x = logits + i * K;  // (K)
        float *p = probs + i * K;         // (K)
        double mx, lse;
        row_lse(x, K, inv_tau, &mx, &lse);
        for (size_t a = 0; a < K; a++) p[a] = (float)exp((double)x[a] * inv_tau - lse);
    }
}

float entropy_row(const float *probs, size_t K) {
    double h = 0.0;
    for (size_t a = 0; a < K; a++)
        if (probs[a] > 0.0f) h -= (double)probs[a] * log((double)probs[a]);
    return (float)h;
}

static void check_label(int32_t y, size_t i, size_t K) {
    if (y >= 0 && (size_t)y >= K)
        FATAL("labels must be class indices below the number of classes; rebuild the label map",
              "label out of range in row %zu (got %d, want < %zu)", i, (int)y, K);
}

double ce_forward(float *probs, const float *logits, const int32_t *labels, size_t B, size_t K) {
    double sum = 0.0;
    for (size_t i = 0; i < B; i++) {
        const float *x = logits + i * K;  // (K)
        float *p = probs + i * K;         // (K)
        double mx, lse;
        row_lse(x, K, 1.0, &mx, &lse);
        for (size_t a = 0; a < K; a++) p[a] = (float)exp((double)x[a] - lse);
        check_label(labels[i], i, K);
        if (labels[i] >= 0) sum += lse - (double)x[labels[i]];
    }
    return sum;
}

void ce_weight_rows(float *dlogits, double *rowloss, const int32_t *labels, size_t B, size_t K, const float *w) {
    for (size_t i = 0; i < B; i++) {
        if (labels[i] < 0) continue;
        check_label(labels[i], i, K);
        float wi = w[labels[i]];
        rowloss[i] *= (double)wi;
        for (size_t a = 0; a < K; a++) dlogits[i * K + a] *= wi;
    }
}

// d(-log p_y)/dx_a = p_a - [a == y]
void ce_backward(float *dlogits, const float *probs, const int32_t *labels, size_t B, size_t K,
                 float scale) {
    for (size_t i = 0; i < B; i++) {
        if (labels[i] < 0) continue;
        check_label(labels[i], i, K);
        const float *p = probs + i * K;  // (K)
        float *d = dlogits + i * K;      // (K)
        for (size_t a = 0; a < K; a++) d[a] += scale * p[a];
        d[labels[i]] -= scale;
    }
}

// KL(p || s) = Σ_a p_a (log p_a - log s_a) with log p_a = t_a/tau - lse_t, log s_a = z_a/tau - lse_z.
double kd_forward(const float *student_logits, const float *teacher_logits, size_t B, size_t K,
                  float tau) {
    double inv_tau = 1.0 / (double)tau, sum = 0.0;
    for (size_t i = 0; i < B; i++) {
        const float *z = student_logits + i * K;  // (K)
        const float *t = teacher_logits + i * K;  // (K)
        double mz, lz, mt, lt;
        row_lse(z, K, inv_tau, &mz, &lz);
        row_lse(t, K, inv_tau, &mt, &lt);
        double kl = 0.0;
        for (size_t a = 0; a < K; a++) {
            double logp = (double)t[a] * inv_tau - lt;
            double logs = (double)z[a] * inv_tau - lz;
            kl += exp(logp) * (logp - logs);
        }
        sum += kl;
    }
    return (double)tau * (double)tau * sum;
}

// d/dz_a [tau^2 Σ_b p_b (log p_b - log s_b)] = tau^2 · (s_a - p_a) / tau = tau (s_a - p_a)
void kd_backward(float *dlogits, const float *student_logits, const float *teacher_logits,
                 size_t B, size_t K, float tau, float scale) {
    double inv_tau = 1.0 / (double)tau, f = (double)scale * (double)tau;
    for (size_t i = 0; i < B; i++) {
        const float *z = student_logits + i * K;  // (K)
        const float *t = teacher_logits + i * K;  // (K)
        float *d = dlogits + i * K;               // (K)
        double mz, lz, mt, lt;
        row_lse(z, K, inv_tau, &mz, &lz);
        row_lse(t, K, inv_tau, &mt, &lt);
        for (size_t a = 0; a < K; a++) {
            double s = exp((double)z[a] * inv_tau - lz), p = exp((double)t[a] * inv_tau - lt);
            d[a] += (float)(f * (s - p));
        }
    }
}

// ---- adaptive clustering loss
// Shared by forward and backward: S (N,N) = exp(-||e_i - e_j||^2) and U (N,K) = S Q, n (K,K) = Q^T U.
// Distances are formed from differences (not |e_i|^2 + |e_j|^2 - 2 e_i.e_j) so near-identical
// embeddings keep their accuracy. Rows are split over OpenMP threads, but every sum runs in the
// same order whatever the thread count, and n is summed serially over ALL N rows of U in row
// order, so results are bit-identical for any OMP_NUM_THREADS and any split over ranks.
#define ADA_TINY 1e-300

// S rows i in [r0, r0+c): S (c,N) and U (c,K) = S Q.
static void ada_core(double *S, double *U, const float *emb, const float *probs, size_t N, size_t C, size_t K,
                     size_t r0, size_t c) {
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t r = 0; r < c; r++) {
        size_t i = r0 + r;
        const float *ei = emb + i * C;  // (C)
        for (size_t j = 0; j < N; j++) {
            const float *ej = emb + j * C;  // (C)
            double d2 = 0.0;
            for (size_t k = 0; k < C; k++) {
                double d = (double)ei[k] - (double)ej[k];
                d2 += d * d;
            }
            S[r * N + j] = j == i ? 1.0 : exp(-d2);
        }
    }
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < c; r++) {
        double *u = U + r * K;  // (K)
        for (size_t a = 0; a < K; a++) u[a] = 0.0;
        for (size_t j = 0; j < N; j++) {
            double sv = S[r * N + j];
            if (sv == 0.0) continue;
            const float *q = probs + j * K;  // (K)
            for (size_t a = 0; a < K; a++) u[a] += sv * (double)q[a];
        }
    }
}

void ada_block_sum(AdaBlock *blk, const float *probs, const double *U_all) {
    size_t N = blk->N, K = blk->K;
    double *n = blk->n;
    for (size_t a = 0; a < K * K; a++) n[a] = 0.0;
    for (size_t i = 0; i < N; i++) {  // in row order, the same on every rank
        const float *q = probs + i * K;  // (K)
        const double *u = U_all + i * K;  // (K)
        for (size_t a = 0; a < K; a++)
            for (size_t b = 0; b < K; b++) n[a * K + b] += (double)q[a] * u[b];
    }
}

static double ada_diag(const double *n, size_t K, size_t a) {
    double v = n[a * K + a];
    return v > ADA_TINY ? v : ADA_TINY;
}

void ada_block_begin(AdaBlock *b, const float *emb, const float *probs, size_t N, size_t C, size_t K, size_t r0,
                     size_t c) {
    b->N = N, b->C = C, b->K = K, b->r0 = r0, b->c = c;
#define ADA_WHAT "clustering loss: %zu of %zu cells x %zu classes", c, N, K
    b->S = xmalloc_for(szmul(szmul(c ? c : 1, N ? N : 1), sizeof(double)), ADA_WHAT);
    b->U = xmalloc_for(szmul(szmul(c ? c : 1, K), sizeof(double)), ADA_WHAT);
    b->n = xmalloc_for(szmul(szmul(K, K), sizeof(double)), ADA_WHAT);
#undef ADA_WHAT
    for (size_t a = 0; a < K * K; a++) b->n[a] = 0.0;
    ada_core(b->S, b->U, emb, probs, N, C, K, r0, c);
}

double ada_block_loss(const AdaBlock *b) {
    size_t K = b->K;
    if (b->N == 0 || K < 2) return 0.0;
    double L = 0.0;
    for (size_t a = 0; a < K; a++)
        for (size_t c = a + 1; c < K; c++) L += b->n[a * K + c] / sqrt(ada_diag(b->n, K, a) * ada_diag(b->n, K, c));
    return L / (double)K;
}

void ada_block_free(AdaBlock *b) {
    free(b->S); free(b->U); free(b->n);
    memset(b, 0, sizeof *b);
}

double ada_forward(const float *emb, const float *probs, size_t N, size_t C, size_t K) {
    if (N == 0 || K < 2) return 0.0;
    AdaBlock b;
    ada_block_begin(&b, emb, probs, N, C, K, 0, N);
    ada_block_sum(&b, probs, b.U);
    double L = ada_block_loss(&b);
    ada_block_free(&b);
    return L;
}

// Backward. With r_ab = n_ab / sqrt(n_aa n_bb), a < b:
//   dL/dn_ab = 1 / (K sqrt(n_aa n_bb)),  dL/dn_aa = -(1/(2K)) Σ_{b != a} r_ab / n_aa.
// Let W (K,K) be symmetric with W_ab = dL/dn_ab (a != b) and W_aa = 2 dL/dn_aa. Since
// n_ab = Σ_ij q_ia S_ij q_jb with S symmetric:
//   dL/dQ = U W                                                       (N,K)
//   dL/dS_ij + dL/dS_ji = R_ij with R = Q W Q^T                       (N,N)
//   dS_ij/de_i = -2 S_ij (e_i - e_j)  ⇒  dL/de_i = -2 Σ_j R_ij S_ij (e_i - e_j)
// and through the softmax: dL/dlogit_ia = q_ia (dQ_ia - Σ_b q_ib dQ_ib).
// Every row's gradient needs only its own S row, U row and the full n, so a block of rows is
// enough (the rows of other ranks come in through emb and probs).
void ada_block_backward(const AdaBlock *blk, float *demb, float *dlogits, const float *emb, const float *probs,
                        float scale) {
    size_t N = blk->N, C = blk->C, K = blk->K, r0 = blk->r0, c = blk->c;
    if (N == 0 || K < 2 || c == 0) return;
    const double *S = blk->S, *U = blk->U, *n = blk->n;
    double *W = xcalloc_for(szmul(K, K), sizeof(double), "clustering loss: %zu x %zu classes", K, K);   // (K,K)
    for (size_t a = 0; a < K; a++)
        for (size_t b = a + 1; b < K; b++) {
            double naa = ada_diag(n, K, a), nbb = ada_diag(n, K, b);
            double inv = 1.0 / sqrt(naa * nbb), r = n[a * K + b] * inv;
            W[a * K + b] = W[b * K + a] = inv / (double)K;
            W[a * K + a] -= r / (naa * (double)K);  // 2 · (-(1/(2K)) r / n_aa)
            W[b * K + b] -= r / (nbb * (double)K);
        }
    if (dlogits) {
#pragma omp parallel for schedule(static)
        for (size_t row = 0; row < c; row++) {
            const float *q = probs + (r0 + row) * K;  // (K)
            const double *u = U + row * K;            // (K)
            float *dl = dlogits + row * K;            // (K)
            double dot = 0.0;  // Σ_b q_ib dQ_ib, then a second pass recomputes dQ_ia
            for (size_t a = 0; a < K; a++) {
                double sv = 0.0;
                for (size_t b = 0; b < K; b++) sv += u[b] * W[b * K + a];
                dot += (double)q[a] * sv;
            }
            for (size_t a = 0; a < K; a++) {
                double sv = 0.0;
                for (size_t b = 0; b < K; b++) sv += u[b] * W[b * K + a];
                dl[a] += (float)((double)scale * (double)q[a] * (sv - dot));
            }
        }
    }
    if (demb) {
#pragma omp parallel for schedule(static)
        for (size_t row = 0; row < c; row++) {
            size_t i = r0 + row;
            const float *qi = probs + i * K, *ei = emb + i * C;  // (K), (C)
            double qw[64], *qwp = K <= 64 ? qw : xcalloc_for(K, sizeof(double), "clustering loss: %zu classes", K);  // (K) q_i W
            for (size_t a = 0; a < K; a++) {
                double sv = 0.0;
                for (size_t b = 0; b < K; b++) sv += (double)qi[b] * W[b * K + a];
                qwp[a] = sv;
            }
            double *g = xcalloc_for(C, sizeof(double), "clustering loss: width %zu", C);  // (C)
            for (size_t j = 0; j < N; j++) {
                double sv = S[row * N + j];
                if (j == i || sv == 0.0) continue;
                const float *qj = probs + j * K, *ej = emb + j * C;
                double r = 0.0;
                for (size_t a = 0; a < K; a++) r += qwp[a] * (double)qj[a];
                double w = -2.0 * r * sv;
                for (size_t k = 0; k < C; k++) g[k] += w * ((double)ei[k] - (double)ej[k]);
            }
            for (size_t k = 0; k < C; k++) demb[row * C + k] += (float)((double)scale * g[k]);
            free(g);
            if (qwp != qw) free(qwp);
        }
    }
    free(W);
}

void ada_backward(float *demb, float *dlogits, const float *emb, const float *probs, size_t N,
                  size_t C, size_t K, float scale) {
    if (N == 0 || K < 2) return;
    AdaBlock b;
    ada_block_begin(&b, emb, probs, N, C, K, 0, N);
    ada_block_sum(&b, probs, b.U);
    ada_block_backward(&b, demb, dlogits, emb, probs, scale);
    ada_block_free(&b);
}
