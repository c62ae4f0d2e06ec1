// layers_cuda: CUDA twins of src/model/layers.c and src/model/pathemb.c (see layers_cuda.h). Each kernel
// follows its CPU loop: the same operations in the same order per output element, one thread
// (or one warp, for row reductions) where the CPU has one loop iteration.
#include <limits.h>
#include <stdlib.h>

#include "core/rng.h"
#include "kernels/cuda_check.h"
#include "kernels/layers_cuda.h"

// ---- helpers

// Sum over the 32 lanes of a warp (every lane gets the total).
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

static int as_int(size_t v, const char *what) {
    if (v > (size_t)INT_MAX)
        FATAL("use a smaller batch (cuBLAS takes int sizes)", "%s too large for cuBLAS (got %zu, want <= %d)", what, v,
              INT_MAX);
    return (int)v;
}

// Rows per partial sum of the two-pass column reductions: fixed by N alone (never by the device).
static size_t colsum_rows(size_t N) {
    size_t rows = 64;
    while ((N + rows - 1) / rows > 16384) rows *= 2;
    return rows;
}

// part[r,c] (row stride ld) = Σ of rows r·rows .. r·rows+rows-1 of in (N,W), column c.
__global__ void colsum_partial_kernel(float *part, const float *in, size_t N, size_t W, size_t rows, size_t ld) {
    size_t r = blockIdx.x, c = (size_t)blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= W) return;
    size_t n0 = r * rows, n1 = n0 + rows < N ? n0 + rows : N;
    float s = 0.0f;
    for (size_t n = n0; n < n1; n++) s += in[n * W + c];
    part[r * ld + c] = s;
}

// out[c] += Σ_r part[r·ld + c], r in order.
__global__ void colsum_finish_kernel(float *out, const float *part, size_t R, size_t W, size_t ld) {
    size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= W) return;
    float s = 0.0f;
    for (size_t r = 0; r < R; r++) s += part[r * ld + c];
    out[c] += s;
}

extern "C" void colsum_add_cuda(float *out, const float *in, size_t N, size_t W, cudaStream_t stream) {
    if (N == 0 || W == 0) return;
    size_t rows = colsum_rows(N), R = (N + rows - 1) / rows;
    float *part;
    CUDA_CHECK(cudaMallocAsync((void **)&part, R * W * sizeof(float), stream));
    dim3 grid((unsigned)R, (unsigned)((W + 127) / 128));
    colsum_partial_kernel<<<grid, 128, 0, stream>>>(part, in, N, W, rows, W);
    CUDA_LAUNCH_CHECK();
    colsum_finish_kernel<<<cuda_blocks(W, 128), 128, 0, stream>>>(out, part, R, W, W);
    CUDA_LAUNCH_CHECK();
    CUDA_CHECK(cudaFreeAsync(part, stream));
}

// ---- pathway map

