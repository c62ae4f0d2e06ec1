// gpu_stub: gpu.h in a build without CUDA. --device auto/cpu run on the CPU; --device cuda is a
// clear error; the model functions cannot be reached (no device model can exist) and say so if
// they are.
#include <string.h>

#include "core/log.h"
#include "kernels/gpu.h"

int gpu_choose_device(const char *device, const char *precision, const Dist *d) {
    (void)precision, (void)d;
    if (!strcmp(device, "cuda"))
        FATAL("rebuild kida with CUDA (./configure --with-cuda) or run with --device cpu",
              "--device cuda: this kida was built without CUDA");
    return GPU_NONE;
}

static _Noreturn void no_cuda(const char *what) {
    FATAL("internal error: the GPU path was entered in a build without CUDA", "%s called", what);
}

struct ModelCuda *model_cuda_new(const Model *host, int tf32, const uint8_t *decay_mask, const Dist *d) {
    (void)host, (void)tf32, (void)decay_mask, (void)d;
    no_cuda("model_cuda_new");
}

void model_cuda_delete(struct ModelCuda *mc) {
    if (mc) no_cuda("model_cuda_delete");
}

void model_cuda_zero_grad(struct ModelCuda *mc) { (void)mc, no_cuda("model_cuda_zero_grad"); }

void model_cuda_forward(struct ModelCuda *mc, const Csr *x, const int64_t *cell_ids, uint64_t step, uint64_t seed) {
    (void)mc, (void)x, (void)cell_ids, (void)step, (void)seed;
    no_cuda("model_cuda_forward");
}

const float *model_cuda_host_logits(const struct ModelCuda *mc) { (void)mc, no_cuda("model_cuda_host_logits"); }
const float *model_cuda_host_embedding(const struct ModelCuda *mc) { (void)mc, no_cuda("model_cuda_host_embedding"); }
const float *model_cuda_host_attn(const struct ModelCuda *mc) { (void)mc, no_cuda("model_cuda_host_attn"); }

void model_cuda_backward(struct ModelCuda *mc, const float *dlogits, const float *demb) {
    (void)mc, (void)dlogits, (void)demb;
    no_cuda("model_cuda_backward");
}

void model_cuda_allreduce_grads(struct ModelCuda *mc, const Dist *d) {
    (void)mc, (void)d;
    no_cuda("model_cuda_allreduce_grads");
}

double model_cuda_grad_clip(struct ModelCuda *mc, float clip_norm) {
    (void)mc, (void)clip_norm;
    no_cuda("model_cuda_grad_clip");
}

void model_cuda_adam_step(struct ModelCuda *mc, const AdamOptions *o, float lr, uint64_t step) {
    (void)mc, (void)o, (void)lr, (void)step;
    no_cuda("model_cuda_adam_step");
}

void model_cuda_download_params(struct ModelCuda *mc, Model *host) {
    (void)mc, (void)host;
    no_cuda("model_cuda_download_params");
}

void model_cuda_upload_params(struct ModelCuda *mc, const Model *host) {
    (void)mc, (void)host;
    no_cuda("model_cuda_upload_params");
}

void model_cuda_infer(float *logits, float *emb, float *attn, const ModelConfig *cfg, const PathwayMap *map,
                      const float *gene_zero, const float *params, const Csr *x, size_t batch, int tf32) {
    (void)logits, (void)emb, (void)attn, (void)cfg, (void)map, (void)gene_zero, (void)params, (void)x, (void)batch;
    (void)tf32;
    no_cuda("model_cuda_infer");
}
