// losses_cuda: see losses_cuda.h. One thread per row for the per-row losses, in double as in
// src/loss/losses.c; the clustering loss keeps the CPU's (N,N) / (N,K) / (K,K) structure with one
// thread per output element.
#include <math.h>
#include <stdlib.h>

#include "kernels/cuda_check.h"
#include "kernels/losses_cuda.h"

// Max and log-sum-exp of x/tau for one row, in double (row_lse in src/loss/losses.c).
__device__ static void row_lse_dev(const float *x, size_t K, double inv_tau, double *max_out, double *lse_out) {
    double mx = -INFINITY;
    for (size_t a = 0; a < K; a++)
        if ((double)x[a] * inv_tau > mx) mx = (double)x[a] * inv_tau;
    double s = 0.0;
    for (size_t a = 0; a < K; a++) s += exp((double)x[a] * inv_tau - mx);
    *max_out = mx;
    *lse_out = mx + log(s);
}

#define ROWS_LOOP(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

// Copies n doubles back and returns their sum in order (the stream is synchronised).
static double sum_back(const double *d_vals, size_t n, cudaStream_t stream) {
    double *h = (double *)xmalloc((n ? n : 1) * sizeof(double));
    CUDA_CHECK(cudaMemcpyAsync(h, d_vals, n * sizeof(double), cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += h[i];
    free(h);
    return s;
}

// ---- softmax

__global__ void softmax_rows_loss_kernel(float *probs, const float *logits, size_t B, size_t K, double inv_tau) {
    ROWS_LOOP(i, B) {
        const float *x = logits + i * K;  // (K)
        float *p = probs + i * K;         // (K)
        double mx, lse;
        row_lse_dev(x, K, inv_tau, &mx, &lse);
        for (size_t a = 0; a < K; a++) p[a] = (float)exp((double)x[a] * inv_tau - lse);
    }
}

extern "C" void softmax_rows_cuda(float *probs, const float *logits, size_t B, size_t K, float tau,
                                  cudaStream_t stream) {
    if (B == 0) return;
    softmax_rows_loss_kernel<<<cuda_blocks(B, 128), 128, 0, stream>>>(probs, logits, B, K, 1.0 / (double)tau);
    CUDA_LAUNCH_CHECK();
}

// ---- cross-entropy

// rowloss[i] = lse - x[y] (0 for skipped rows); bad[0] = 1 + the last row whose label is >= K.
__global__ void ce_forward_kernel(float *probs, double *rowloss, int *bad, const float *logits, const int32_t *labels,
                                  size_t B, size_t K) {
    ROWS_LOOP(i, B) {
        const float *x = logits + i * K;  // (K)
        float *p = probs + i * K;         // (K)
        double mx, lse;
        row_lse_dev(x, K, 1.0, &mx, &lse);
        for (size_t a = 0; a < K; a++) p[a] = (float)exp((double)x[a] - lse);
        int32_t y = labels[i];
        rowloss[i] = 0.0;
        if (y >= 0 && (size_t)y >= K) atomicMax(bad, (int)(i + 1));
        else if (y >= 0) rowloss[i] = lse - (double)x[y];
    }
}

extern "C" double ce_forward_cuda(float *probs, const float *logits, const int32_t *labels, size_t B, size_t K,
                                  cudaStream_t stream) {
    if (B == 0) return 0.0;
    double *rowloss;
    int *bad, h_bad = 0;
    CUDA_CHECK(cudaMallocAsync((void **)&rowloss, B * sizeof(double) + sizeof(int) * 2, stream));
    bad = (int *)(rowloss + B);
    CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof(int), stream));
    ce_forward_kernel<<<cuda_blocks(B, 128), 128, 0, stream>>>(probs, rowloss, bad, logits, labels, B, K);
    CUDA_LAUNCH_CHECK();
    CUDA_CHECK(cudaMemcpyAsync(&h_bad, bad, sizeof(int), cudaMemcpyDeviceToHost, stream));
    double s = sum_back(rowloss, B, stream);
    CUDA_CHECK(cudaFreeAsync(rowloss, stream));
    if (h_bad) {
        int32_t y = 0;
        CUDA_CHECK(cudaMemcpy(&y, labels + (h_bad - 1), sizeof(int32_t), cudaMemcpyDeviceToHost));
        FATAL("labels must be class indices below the number of classes; rebuild the label map",
              "label out of range in row %d (got %d, want < %zu)", h_bad - 1, (int)y, K);
    }
    return s;
}

