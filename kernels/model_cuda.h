// model_cuda: the kida network on one GPU, a mirror of Model (src/model/model.h). The device holds the
// parameters, gradients and Adam m and v as flat buffers in exactly the host layout
// (model_param_shapes order), so uploads, downloads, checkpoints and the gradient all-reduce are
// each one contiguous copy or call. Activations use the host's ActTensors table (same fields,
// same slots, device pointers), and model_cuda_forward / model_cuda_backward call the CUDA twins
// in the same order as model_forward / model_backward, so the two read side by side.
//
// One ModelCuda per rank, on the device chosen with cuda_device_select (src: cuda_device.h) BEFORE
// model_cuda_init. Everything runs on the model's own stream; the calls below that hand results
// to the host (forward outputs, losses, norms, downloads) wait for it, the others are
// asynchronous. fp32 by default; model_cuda_set_tf32 lets cuBLAS use TF32 tensor cores.
#ifndef KIDA_MODEL_CUDA_H
#define KIDA_MODEL_CUDA_H
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "kernels/gpu.h"
#include "kernels/layers_cuda.h"
#include "loss/optim.h"
#include "model/model.h"
#include "mpi/dist.h"

struct NcclComm;  // kernels/nccl_comm.h (HAVE_NCCL builds)

typedef struct ModelCuda {  // tagged, so CPU-only headers can hold a `struct ModelCuda *`
    ModelConfig cfg;
    int training;            // as the host model: backward buffers, per-layer activations, dropout
    int tf32;                // 1: cuBLAS may use TF32 tensor cores
    int device;              // CUDA device the model lives on
    size_t max_B, n_params;
    // device buffers, host layout
    float *params;           // (n_params)
    ParamTensors p;
    float *grads;            // (n_params) training only
    ParamTensors g;
    float *adam_m, *adam_v;  // (n_params) training only
    uint8_t *decay_mask;     // (n_params) set by model_cuda_set_decay_mask, else NULL
    float *gene_zero;        // (G)
    PathwayMapCuda map;
    size_t n_acts;
    float *acts_mem;         // device activations, laid out as the host model's
    uint8_t *mask_mem;       // (L,2,max_B,T,C) dropout keep masks (training, dropout > 0)
    ActTensors a;            // device pointers
    float *att, *datt;       // (max_B,NH,T,T) attention probabilities and their gradient (training)
    float *xdense;           // (max_B,G) the batch's d values, densified on the device
    // the batch: device CSR and pinned host staging, grown on demand
    size_t nnz_cap;
    int64_t *d_indptr, *h_indptr;    // (max_B+1)
    int32_t *d_indices, *h_indices;  // (nnz_cap)
    float *d_data, *h_data;          // (nnz_cap)
    int64_t *d_cell_ids, *h_cell_ids;  // (max_B)
    float *d_dlogits, *d_demb;       // (max_B,K), (max_B,C) loss gradients, uploaded by backward
    float *h_stage;                  // pinned (max_B·max(K,C)) staging for those uploads
    float *h_grads;                  // pinned (n_params) for the host MPI all-reduce, lazily
    struct NcclComm *nccl;           // gradient all-reduce communicator, or NULL (MPI via the host)
    int own_nccl;                    // 1: made by model_cuda_new, freed with the model
    // outputs of the last forward, on the HOST (pinned), as Model.logits / embedding / attn
    float *logits;     // (max_B,K)
    float *embedding;  // (max_B,C)
    float *attn;       // (max_B,P)
    // the last forward
    size_t B;
    uint64_t step, seed;
    int have_ids;
    cudaStream_t stream;
    cublasHandle_t blas;
} ModelCuda;

// Builds the device twin of host: same config, batch capacity (host->max_B) and mode
// (host->training), the pathway map uploaded, then the host's parameters and zero vector (and
// Adam m and v when training) copied up. Selects no device: call cuda_device_select first.
// FATAL (with the GPU's message and a hint) when memory runs out, or when the device layout
// does not match the host model's (a change in src/model/model.c not mirrored here).
void model_cuda_init(ModelCuda *mc, const Model *host);
// The same without a host model: buffers for cfg (zero parameters), the map uploaded. For
// inference from a parameter array (model_cuda_set_weights), where a host Model's activations
// would only waste memory.
void model_cuda_create(ModelCuda *mc, const ModelConfig *cfg, const PathwayMap *map, size_t max_B, int training);
void model_cuda_free(ModelCuda *mc);
// 1: allow TF32 tensor-core GEMMs (about 10 bits of mantissa in the products); 0: strict fp32.
void model_cuda_set_tf32(ModelCuda *mc, int on);

// (gpu.h) model_cuda_upload_params: host -> device parameters and gene_zero, plus adam_m/adam_v
// when both models train; model_cuda_download_params: the reverse (parameters, m, v).
// Host -> device from plain arrays: params (n_params, host layout) and gene_zero (G).
void model_cuda_set_weights(ModelCuda *mc, const float *params, const float *gene_zero);
// Device -> host: gradients (training models).
void model_cuda_download_grads(ModelCuda *mc, Model *host);
// Uploads the AdamW decay mask (n_params bytes, from train_decay_mask); NULL removes it.
void model_cuda_set_decay_mask(ModelCuda *mc, const uint8_t *mask);

// (gpu.h) model_cuda_forward: forward over a host CSR batch (as model_forward): the batch is
// staged through pinned buffers and copied asynchronously, densified on the device, run, and the
// outputs copied back into mc->logits, mc->embedding and mc->attn (host), valid on return.
// cell_ids (host, B) key the dropout masks, as on the CPU.
// (gpu.h) model_cuda_zero_grad: one memset of the device gradients.
// (gpu.h) model_cuda_backward: backward of the last forward from HOST loss gradients (as
// model_backward): dlogits (B,K) and, if not NULL, demb (B,C) are uploaded, then gradients
// accumulate (+=) on the device.
// The same from DEVICE loss gradients (for losses computed on the GPU).
void model_cuda_backward_dev(ModelCuda *mc, const float *d_dlogits, const float *d_demb);
// Device outputs of the last forward, for losses on the GPU: (B,K), (B,C).
const float *model_cuda_logits_dev(const ModelCuda *mc);
const float *model_cuda_embedding_dev(const ModelCuda *mc);

// Sets the communicator model_cuda_allreduce_grads uses (borrowed; NULL: MPI through the host).
void model_cuda_set_nccl(ModelCuda *mc, struct NcclComm *nccl);
// (gpu.h) model_cuda_allreduce_grads: with a communicator, one ncclAllReduce on the model's
// stream; without, download, dist_allreduce_sum_f32, upload. No-op on 1 rank.
// (gpu.h) model_cuda_grad_clip: grad_clip of the device gradients; returns the norm before.
// (gpu.h) model_cuda_adam_step: adam_step on the device with the mask of model_cuda_set_decay_mask.
// Waits for everything queued on the model's stream.
void model_cuda_sync(ModelCuda *mc);
// (gpu.h) model_cuda_infer: inference over all rows of x on the current device (a device model
// is made and freed inside).
#endif