extern "C" void pathmap_cuda_upload(PathwayMapCuda *d, const PathwayMap *m) {
    if (m->M > (size_t)INT32_MAX || m->G > (size_t)INT32_MAX || m->P >= (size_t)INT32_MAX)
        FATAL("use fewer pathways or genes on the GPU", "pathway map too large for int32 indices (got M = %zu, G = %zu)",
              m->M, m->G);
    d->P = m->P;
    d->G = m->G;
    d->M = m->M;
    int32_t *ptr = (int32_t *)xmalloc((m->P + 1) * sizeof(int32_t));
    int32_t *tok = (int32_t *)xmalloc((m->M ? m->M : 1) * sizeof(int32_t));
    for (size_t j = 0; j <= m->P; j++) ptr[j] = (int32_t)m->path_ptr[j];
    for (size_t r = 0; r < m->M; r++) tok[r] = (int32_t)m->row_token[r];
    CUDA_CHECK(cudaMalloc((void **)&d->path_ptr, (m->P + 1) * sizeof(int32_t)));
    CUDA_CHECK(cudaMalloc((void **)&d->member_gene, (m->M ? m->M : 1) * sizeof(int32_t)));
    CUDA_CHECK(cudaMalloc((void **)&d->row_token, (m->M ? m->M : 1) * sizeof(int32_t)));
    CUDA_CHECK(cudaMemcpy(d->path_ptr, ptr, (m->P + 1) * sizeof(int32_t), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(d->member_gene, m->member_gene, m->M * sizeof(int32_t), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(d->row_token, tok, m->M * sizeof(int32_t), cudaMemcpyHostToDevice));
    free(ptr);
    free(tok);
}

extern "C" void pathmap_cuda_free(PathwayMapCuda *d) {
    cudaFree(d->path_ptr);
    cudaFree(d->member_gene);
    cudaFree(d->row_token);
    d->path_ptr = d->member_gene = d->row_token = NULL;
}

// ---- GEMM: row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ, so A and B swap places.

extern "C" void sgemm_rm_cuda(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                              long long sA, const float *B, size_t ldb, long long sB, float beta, float *C, size_t ldc,
                              long long sC, size_t batch, cublasHandle_t blas, cudaStream_t stream) {
    if (M == 0 || N == 0 || batch == 0) return;
    CUBLAS_CHECK(cublasSetStream(blas, stream));
    CUBLAS_CHECK(cublasSgemmStridedBatched(blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                           as_int(N, "GEMM n"), as_int(M, "GEMM m"), as_int(K, "GEMM k"), &alpha, B,
                                           as_int(ldb, "ldb"), sB, A, as_int(lda, "lda"), sA, &beta, C,
                                           as_int(ldc, "ldc"), sC, as_int(batch, "batch")));
}

// ---- the batch

__global__ void csr_densify_kernel(float *xd, const int64_t *indptr, const int32_t *indices, const float *data,
                                   size_t G) {
    size_t b = blockIdx.x;
    float *row = xd + b * G;  // (G)
    for (int64_t k = indptr[b] + threadIdx.x; k < indptr[b + 1]; k += blockDim.x) row[indices[k]] = data[k];
}

extern "C" void csr_densify_cuda(float *xd, const int64_t *indptr, const int32_t *indices, const float *data,
                                 size_t B, size_t G, cudaStream_t stream) {
    if (B == 0) return;
    CUDA_CHECK(cudaMemsetAsync(xd, 0, B * G * sizeof(float), stream));
    csr_densify_kernel<<<(unsigned)B, 128, 0, stream>>>(xd, indptr, indices, data, G);
    CUDA_LAUNCH_CHECK();
}

// ---- pathway embedding

__global__ void pathemb_zero_kernel(float *zemb, const float *zero, const float *emb_w, const int32_t *path_ptr,
                                    const int32_t *member_gene, size_t C) {
    size_t j = blockIdx.x;
    for (size_t c = threadIdx.x; c < C; c += blockDim.x) {
        float z = 0.0f;
        for (int32_t r = path_ptr[j]; r < path_ptr[j + 1]; r++) {
            float zg = zero[member_gene[r]];
            if (zg == 0.0f) continue;
            z += zg * emb_w[(size_t)r * C + c];
        }
        zemb[j * C + c] = z;
    }
}

extern "C" void pathemb_zero_forward_cuda(float *zemb, const float *zero, const float *emb_w, const PathwayMapCuda *map,
                                          size_t C, cudaStream_t stream) {
    if (map->P == 0) return;
    pathemb_zero_kernel<<<(unsigned)map->P, 128, 0, stream>>>(zemb, zero, emb_w, map->path_ptr, map->member_gene, C);
    CUDA_LAUNCH_CHECK();
}

// One block per (cell b, token j), blockIdx.x = b·T + j.
__global__ void pathemb_forward_kernel(float *out, const float *xd, const float *zemb, const float *emb_w,
                                       const float *emb_b, const float *cls, const int32_t *path_ptr,
                                       const int32_t *member_gene, size_t P, size_t G, size_t C) {
    size_t T = P + 1, b = blockIdx.x / T, j = blockIdx.x % T;
    float *o = out + (b * T + j) * C;  // (C)
    if (j == P) {
        for (size_t c = threadIdx.x; c < C; c += blockDim.x) o[c] = cls[c];
        return;
    }
    const float *xb = xd + b * G;  // (G)
    int32_t r0 = path_ptr[j], r1 = path_ptr[j + 1];
    for (size_t c = threadIdx.x; c < C; c += blockDim.x) {
        float acc = emb_b[j * C + c] + zemb[j * C + c];
        for (int32_t r = r0; r < r1; r++) {
            float d = xb[member_gene[r]];
            if (d != 0.0f) acc += d * emb_w[(size_t)r * C + c];
        }
        o[c] = acc;
    }
}

extern "C" void pathemb_forward_cuda(float *out, const float *xd, const float *zemb, const float *emb_w,
                                     const float *emb_b, const float *cls, const PathwayMapCuda *map, size_t B, size_t C,
                                     cudaStream_t stream) {
    size_t T = map->P + 1;
    if (B == 0) return;
    if (B * T > (size_t)INT_MAX) FATAL("use a smaller batch", "pathemb_forward_cuda: B*T too large (got %zu)", B * T);
    pathemb_forward_kernel<<<(unsigned)(B * T), 128, 0, stream>>>(
        out, xd, zemb, emb_w, emb_b, cls, map->path_ptr, map->member_gene, map->P, map->G, C);
    CUDA_LAUNCH_CHECK();
}

// tsum[j] = Σ_b dout[b,j]; demb_b[j] += tsum[j] (j < P), dcls += tsum[P].
__global__ void pathemb_tokensum_kernel(float *tsum, float *demb_b, float *dcls, const float *dout, size_t B,
                                        size_t P, size_t C) {
    size_t T = P + 1, j = blockIdx.x;
    for (size_t c = threadIdx.x; c < C; c += blockDim.x) {
        float s = 0.0f;
        for (size_t b = 0; b < B; b++) s += dout[(b * T + j) * C + c];
        tsum[j * C + c] = s;
        if (j < P) demb_b[j * C + c] += s;
        else dcls[c] += s;
    }
}

// One block per membership row r.
__global__ void pathemb_dw_kernel(float *demb_w, const float *tsum, const float *dout, const float *xd,
                                  const float *zero, const int32_t *member_gene, const int32_t *row_token, size_t B,
                                  size_t P, size_t G, size_t C) {
    size_t r = blockIdx.x, T = P + 1;
    size_t g = (size_t)member_gene[r], j = (size_t)row_token[r];
    float zg = zero[g];
    for (size_t c = threadIdx.x; c < C; c += blockDim.x) {
        float acc = demb_w[r * C + c];
        acc += zg * tsum[j * C + c];
        for (size_t b = 0; b < B; b++) {
            float d = xd[b * G + g];
            if (d != 0.0f) acc += d * dout[(b * T + j) * C + c];
        }
        demb_w[r * C + c] = acc;
    }
}

extern "C" void pathemb_backward_cuda(float *demb_w, float *demb_b, float *dcls, const float *dout, const float *xd,
                                      const float *zero, const PathwayMapCuda *map, size_t B, size_t C,
                                      cudaStream_t stream) {
    size_t P = map->P, T = P + 1;
    if (B == 0) return;
    float *tsum;  // (T,C)
    CUDA_CHECK(cudaMallocAsync((void **)&tsum, T * C * sizeof(float), stream));
    pathemb_tokensum_kernel<<<(unsigned)T, 128, 0, stream>>>(tsum, demb_b, dcls, dout, B, P, C);
    CUDA_LAUNCH_CHECK();
    if (map->M > 0) {
        pathemb_dw_kernel<<<(unsigned)map->M, 128, 0, stream>>>(demb_w, tsum, dout, xd, zero, map->member_gene,
                                                               map->row_token, B, P, map->G, C);
        CUDA_LAUNCH_CHECK();
    }
    CUDA_CHECK(cudaFreeAsync(tsum, stream));
}

// ---- LayerNorm: one warp per row

__global__ void layernorm_forward_kernel(float *out, float *mean, float *rstd, const float *in, const float *w,
                                         const float *b, size_t N, size_t C) {
    unsigned lane = threadIdx.x % 32;
    size_t nw = (size_t)gridDim.x * blockDim.x / 32;  // whole warps loop together (blockDim % 32 == 0)
    for (size_t row = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; row < N; row += nw) {
        const float *x = in + row * C;  // (C)
        float *o = out + row * C;       // (C)
        float m = 0.0f;
        for (size_t c = lane; c < C; c += 32) m += x[c];
        m = warp_sum(m) / (float)C;
        float v = 0.0f;
        for (size_t c = lane; c < C; c += 32) v += (x[c] - m) * (x[c] - m);
        v = warp_sum(v) / (float)C;
        float s = 1.0f / sqrtf(v + 1e-5f);
        for (size_t c = lane; c < C; c += 32) o[c] = (x[c] - m) * s * w[c] + b[c];
        if (lane == 0) {
            mean[row] = m;
            rstd[row] = s;
        }
    }
}

extern "C" void layernorm_forward_cuda(float *out, float *mean, float *rstd, const float *in, const float *w,
                                       const float *b, size_t N, size_t C, cudaStream_t stream) {
    if (N == 0) return;
    layernorm_forward_kernel<<<cuda_blocks(N * 32, 256), 256, 0, stream>>>(out, mean, rstd, in, w, b, N, C);
    CUDA_LAUNCH_CHECK();
}

// din: dx = s (dy w - mean(dy w) - xhat mean(dy w xhat)), one warp per row.
__global__ void layernorm_backward_din_kernel(float *din, const float *dout, const float *in, const float *mean,
                                              const float *rstd, const float *w, size_t N, size_t C) {
    unsigned lane = threadIdx.x % 32;
    size_t nw = (size_t)gridDim.x * blockDim.x / 32;
    for (size_t row = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; row < N; row += nw) {
        const float *x = in + row * C, *dy = dout + row * C;  // (C), (C)
        float *dx = din + row * C;                            // (C)
        float m = mean[row], s = rstd[row];
        float mdx = 0.0f, mdxx = 0.0f;
        for (size_t c = lane; c < C; c += 32) {
            float xh = (x[c] - m) * s, dxh = dy[c] * w[c];
            mdx += dxh;
            mdxx += dxh * xh;
        }
        mdx = warp_sum(mdx) / (float)C;
        mdxx = warp_sum(mdxx) / (float)C;
        for (size_t c = lane; c < C; c += 32) {
            float xh = (x[c] - m) * s;
            dx[c] += s * (dy[c] * w[c] - mdx - xh * mdxx);
        }
    }
}

// part[r, 0:C] = Σ dy xhat, part[r, C:2C] = Σ dy over chunk r of the rows.
__global__ void layernorm_backward_part_kernel(float *part, const float *dout, const float *in, const float *mean,
                                               const float *rstd, size_t N, size_t C, size_t rows) {
    size_t r = blockIdx.x, c = (size_t)blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    size_t n0 = r * rows, n1 = n0 + rows < N ? n0 + rows : N;
    float pw = 0.0f, pb = 0.0f;
    for (size_t n = n0; n < n1; n++) {
        float dy = dout[n * C + c], xh = (in[n * C + c] - mean[n]) * rstd[n];
        pw += dy * xh;
        pb += dy;
    }
    part[r * 2 * C + c] = pw;
    part[r * 2 * C + C + c] = pb;
}

extern "C" void layernorm_backward_cuda(float *din, float *dw, float *db, const float *dout, const float *in,
                                        const float *mean, const float *rstd, const float *w, size_t N, size_t C,
                                        cudaStream_t stream) {
    if (N == 0) return;
    layernorm_backward_din_kernel<<<cuda_blocks(N * 32, 256), 256, 0, stream>>>(din, dout, in, mean, rstd, w, N, C);
    CUDA_LAUNCH_CHECK();
    size_t rows = colsum_rows(N), R = (N + rows - 1) / rows;
    float *part;  // (R,2C)
    CUDA_CHECK(cudaMallocAsync((void **)&part, R * 2 * C * sizeof(float), stream));
    dim3 grid((unsigned)R, (unsigned)((C + 127) / 128));
    layernorm_backward_part_kernel<<<grid, 128, 0, stream>>>(part, dout, in, mean, rstd, N, C, rows);
    CUDA_LAUNCH_CHECK();
    colsum_finish_kernel<<<cuda_blocks(C, 128), 128, 0, stream>>>(dw, part, R, C, 2 * C);
    CUDA_LAUNCH_CHECK();
    colsum_finish_kernel<<<cuda_blocks(C, 128), 128, 0, stream>>>(db, part + C, R, C, 2 * C);
    CUDA_LAUNCH_CHECK();
    CUDA_CHECK(cudaFreeAsync(part, stream));
}

// ---- linear

__global__ void rows_fill_kernel(float *out, const float *b, size_t N, size_t OC) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < N * OC; i += (size_t)gridDim.x * blockDim.x)
        out[i] = b[i % OC];
}

