// attention_cuda: multi-head self-attention on the GPU (see layers_cuda.h), the twin of
// src/model/attention.c. The CPU loops over (cell, head) blocks; here each head is one strided-batched
// cuBLAS GEMM over all cells (q, k, v of head n sit at column n·HS of every qkv row, so the cells
// of one head are a constant stride T·3C apart), and the row softmax is one warp per query row.
// The probabilities live in a (B,NH,Tq,T) scratch; backward recomputes them, as the CPU does.
#include <math.h>

#include "kernels/cuda_check.h"
#include "kernels/layers_cuda.h"

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ float warp_sum_att(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// In-place softmax of n_rows rows of length T, one warp per row (as attention_probs on the CPU).
__global__ void softmax_rows_kernel(float *a, size_t n_rows, size_t T) {
    unsigned lane = threadIdx.x % 32;
    size_t nw = (size_t)gridDim.x * blockDim.x / 32;
    for (size_t i = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; i < n_rows; i += nw) {
        float *row = a + i * T;  // (T)
        float mx = -INFINITY;
        for (size_t j = lane; j < T; j += 32) mx = fmaxf(mx, row[j]);
        mx = warp_max(mx);
        float sum = 0.0f;
        for (size_t j = lane; j < T; j += 32) {
            float e = expf(row[j] - mx);
            row[j] = e;
            sum += e;
        }
        float inv = 1.0f / warp_sum_att(sum);
        for (size_t j = lane; j < T; j += 32) row[j] *= inv;
    }
}

// Softmax backward in place on da: da = a ⊙ (da − Σ_j a da), one warp per row.
__global__ void softmax_backward_kernel(float *da, const float *a, size_t n_rows, size_t T) {
    unsigned lane = threadIdx.x % 32;
    size_t nw = (size_t)gridDim.x * blockDim.x / 32;
    for (size_t i = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32; i < n_rows; i += nw) {
        const float *ar = a + i * T;  // (T)
        float *dr = da + i * T;       // (T)
        float dot = 0.0f;
        for (size_t j = lane; j < T; j += 32) dot += ar[j] * dr[j];
        dot = warp_sum_att(dot);
        for (size_t j = lane; j < T; j += 32) dr[j] = ar[j] * (dr[j] - dot);
    }
}

// attn_cls[b,j] = Σ_n att[b,n,Tq-1,j] / NH for j < T-1, heads in order (the CPU's order).
__global__ void attn_cls_kernel(float *attn_cls, const float *att, size_t B, size_t NH, size_t Tq, size_t T) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < B * (T - 1);
         i += (size_t)gridDim.x * blockDim.x) {
        size_t b = i / (T - 1), j = i % (T - 1);
        float s = 0.0f;
        for (size_t n = 0; n < NH; n++) s += att[((b * NH + n) * Tq + Tq - 1) * T + j] / (float)NH;
        attn_cls[i] = s;
    }
}

// att (B,NH,Tq,T) = softmax(scale q kᵀ) for every cell and head.
static void attention_probs_cuda(float *att, const float *qkv, size_t B, size_t T, size_t C, size_t NH, size_t q0,
                                 cublasHandle_t blas, cudaStream_t stream) {
    size_t HS = C / NH, Tq = T - q0, ld = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
    long long sx = (long long)(T * ld), sa = (long long)(NH * Tq * T);
    for (size_t n = 0; n < NH; n++)  // scores (Tq,T) = scale q (Tq,HS) · k (T,HS)ᵀ, batched over cells
        sgemm_rm_cuda(0, 1, Tq, T, HS, scale, qkv + q0 * ld + n * HS, ld, sx, qkv + C + n * HS, ld, sx, 0.0f,
                      att + n * Tq * T, T, sa, B, blas, stream);
    size_t rows = B * NH * Tq;
    softmax_rows_kernel<<<cuda_blocks(rows * 32, 256), 256, 0, stream>>>(att, rows, T);
    CUDA_LAUNCH_CHECK();
}

extern "C" void attention_forward_cuda(float *out, float *attn_cls, float *att, const float *qkv, size_t B, size_t T,
                                       size_t C, size_t NH, size_t q0, cublasHandle_t blas, cudaStream_t stream) {
    if (B == 0) return;
    size_t HS = C / NH, Tq = T - q0, ld = 3 * C;
    long long sx = (long long)(T * ld), sa = (long long)(NH * Tq * T), so = (long long)(Tq * C);
    attention_probs_cuda(att, qkv, B, T, C, NH, q0, blas, stream);
    for (size_t n = 0; n < NH; n++)  // y (Tq,HS) = a (Tq,T) · v (T,HS), into columns n·HS of out
        sgemm_rm_cuda(0, 0, Tq, HS, T, 1.0f, att + n * Tq * T, T, sa, qkv + 2 * C + n * HS, ld, sx, 0.0f,
                      out + n * HS, C, so, B, blas, stream);
    if (attn_cls) {
        attn_cls_kernel<<<cuda_blocks(B * (T - 1), 256), 256, 0, stream>>>(attn_cls, att, B, NH, Tq, T);
        CUDA_LAUNCH_CHECK();
    }
}

extern "C" void attention_backward_cuda(float *dqkv, float *att, float *datt, const float *dout, const float *qkv,
                                        size_t B, size_t T, size_t C, size_t NH, size_t q0, cublasHandle_t blas,
                                        cudaStream_t stream) {
    if (B == 0) return;
    size_t HS = C / NH, Tq = T - q0, ld = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
    long long sx = (long long)(T * ld), sa = (long long)(NH * Tq * T), so = (long long)(Tq * C);
    attention_probs_cuda(att, qkv, B, T, C, NH, q0, blas, stream);
    for (size_t n = 0; n < NH; n++) {
        const float *dy = dout + n * HS;  // (Tq,HS) row stride C
        // da (Tq,T) = dy · vᵀ ; dv (T,HS) += aᵀ · dy
        sgemm_rm_cuda(0, 1, Tq, T, HS, 1.0f, dy, C, so, qkv + 2 * C + n * HS, ld, sx, 0.0f, datt + n * Tq * T, T, sa, B,
                      blas, stream);
        sgemm_rm_cuda(1, 0, T, HS, Tq, 1.0f, att + n * Tq * T, T, sa, dy, C, so, 1.0f, dqkv + 2 * C + n * HS, ld, sx, B,
                      blas, stream);
    }
    size_t rows = B * NH * Tq;  // ds = a ⊙ (da − Σ a da)
    softmax_backward_kernel<<<cuda_blocks(rows * 32, 256), 256, 0, stream>>>(datt, att, rows, T);
    CUDA_LAUNCH_CHECK();
    for (size_t n = 0; n < NH; n++) {
        // dq (Tq,HS) += scale ds · k ; dk (T,HS) += scale dsᵀ · q
        sgemm_rm_cuda(0, 0, Tq, HS, T, scale, datt + n * Tq * T, T, sa, qkv + C + n * HS, ld, sx, 1.0f,
                      dqkv + q0 * ld + n * HS, ld, sx, B, blas, stream);
        sgemm_rm_cuda(1, 0, T, HS, Tq, scale, datt + n * Tq * T, T, sa, qkv + q0 * ld + n * HS, ld, sx, 1.0f,
                      dqkv + C + n * HS, ld, sx, B, blas, stream);
    }
}
