// layers_cuda: CUDA twins of the CPU layers in src/model/layers.h (pathway embedding, LayerNorm, linear,
// GELU, residual + dropout, row gather/scatter, attention), fp32 throughout.
// Same contract as the CPU versions: argument order outputs, saved-for-backward, inputs, weights,
// dimensions; every backward ACCUMULATES (+=) into its gradients; every pointer is DEVICE memory
// unless a comment says otherwise. Calls are asynchronous on `stream` (the last argument); layers
// that use cuBLAS take the handle just before the stream and bind it to that stream. Reductions
// over rows (weight and bias gradients) are two-pass with a fixed split, so results do not depend
// on scheduling: the same inputs give the same bits on every run and every rank.
#ifndef KIDA_LAYERS_CUDA_H
#define KIDA_LAYERS_CUDA_H
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "model/pathmap.h"

// The pathway map on the device (int32 indices; M and P below 2^31).
typedef struct {
    size_t P, G, M;
    int32_t *path_ptr;     // (P+1) token j owns membership rows path_ptr[j] .. path_ptr[j+1]-1
    int32_t *member_gene;  // (M) gene of each membership row, ascending within a token
    int32_t *row_token;    // (M) token of each membership row
} PathwayMapCuda;

// Copies the host map to the device (synchronous). FATAL when M or G do not fit int32.
void pathmap_cuda_upload(PathwayMapCuda *d, const PathwayMap *m);
void pathmap_cuda_free(PathwayMapCuda *d);

// ---- GEMM helper: row-major, strided batched. C (M,N) = alpha op(A) op(B) + beta C for `batch`
// matrices at strides sA, sB, sC (elements); op transposes when ta / tb is nonzero. lda, ldb, ldc
// are row strides of the matrices as stored (row-major).
void sgemm_rm_cuda(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                   long long sA, const float *B, size_t ldb, long long sB, float beta, float *C, size_t ldc,
                   long long sC, size_t batch, cublasHandle_t blas, cudaStream_t stream);

// ---- the batch: a CSR block of rows (device copies of indptr starting at 0, indices, data)
// written into a dense (B,G) matrix of d values (zero where a gene is not stored).
void csr_densify_cuda(float *xd,               // (B,G)
                      const int64_t *indptr,   // (B+1) indptr[0] == 0
                      const int32_t *indices,  // (nnz)
                      const float *data,       // (nnz)
                      size_t B, size_t G, cudaStream_t stream);

// ---- pathway embedding (pathemb_* in src/model/layers.h)
// zemb[j] = Σ_{r∈rows(j)} zero[g_r] emb_w[r].
void pathemb_zero_forward_cuda(float *zemb,         // (P,C)
                               const float *zero,   // (G)
                               const float *emb_w,  // (M,C)
                               const PathwayMapCuda *map, size_t C, cudaStream_t stream);
// out[b,j] = emb_b[j] + zemb[j] + Σ_{r∈rows(j)} xd[b,g_r] emb_w[r] (rows whose gene is zero in cell b
// are skipped), out[b,P] = cls. One block per (cell, token) gathers its membership rows in the
// CPU's order (ascending gene), so no atomics are needed.
void pathemb_forward_cuda(float *out,           // (B,T,C), T = P+1
                          const float *xd,      // (B,G) dense d values of the batch
                          const float *zemb,    // (P,C)
                          const float *emb_w,   // (M,C)
                          const float *emb_b,   // (P,C)
                          const float *cls,     // (C)
                          const PathwayMapCuda *map, size_t B, size_t C, cudaStream_t stream);
// demb_b[j] += Σ_b dout[b,j]; dcls += Σ_b dout[b,P];
// demb_w[r] += zero[g_r] Σ_b dout[b,token(r)] + Σ_b xd[b,g_r] dout[b,token(r)].
// A segmented reduction: each membership row sums over the batch itself (no atomics).
void pathemb_backward_cuda(float *demb_w,       // (M,C)
                           float *demb_b,       // (P,C)
                           float *dcls,         // (C)
                           const float *dout,   // (B,T,C)
                           const float *xd,     // (B,G)
                           const float *zero,   // (G)
                           const PathwayMapCuda *map, size_t B, size_t C, cudaStream_t stream);