extern "C" void linear_forward_cuda(float *out, const float *in, const float *w, const float *b, size_t N, size_t IC,
                                    size_t OC, cublasHandle_t blas, cudaStream_t stream) {
    if (N == 0) return;
    if (b) {
        rows_fill_kernel<<<cuda_blocks(N * OC, 256), 256, 0, stream>>>(out, b, N, OC);
        CUDA_LAUNCH_CHECK();
    }
    sgemm_rm_cuda(0, 1, N, OC, IC, 1.0f, in, IC, 0, w, IC, 0, b ? 1.0f : 0.0f, out, OC, 0, 1, blas, stream);
}

extern "C" void linear_backward_cuda(float *din, float *dw, float *db, const float *dout, const float *in,
                                     const float *w, size_t N, size_t IC, size_t OC, cublasHandle_t blas,
                                     cudaStream_t stream) {
    if (N == 0) return;
    if (din) sgemm_rm_cuda(0, 0, N, IC, OC, 1.0f, dout, OC, 0, w, IC, 0, 1.0f, din, IC, 0, 1, blas, stream);
    sgemm_rm_cuda(1, 0, OC, IC, N, 1.0f, dout, OC, 0, in, IC, 0, 1.0f, dw, IC, 0, 1, blas, stream);
    if (db) colsum_add_cuda(db, dout, N, OC, stream);
}