__global__ void ce_backward_kernel(float *dlogits, const float *probs, const int32_t *labels, size_t B, size_t K,
                                   float scale) {
    ROWS_LOOP(i, B) {
        int32_t y = labels[i];
        if (y < 0 || (size_t)y >= K) continue;
        const float *p = probs + i * K;  // (K)
        float *d = dlogits + i * K;      // (K)
        for (size_t a = 0; a < K; a++) d[a] += scale * p[a];
        d[y] -= scale;
    }
}

extern "C" void ce_backward_cuda(float *dlogits, const float *probs, const int32_t *labels, size_t B, size_t K,
                                 float scale, cudaStream_t stream) {
    if (B == 0) return;
    ce_backward_kernel<<<cuda_blocks(B, 128), 128, 0, stream>>>(dlogits, probs, labels, B, K, scale);
    CUDA_LAUNCH_CHECK();
}

// ---- distillation

__global__ void kd_forward_kernel(double *rowkl, const float *student, const float *teacher, size_t B, size_t K,
                                  double inv_tau) {
    ROWS_LOOP(i, B) {
        const float *z = student + i * K, *t = teacher + i * K;  // (K), (K)
        double mz, lz, mt, lt;
        row_lse_dev(z, K, inv_tau, &mz, &lz);
        row_lse_dev(t, K, inv_tau, &mt, &lt);
        double kl = 0.0;
        for (size_t a = 0; a < K; a++) {
            double logp = (double)t[a] * inv_tau - lt, logs = (double)z[a] * inv_tau - lz;
            kl += exp(logp) * (logp - logs);
        }
        rowkl[i] = kl;
    }
}

extern "C" double kd_forward_cuda(const float *student_logits, const float *teacher_logits, size_t B, size_t K,
                                  float tau, cudaStream_t stream) {
    if (B == 0) return 0.0;
    double *rowkl;
    CUDA_CHECK(cudaMallocAsync((void **)&rowkl, B * sizeof(double), stream));
    kd_forward_kernel<<<cuda_blocks(B, 128), 128, 0, stream>>>(rowkl, student_logits, teacher_logits, B, K,
                                                                1.0 / (double)tau);
    CUDA_LAUNCH_CHECK();
    double s = sum_back(rowkl, B, stream);
    CUDA_CHECK(cudaFreeAsync(rowkl, stream));
    return (double)tau * (double)tau * s;
}

__global__ void kd_backward_kernel(float *dlogits, const float *student, const float *teacher, size_t B, size_t K,
                                   double inv_tau, double f) {
    ROWS_LOOP(i, B) {
        const float *z = student + i * K, *t = teacher + i * K;  // (K), (K)
        float *d = dlogits + i * K;                              // (K)
        double mz, lz, mt, lt;
        row_lse_dev(z, K, inv_tau, &mz, &lz);
        row_lse_dev(t, K, inv_tau, &mt, &lt);
        for (size_t a = 0; a < K; a++) {
            double s = exp((double)z[a] * inv_tau - lz), p = exp((double)t[a] * inv_tau - lt);
            d[a] += (float)(f * (s - p));
        }
    }
}

extern "C" void kd_backward_cuda(float *dlogits, const float *student_logits, const float *teacher_logits, size_t B,
                                 size_t K, float tau, float scale, cudaStream_t stream) {
    if (B == 0) return;
    kd_backward_kernel<<<cuda_blocks(B, 128), 128, 0, stream>>>(dlogits, student_logits, teacher_logits, B, K,
                                                                 1.0 / (double)tau, (double)scale * (double)tau);
    CUDA_LAUNCH_CHECK();
}

// ---- adaptive clustering loss: S (N,N), U = S Q (N,K), n = Qᵀ U (K,K), all double

#define ADA_TINY 1e-300

__global__ void ada_S_kernel(double *S, const float *emb, size_t N, size_t C) {
    ROWS_LOOP(k, N * N) {
        size_t i = k / N, j = k % N;
        if (i == j) {
            S[k] = 1.0;
            continue;
        }
        const float *ei = emb + i * C, *ej = emb + j * C;  // (C)
        double d2 = 0.0;
        for (size_t c = 0; c < C; c++) {
            double d = (double)ei[c] - (double)ej[c];
            d2 += d * d;
        }
        S[k] = exp(-d2);
    }
}