// ---- LayerNorm over the last dimension, eps 1e-5, biased variance
void layernorm_forward_cuda(float *out, float *mean, float *rstd,  // (N,C), (N), (N)
                            const float *in,                      // (N,C)
                            const float *w, const float *b,       // (C), (C)
                            size_t N, size_t C, cudaStream_t stream);
void layernorm_backward_cuda(float *din, float *dw, float *db,     // (N,C), (C), (C)
                             const float *dout, const float *in,   // (N,C), (N,C)
                             const float *mean, const float *rstd, // (N), (N)
                             const float *w,                       // (C)
                             size_t N, size_t C, cudaStream_t stream);

// ---- linear: out = in wᵀ + b via cuBLAS (b may be NULL)
void linear_forward_cuda(float *out,            // (N,OC)
                         const float *in,       // (N,IC)
                         const float *w,        // (OC,IC)
                         const float *b,        // (OC) or NULL
                         size_t N, size_t IC, size_t OC, cublasHandle_t blas, cudaStream_t stream);
// din and db may be NULL.
void linear_backward_cuda(float *din,           // (N,IC)
                          float *dw,            // (OC,IC)
                          float *db,            // (OC)
                          const float *dout,    // (N,OC)
                          const float *in,      // (N,IC)
                          const float *w,       // (OC,IC)
                          size_t N, size_t IC, size_t OC, cublasHandle_t blas, cudaStream_t stream);
// Column sums: out (W) += Σ_n in[n,:] over N rows (two-pass, deterministic).
void colsum_add_cuda(float *out, const float *in, size_t N, size_t W, cudaStream_t stream);

// ---- GELU, exact erf form; gelu_forward_cuda may run in place
void gelu_forward_cuda(float *out, const float *in, size_t N, cudaStream_t stream);
void gelu_backward_cuda(float *din, const float *dout, const float *in, size_t N, cudaStream_t stream);

// ---- residual with inverted dropout (residual_forward in src/model/layers.h): the mask element of
// (cell_ids[b], i0 + i) is the CPU's exactly. keep and cell_ids may be NULL when p == 0.
void residual_forward_cuda(float *out,               // (B,N) may equal res
                           uint8_t *keep,            // (B,N)
                           const float *res,         // (B,N)
                           const float *y,           // (B,N)
                           const int64_t *cell_ids,  // (B) device
                           uint64_t seed, uint64_t stream_id, float p, size_t B, size_t N, size_t i0,
                           cudaStream_t stream);
void residual_backward_cuda(float *dres,             // (B,N) or NULL
                            float *dy,               // (B,N)
                            const float *dout,       // (B,N)
                            const uint8_t *keep,     // (B,N) or NULL when p == 0
                            float p, size_t B, size_t N, cudaStream_t stream);

// ---- one token row per cell
void rows_gather_cuda(float *dst, const float *src, size_t B, size_t T, size_t C, size_t t,  // (B,C) <- (B,T,C)
                      cudaStream_t stream);
void rows_scatter_add_cuda(float *dst, const float *src, size_t B, size_t T, size_t C, size_t t,  // (B,T,C) += (B,C)
                           cudaStream_t stream);

// ---- multi-head self-attention, queries q0..T-1 (attention_forward in src/model/layers.h). Per head,
// strided-batched cuBLAS GEMMs over the cells: scores = q kᵀ / sqrt(HS), row softmax, y = a v.
// att is scratch for the probabilities, (B,NH,Tq,T) with Tq = T - q0; it holds them on return.
void attention_forward_cuda(float *out,          // (B,Tq,C)
                            float *attn_cls,     // (B,T-1) or NULL: mean over heads of query row T-1
                            float *att,          // (B,NH,Tq,T) scratch
                            const float *qkv,    // (B,T,3C)
                            size_t B, size_t T, size_t C, size_t NH, size_t q0, cublasHandle_t blas,
                            cudaStream_t stream);
// Recomputes the probabilities into att, their gradient into datt (scratch of the same shape).
// Rows < q0 of the q part of dqkv are left untouched.
void attention_backward_cuda(float *dqkv,        // (B,T,3C)
                             float *att,         // (B,NH,Tq,T) scratch
                             float *datt,        // (B,NH,Tq,T) scratch
                             const float *dout,  // (B,Tq,C)
                             const float *qkv,   // (B,T,3C)
                             size_t B, size_t T, size_t C, size_t NH, size_t q0, cublasHandle_t blas,
                             cudaStream_t stream);
#ifdef __cplusplus
}
#endif
#endif
