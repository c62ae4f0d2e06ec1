// optim_cuda: see optim_cuda.h.
#include <math.h>
#include <stdlib.h>

#include "kernels/cuda_check.h"
#include "kernels/optim_cuda.h"

// The update of adam_step (src/loss/optim.c) with each float operation rounded on its own.
__global__ void adam_kernel(float *params, const float *grads, float *m, float *v, size_t n, const uint8_t *mask,
                            float decay, float fb1, float omb1, float fb2, float omb2, float step_size,
                            float inv_sqrt_bc2, float eps) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float g = grads[i], p = params[i];
        if (decay != 0.0f && (!mask || mask[i])) p = __fsub_rn(p, __fmul_rn(decay, p));
        float mi = __fadd_rn(__fmul_rn(fb1, m[i]), __fmul_rn(omb1, g));
        float vi = __fadd_rn(__fmul_rn(fb2, v[i]), __fmul_rn(__fmul_rn(omb2, g), g));
        float den = __fadd_rn(__fmul_rn(__fsqrt_rn(vi), inv_sqrt_bc2), eps);
        params[i] = __fsub_rn(p, __fdiv_rn(__fmul_rn(step_size, mi), den));
        m[i] = mi;
        v[i] = vi;
    }
}

extern "C" void adam_step_cuda(float *params, const float *grads, float *m, float *v, size_t n, const AdamOptions *o,
                               float lr, uint64_t step, const uint8_t *decay_mask, cudaStream_t stream) {
    if (n == 0) return;
    // the constants exactly as adam_step computes them
    double b1 = o->beta1, b2 = o->beta2, t = (double)(step ? step : 1);
    double bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
    float step_size = (float)((double)lr / bc1);
    float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    float decay = o->adamw ? lr * o->weight_decay : 0.0f;
    float fb1 = o->beta1, fb2 = o->beta2;
    adam_kernel<<<cuda_blocks(n, 256), 256, 0, stream>>>(params, grads, m, v, n, decay_mask, decay, fb1, 1.0f - fb1,
                                                         fb2, 1.0f - fb2, step_size, inv_sqrt_bc2, o->eps);
    CUDA_LAUNCH_CHECK();
}

#define NORM_BLOCKS 256
#define NORM_THREADS 256

// part[blk] = Σ g² over the elements blk·T + t + k·(NORM_BLOCKS·T), summed in a fixed tree.
__global__ void sumsq_kernel(double *part, const float *g, size_t n) {
    __shared__ double sh[NORM_THREADS];
    double s = 0.0;
    for (size_t i = (size_t)blockIdx.x * NORM_THREADS + threadIdx.x; i < n; i += (size_t)NORM_BLOCKS * NORM_THREADS)
        s += (double)g[i] * (double)g[i];
    sh[threadIdx.x] = s;
    __syncthreads();
    for (unsigned w = NORM_THREADS / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) sh[threadIdx.x] += sh[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) part[blockIdx.x] = sh[0];
}

__global__ void scale_kernel(float *g, size_t n, float f) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        g[i] = __fmul_rn(g[i], f);
}

extern "C" double grad_clip_cuda(float *grads, size_t n, float clip_norm, cudaStream_t stream) {
    double *part, h[NORM_BLOCKS];
    CUDA_CHECK(cudaMallocAsync((void **)&part, NORM_BLOCKS * sizeof(double), stream));
    sumsq_kernel<<<NORM_BLOCKS, NORM_THREADS, 0, stream>>>(part, grads, n);
    CUDA_LAUNCH_CHECK();
    CUDA_CHECK(cudaMemcpyAsync(h, part, sizeof h, cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaFreeAsync(part, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    double ss = 0.0;
    for (int b = 0; b < NORM_BLOCKS; b++) ss += h[b];
    double norm = sqrt(ss);
    if (clip_norm > 0.0f && norm > (double)clip_norm && n > 0) {
        float f = (float)((double)clip_norm / (norm + 1e-6));
        scale_kernel<<<cuda_blocks(n, 256), 256, 0, stream>>>(grads, n, f);
        CUDA_LAUNCH_CHECK();
    }
    return norm;
}