__global__ void ada_U_kernel(double *U, const double *S, const float *probs, size_t N, size_t K) {
    ROWS_LOOP(k, N * K) {
        size_t i = k / K, a = k % K;
        double u = 0.0;
        for (size_t j = 0; j < N; j++) {
            double s = S[i * N + j];
            if (s == 0.0) continue;
            u += s * (double)probs[j * K + a];
        }
        U[k] = u;
    }
}

__global__ void ada_n_kernel(double *n, const double *U, const float *probs, size_t N, size_t K) {
    ROWS_LOOP(k, K * K) {
        size_t a = k / K, b = k % K;
        double s = 0.0;
        for (size_t i = 0; i < N; i++) s += (double)probs[i * K + a] * U[i * K + b];
        n[k] = s;
    }
}

// Device workspace of one evaluation: S (N,N), U (N,K), n (K,K); n also copied to the host.
typedef struct {
    double *S, *U, *n, *mem;
    double *h_n;  // (K,K) host
} AdaWork;

static void ada_core_cuda(AdaWork *w, const float *emb, const float *probs, size_t N, size_t C, size_t K,
                          cudaStream_t stream) {
    CUDA_CHECK(cudaMallocAsync((void **)&w->mem, (N * N + N * K + K * K) * sizeof(double), stream));
    w->S = w->mem;
    w->U = w->S + N * N;
    w->n = w->U + N * K;
    w->h_n = (double *)xmalloc(K * K * sizeof(double));
    ada_S_kernel<<<cuda_blocks(N * N, 256), 256, 0, stream>>>(w->S, emb, N, C);
    CUDA_LAUNCH_CHECK();
    ada_U_kernel<<<cuda_blocks(N * K, 128), 128, 0, stream>>>(w->U, w->S, probs, N, K);
    CUDA_LAUNCH_CHECK();
    ada_n_kernel<<<cuda_blocks(K * K, 64), 64, 0, stream>>>(w->n, w->U, probs, N, K);
    CUDA_LAUNCH_CHECK();
    CUDA_CHECK(cudaMemcpyAsync(w->h_n, w->n, K * K * sizeof(double), cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
}

static void ada_free(AdaWork *w, cudaStream_t stream) {
    CUDA_CHECK(cudaFreeAsync(w->mem, stream));
    free(w->h_n);
}

static double ada_diag(const double *n, size_t K, size_t a) {
    double v = n[a * K + a];
    return v > ADA_TINY ? v : ADA_TINY;
}

extern "C" double ada_forward_cuda(const float *emb, const float *probs, size_t N, size_t C, size_t K,
                                   cudaStream_t stream) {
    if (N == 0 || K < 2) return 0.0;
    AdaWork w;
    ada_core_cuda(&w, emb, probs, N, C, K, stream);
    double L = 0.0;
    for (size_t a = 0; a < K; a++)
        for (size_t b = a + 1; b < K; b++) L += w.h_n[a * K + b] / sqrt(ada_diag(w.h_n, K, a) * ada_diag(w.h_n, K, b));
    ada_free(&w, stream);
    return L / (double)K;
}

// dQ (N,K) = U W (for dlogits) or QW (N,K) = Q W (for demb); X is U (double) or Q (float).
__global__ void ada_times_W_kernel(double *out, const double *Ud, const float *Qf, const double *W, size_t N,
                                   size_t K) {
    ROWS_LOOP(k, N * K) {
        size_t i = k / K, a = k % K;
        double s = 0.0;
        for (size_t b = 0; b < K; b++) s += (Ud ? Ud[i * K + b] : (double)Qf[i * K + b]) * W[b * K + a];
        out[k] = s;
    }
}

// dlogits[i,a] += scale q_ia (dq_ia - Σ_b q_ib dq_ib), one thread per row.
__global__ void ada_dlogits_kernel(float *dlogits, const double *dq, const float *probs, size_t N, size_t K,
                                   double scale) {
    ROWS_LOOP(i, N) {
        const float *q = probs + i * K;  // (K)
        const double *g = dq + i * K;    // (K)
        double dot = 0.0;
        for (size_t a = 0; a < K; a++) dot += (double)q[a] * g[a];
        for (size_t a = 0; a < K; a++) dlogits[i * K + a] += (float)(scale * (double)q[a] * (g[a] - dot));
    }
}

// S (N,N) becomes RS_ij = -2 (QW_i · q_j) S_ij, zero on the diagonal and where S_ij == 0.
__global__ void ada_RS_kernel(double *S, const double *QW, const float *probs, size_t N, size_t K) {
    ROWS_LOOP(k, N * N) {
        size_t i = k / N, j = k % N;
        double s = S[k];
        if (i == j || s == 0.0) {
            S[k] = 0.0;
            continue;
        }
        double r = 0.0;
        for (size_t a = 0; a < K; a++) r += QW[i * K + a] * (double)probs[j * K + a];
        S[k] = -2.0 * r * s;
    }
}

// demb[i,c] += scale Σ_j RS_ij (e_ic - e_jc).
__global__ void ada_demb_kernel(float *demb, const double *RS, const float *emb, size_t N, size_t C, double scale) {
    ROWS_LOOP(k, N * C) {
        size_t i = k / C, c = k % C;
        double ei = (double)emb[k], g = 0.0;
        for (size_t j = 0; j < N; j++) {
            double w = RS[i * N + j];
            if (w == 0.0) continue;
            g += w * (ei - (double)emb[j * C + c]);
        }
        demb[k] += (float)(scale * g);
    }
}

// The backward of src/loss/losses.c: W (K,K) symmetric with W_ab = dL/dn_ab (a != b), W_aa = 2 dL/dn_aa;
// dL/dQ = U W, and dL/de_i = Σ_j RS_ij (e_i - e_j) with RS = -2 (Q W Qᵀ) ⊙ S off the diagonal.
extern "C" void ada_backward_cuda(float *demb, float *dlogits, const float *emb, const float *probs, size_t N, size_t C,
                                  size_t K, float scale, cudaStream_t stream) {
    if (N == 0 || K < 2) return;
    AdaWork w;
    ada_core_cuda(&w, emb, probs, N, C, K, stream);
    const double *n = w.h_n;
    double *W = (double *)xcalloc(K * K, sizeof(double));  // (K,K) host
    for (size_t a = 0; a < K; a++)
        for (size_t b = a + 1; b < K; b++) {
            double naa = ada_diag(n, K, a), nbb = ada_diag(n, K, b);
            double inv = 1.0 / sqrt(naa * nbb), r = n[a * K + b] * inv;
            W[a * K + b] = W[b * K + a] = inv / (double)K;
            W[a * K + a] -= r / (naa * (double)K);
            W[b * K + b] -= r / (nbb * (double)K);
        }
    double *dW, *tmp;  // (K,K), (N,K)
    CUDA_CHECK(cudaMallocAsync((void **)&dW, (K * K + N * K) * sizeof(double), stream));
    tmp = dW + K * K;
    CUDA_CHECK(cudaMemcpyAsync(dW, W, K * K * sizeof(double), cudaMemcpyHostToDevice, stream));
    if (dlogits) {
        ada_times_W_kernel<<<cuda_blocks(N * K, 128), 128, 0, stream>>>(tmp, w.U, NULL, dW, N, K);
        CUDA_LAUNCH_CHECK();
        ada_dlogits_kernel<<<cuda_blocks(N, 128), 128, 0, stream>>>(dlogits, tmp, probs, N, K, (double)scale);
        CUDA_LAUNCH_CHECK();
    }
    if (demb) {
        ada_times_W_kernel<<<cuda_blocks(N * K, 128), 128, 0, stream>>>(tmp, NULL, probs, dW, N, K);
        CUDA_LAUNCH_CHECK();
        ada_RS_kernel<<<cuda_blocks(N * N, 256), 256, 0, stream>>>(w.S, tmp, probs, N, K);
        CUDA_LAUNCH_CHECK();
        ada_demb_kernel<<<cuda_blocks(N * C, 128), 128, 0, stream>>>(demb, w.S, emb, N, C, (double)scale);
        CUDA_LAUNCH_CHECK();
    }
    CUDA_CHECK(cudaFreeAsync(dW, stream));
    ada_free(&w, stream);
    CUDA_CHECK(cudaStreamSynchronize(stream));  // W's host copy must outlive the upload
    free(W);
}
