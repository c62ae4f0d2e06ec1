// gpu: the GPU path as CPU code sees it (trainer, inference, commands). This header needs no CUDA
// headers and every build has these functions: a CUDA build implements them in model_cuda.c; a
// build without CUDA links kernels/gpu_stub.c, where gpu_choose_device returns 0 (CPU) for
// --device auto/cpu and is a clear error for --device cuda, and the model functions are never
// reached (they are fatal internal errors if they are). So callers need no #ifdef:
//     int gpu = gpu_choose_device(c->device, c->precision, d);   // once, at start-up
//     struct ModelCuda *g = gpu ? model_cuda_new(m, gpu == GPU_TF32, mask, d) : NULL;
//     if (g) model_cuda_forward(g, ...); else model_forward(m, ...);
// The device model mirrors Model (src/model/model.h); see kernels/model_cuda.h for its layout.
#ifndef KIDA_GPU_H
#define KIDA_GPU_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "loss/optim.h"
#include "model/model.h"
#include "mpi/dist.h"

struct ModelCuda;

enum { GPU_NONE = 0, GPU_FP32 = 1, GPU_TF32 = 2 };

// Resolves --device (auto|cpu|cuda) and --precision (fp32|tf32|bf16) on every rank (collective):
// GPU_NONE for the CPU; GPU_FP32 / GPU_TF32 when each rank runs on a GPU, in which case device
// local_rank % count is made current here. auto uses GPUs only when every rank sees one.
// FATAL: --device cuda in a build without CUDA or with no GPU on some rank; --precision bf16
// (not implemented on the GPU yet).
int gpu_choose_device(const char *device, const char *precision, const Dist *d);

// A training device twin of host (host->training must be 1): parameters and Adam state copied up,
// TF32 GEMMs if tf32, the AdamW decay mask (n_params bytes, or NULL: every element decays), and,
// when d->size > 1 and NCCL is built in, an NCCL communicator for the gradient all-reduce
// (collective over d then). Also used for an inference model (host->training 0; d may be NULL).
struct ModelCuda *model_cuda_new(const Model *host, int tf32, const uint8_t *decay_mask, const Dist *d);
void model_cuda_delete(struct ModelCuda *mc);  // NULL is fine

// One training step, as model_forward .. adam_step on the host (kernels/model_cuda.h has the
// details): the forward returns with the outputs on the host; losses are computed there from
// them; the backward takes the host loss gradients.
void model_cuda_zero_grad(struct ModelCuda *mc);
void model_cuda_forward(struct ModelCuda *mc, const Csr *x, const int64_t *cell_ids, uint64_t step, uint64_t seed);
const float *model_cuda_host_logits(const struct ModelCuda *mc);     // (B,K) of the last forward
const float *model_cuda_host_embedding(const struct ModelCuda *mc);  // (B,C)
const float *model_cuda_host_attn(const struct ModelCuda *mc);       // (B,P)
void model_cuda_backward(struct ModelCuda *mc, const float *dlogits, const float *demb);
// Sum of the device gradients over the ranks of d: NCCL when the model has a communicator, else
// through the host with dist_allreduce_sum_f32. No-op on one rank.
void model_cuda_allreduce_grads(struct ModelCuda *mc, const Dist *d);
double model_cuda_grad_clip(struct ModelCuda *mc, float clip_norm);
void model_cuda_adam_step(struct ModelCuda *mc, const AdamOptions *o, float lr, uint64_t step);
// Device <-> host copies of the parameters (and Adam m, v when both train): for checkpoints,
// hold-out evaluation and --debug-sync (download), and after loading a checkpoint (upload).
void model_cuda_download_params(struct ModelCuda *mc, Model *host);
void model_cuda_upload_params(struct ModelCuda *mc, const Model *host);

// Inference over all rows of x in batches of `batch` (the GPU twin of infer_rows' loop): logits
// (n,K) and, if not NULL, emb (n,C) and attn (n,P), host arrays, n = x->n_rows.
void model_cuda_infer(float *logits, float *emb, float *attn, const ModelConfig *cfg, const PathwayMap *map,
                      const float *gene_zero, const float *params, const Csr *x, size_t batch, int tf32);
#endif