// ---- GELU

__global__ void gelu_forward_kernel(float *out, const float *in, size_t N) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < N; i += (size_t)gridDim.x * blockDim.x) {
        float x = in[i];
        out[i] = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    }
}

__global__ void gelu_backward_kernel(float *din, const float *dout, const float *in, size_t N) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < N; i += (size_t)gridDim.x * blockDim.x) {
        float x = in[i];
        float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * expf(-0.5f * x * x);
        din[i] += dout[i] * (cdf + x * pdf);
    }
}

extern "C" void gelu_forward_cuda(float *out, const float *in, size_t N, cudaStream_t stream) {
    if (N == 0) return;
    gelu_forward_kernel<<<cuda_blocks(N, 256), 256, 0, stream>>>(out, in, N);
    CUDA_LAUNCH_CHECK();
}

extern "C" void gelu_backward_cuda(float *din, const float *dout, const float *in, size_t N, cudaStream_t stream) {
    if (N == 0) return;
    gelu_backward_kernel<<<cuda_blocks(N, 256), 256, 0, stream>>>(din, dout, in, N);
    CUDA_LAUNCH_CHECK();
}

// ---- residual with inverted dropout

__global__ void residual_forward_kernel(float *out, uint8_t *keep, const float *res, const float *y,
                                        const int64_t *cell_ids, uint64_t seed, uint64_t stream_id, float p,
                                        float scale, size_t B, size_t N, size_t i0) {
    for (size_t k = (size_t)blockIdx.x * blockDim.x + threadIdx.x; k < B * N; k += (size_t)gridDim.x * blockDim.x) {
        if (p <= 0.0f) {
            out[k] = res[k] + y[k];
            continue;
        }
        size_t b = k / N, i = k % N;
        uint8_t kp = rng_uniform(seed, stream_id, (uint64_t)cell_ids[b], i0 + i) >= p;
        keep[k] = kp;
        out[k] = res[k] + (kp ? y[k] * scale : 0.0f);
    }
}

