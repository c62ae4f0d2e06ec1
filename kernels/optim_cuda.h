// optim_cuda: CUDA twins of src/loss/optim.h (Adam / AdamW over one flat buffer, global-norm clipping).
// Device pointers; asynchronous on `stream` except grad_clip_cuda, which returns the norm.
#ifndef KIDA_OPTIM_CUDA_H
#define KIDA_OPTIM_CUDA_H
#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "loss/optim.h"

// One Adam/AdamW step with adam_step's exact formula and rounding: the per-step constants are
// formed on the host in double as the CPU forms them and every float operation is rounded
// separately (no fused multiply-add), so the result equals the CPU's bit for bit given the same
// gradients. decay_mask: n bytes on the device, or NULL (every element decays under AdamW).
void adam_step_cuda(float *params, const float *grads, float *m, float *v, size_t n, const AdamOptions *o, float lr,
                    uint64_t step, const uint8_t *decay_mask, cudaStream_t stream);

// Global L2 norm of grads in double, a fixed-shape tree reduction (the same bits on every run and
// every rank holding the same gradients); with clip_norm > 0 and the norm above it, grads are
// scaled by clip_norm / (norm + 1e-6). Returns the norm before clipping (waits for the stream).
double grad_clip_cuda(float *grads, size_t n, float clip_norm, cudaStream_t stream);
#ifdef __cplusplus
}
#endif
#endif