extern "C" void residual_forward_cuda(float *out, uint8_t *keep, const float *res, const float *y,
                                      const int64_t *cell_ids, uint64_t seed, uint64_t stream_id, float p, size_t B,
                                      size_t N, size_t i0, cudaStream_t stream) {
    if (B * N == 0) return;
    float scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
    residual_forward_kernel<<<cuda_blocks(B * N, 256), 256, 0, stream>>>(out, keep, res, y, cell_ids, seed, stream_id,
                                                                         p, scale, B, N, i0);
    CUDA_LAUNCH_CHECK();
}

__global__ void residual_backward_kernel(float *dres, float *dy, const float *dout, const uint8_t *keep, float p,
                                         float scale, size_t n) {
    for (size_t k = (size_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (size_t)gridDim.x * blockDim.x) {
        if (dres) dres[k] += dout[k];
        if (p <= 0.0f) dy[k] += dout[k];
        else if (keep[k]) dy[k] += dout[k] * scale;
    }
}

extern "C" void residual_backward_cuda(float *dres, float *dy, const float *dout, const uint8_t *keep, float p,
                                       size_t B, size_t N, cudaStream_t stream) {
    if (B * N == 0) return;
    float scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
    residual_backward_kernel<<<cuda_blocks(B * N, 256), 256, 0, stream>>>(dres, dy, dout, keep, p, scale, B * N);
    CUDA_LAUNCH_CHECK();
}

// ---- one token row per cell

__global__ void rows_gather_kernel(float *dst, const float *src, size_t B, size_t T, size_t C, size_t t) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < B * C; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = src[((i / C) * T + t) * C + i % C];
}

__global__ void rows_scatter_add_kernel(float *dst, const float *src, size_t B, size_t T, size_t C, size_t t) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < B * C; i += (size_t)gridDim.x * blockDim.x)
        dst[((i / C) * T + t) * C + i % C] += src[i];
}

extern "C" void rows_gather_cuda(float *dst, const float *src, size_t B, size_t T, size_t C, size_t t,
                                 cudaStream_t stream) {
    if (B * C == 0) return;
    rows_gather_kernel<<<cuda_blocks(B * C, 256), 256, 0, stream>>>(dst, src, B, T, C, t);
    CUDA_LAUNCH_CHECK();
}

extern "C" void rows_scatter_add_cuda(float *dst, const float *src, size_t B, size_t T, size_t C, size_t t,
                                      cudaStream_t stream) {
    if (B * C == 0) return;
    rows_scatter_add_kernel<<<cuda_blocks(B * C, 256), 256, 0, stream>>>(dst, src, B, T, C, t);
    CUDA_LAUNCH_CHECK();
}
