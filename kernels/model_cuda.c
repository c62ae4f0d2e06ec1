// model_cuda: the device model (see model_cuda.h). Compiled as C by the MPI compiler; the kernels
// live in the .cu files behind layers_cuda.h, losses_cuda.h and optim_cuda.h.
#include "kernels/model_cuda.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/log.h"
#include "kernels/cuda_check.h"
#include "kernels/cuda_device.h"
#include "kernels/optim_cuda.h"
#ifdef HAVE_NCCL
#include "kernels/nccl_comm.h"
#endif

// ---- buffers

// Zeroed device memory. The memset runs on the legacy default stream, which the model's
// non-blocking stream does not wait for, so it is finished here before anything is queued.
static void *dev_alloc(size_t bytes) {
    void *p = NULL;
    CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
    CUDA_CHECK(cudaMemset(p, 0, bytes ? bytes : 1));
    CUDA_CHECK(cudaDeviceSynchronize());
    return p;
}

static void *host_pinned(size_t bytes) {
    void *p = NULL;
    CUDA_CHECK(cudaMallocHost(&p, bytes ? bytes : 1));
    memset(p, 0, bytes ? bytes : 1);
    return p;
}

void model_cuda_create(ModelCuda *mc, const ModelConfig *cfg, const PathwayMap *map, size_t max_B, int training) {
    memset(mc, 0, sizeof *mc);
    const ModelConfig *c = cfg;
    if (c->T != c->P + 1 || c->C == 0 || c->NH == 0 || c->C % c->NH != 0 || map->P != c->P || map->G != c->G ||
        map->M != c->M)
        FATAL("internal error: build the device model from a config model_init accepts",
              "model_cuda_create: inconsistent config (T %zu, P %zu, C %zu, NH %zu; map P/G/M %zu/%zu/%zu vs %zu/%zu/%zu)",
              c->T, c->P, c->C, c->NH, map->P, map->G, map->M, c->P, c->G, c->M);
    if (max_B == 0 || max_B * c->T * 3 * c->C > (size_t)2147483647 / 4)
        FATAL("use a smaller batch", "model_cuda_create: bad batch capacity for cuBLAS int sizes (got max_B = %zu)", max_B);
    mc->cfg = *c;
    mc->training = training ? 1 : 0;
    mc->max_B = max_B;
    CUDA_CHECK(cudaGetDevice(&mc->device));
    // the layers take small scratch buffers from the stream-ordered pool: keep freed memory in
    // the pool instead of returning it to the driver at every synchronisation
    cudaMemPool_t pool;
    CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, mc->device));
    uint64_t keep = UINT64_MAX;
    CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
    CUDA_CHECK(cudaStreamCreateWithFlags(&mc->stream, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&mc->blas));
    CUBLAS_CHECK(cublasSetStream(mc->blas, mc->stream));
    model_cuda_set_tf32(mc, 0);

    size_t B = mc->max_B, T = c->T, C = c->C;
    mc->n_params = model_param_layout(&mc->p, NULL, c);
    mc->params = dev_alloc(mc->n_params * sizeof(float));
    model_param_layout(&mc->p, mc->params, c);
    if (mc->training) {
        mc->grads = dev_alloc(mc->n_params * sizeof(float));
        model_param_layout(&mc->g, mc->grads, c);
        mc->adam_m = dev_alloc(mc->n_params * sizeof(float));
        mc->adam_v = dev_alloc(mc->n_params * sizeof(float));
        if (c->dropout > 0.0f) mc->mask_mem = dev_alloc(c->L * 2 * B * T * C);
    }
    mc->a.mask = mc->mask_mem;
    mc->n_acts = model_act_layout(&mc->a, NULL, c, B, mc->training);
    mc->acts_mem = dev_alloc(mc->n_acts * sizeof(float));
    model_act_layout(&mc->a, mc->acts_mem, c, B, mc->training);
    mc->att = dev_alloc(B * c->NH * T * T * sizeof(float));
    if (mc->training) mc->datt = dev_alloc(B * c->NH * T * T * sizeof(float));
    mc->gene_zero = dev_alloc(c->G * sizeof(float));
    mc->xdense = dev_alloc(B * c->G * sizeof(float));
    pathmap_cuda_upload(&mc->map, map);

    mc->d_indptr = dev_alloc((B + 1) * sizeof(int64_t));
    mc->h_indptr = host_pinned((B + 1) * sizeof(int64_t));
    mc->d_cell_ids = dev_alloc(B * sizeof(int64_t));
    mc->h_cell_ids = host_pinned(B * sizeof(int64_t));
    if (mc->training) {
        mc->d_dlogits = dev_alloc(B * c->K * sizeof(float));
        mc->d_demb = dev_alloc(B * C * sizeof(float));
        mc->h_stage = host_pinned(B * (c->K + C) * sizeof(float));
    }
    mc->logits = host_pinned(B * c->K * sizeof(float));
    mc->embedding = host_pinned(B * C * sizeof(float));
    mc->attn = host_pinned(B * c->P * sizeof(float));
}

void model_cuda_init(ModelCuda *mc, const Model *host) {
    model_cuda_create(mc, &host->cfg, host->map, host->max_B, host->training);
    if (mc->n_params != host->n_params)
        FATAL("internal error: kernels/model_cuda.c is out of date with src/model/model.c",
              "device parameter layout (got %zu floats, want %zu)", mc->n_params, host->n_params);
    if (mc->n_acts != host->n_acts)
        FATAL("internal error: kernels/model_cuda.c is out of date with src/model/model.c",
              "device activation layout (got %zu floats, want %zu)", mc->n_acts, host->n_acts);
    model_cuda_upload_params(mc, host);
}

void model_cuda_free(ModelCuda *mc) {
    if (mc->stream) cudaStreamSynchronize(mc->stream);
#ifdef HAVE_NCCL
    if (mc->own_nccl && mc->nccl) {
        nccl_comm_free(mc->nccl);
        free(mc->nccl);
    }
#endif
    void *dev[] = {mc->params, mc->grads, mc->adam_m, mc->adam_v, mc->decay_mask, mc->gene_zero, mc->acts_mem,
                   mc->mask_mem, mc->att, mc->datt, mc->xdense, mc->d_indptr, mc->d_indices, mc->d_data,
                   mc->d_cell_ids, mc->d_dlogits, mc->d_demb};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) cudaFree(dev[i]);
    void *pinned[] = {mc->h_indptr, mc->h_indices, mc->h_data, mc->h_cell_ids, mc->h_stage, mc->h_grads,
                      mc->logits, mc->embedding, mc->attn};
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) cudaFreeHost(pinned[i]);
    pathmap_cuda_free(&mc->map);
    if (mc->blas) cublasDestroy(mc->blas);
    if (mc->stream) cudaStreamDestroy(mc->stream);
    memset(mc, 0, sizeof *mc);
}

void model_cuda_set_tf32(ModelCuda *mc, int on) {
    mc->tf32 = on ? 1 : 0;
    CUBLAS_CHECK(cublasSetMathMode(mc->blas, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
}

static void check_same_shape(const ModelCuda *mc, const Model *host, const char *what) {
    if (host->n_params != mc->n_params || host->cfg.G != mc->cfg.G)
        FATAL("internal error: host and device models have different configs",
              "%s: parameter count (got %zu, want %zu)", what, host->n_params, mc->n_params);
}

void model_cuda_upload_params(ModelCuda *mc, const Model *host) {
    check_same_shape(mc, host, "model_cuda_upload_params");
    CUDA_CHECK(cudaStreamSynchronize(mc->stream));  // nothing queued may still read the old values
    size_t bytes = mc->n_params * sizeof(float);
    CUDA_CHECK(cudaMemcpy(mc->params, host->params, bytes, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(mc->gene_zero, host->gene_zero, mc->cfg.G * sizeof(float), cudaMemcpyHostToDevice));
    if (mc->training && host->training) {
        CUDA_CHECK(cudaMemcpy(mc->adam_m, host->adam_m, bytes, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(mc->adam_v, host->adam_v, bytes, cudaMemcpyHostToDevice));
    }
    // a pageable upload may return before its DMA ends, and the model's stream does not wait for
    // the default stream: finish here
    CUDA_CHECK(cudaDeviceSynchronize());
}

void model_cuda_set_weights(ModelCuda *mc, const float *params, const float *gene_zero) {
    CUDA_CHECK(cudaStreamSynchronize(mc->stream));
    CUDA_CHECK(cudaMemcpy(mc->params, params, mc->n_params * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(mc->gene_zero, gene_zero, mc->cfg.G * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaDeviceSynchronize());
}

void model_cuda_download_params(ModelCuda *mc, Model *host) {
    check_same_shape(mc, host, "model_cuda_download_params");
    size_t bytes = mc->n_params * sizeof(float);
    CUDA_CHECK(cudaStreamSynchronize(mc->stream));
    CUDA_CHECK(cudaMemcpy(host->params, mc->params, bytes, cudaMemcpyDeviceToHost));
    if (mc->training && host->training) {
        CUDA_CHECK(cudaMemcpy(host->adam_m, mc->adam_m, bytes, cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(host->adam_v, mc->adam_v, bytes, cudaMemcpyDeviceToHost));
    }
}

void model_cuda_download_grads(ModelCuda *mc, Model *host) {
    check_same_shape(mc, host, "model_cuda_download_grads");
    if (!mc->training || !host->grads) FATAL("internal error", "model_cuda_download_grads on a model without gradients");
    CUDA_CHECK(cudaStreamSynchronize(mc->stream));
    CUDA_CHECK(cudaMemcpy(host->grads, mc->grads, mc->n_params * sizeof(float), cudaMemcpyDeviceToHost));
}

void model_cuda_set_decay_mask(ModelCuda *mc, const uint8_t *mask) {
    CUDA_CHECK(cudaStreamSynchronize(mc->stream));
    if (!mask) {
        CUDA_CHECK(cudaFree(mc->decay_mask));
        mc->decay_mask = NULL;
        return;
    }
    if (!mc->decay_mask) mc->decay_mask = dev_alloc(mc->n_params);
    CUDA_CHECK(cudaMemcpy(mc->decay_mask, mask, mc->n_params, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaDeviceSynchronize());
}

// ---- the batch

// Copies x (and the cell ids) into the pinned staging buffers and queues their upload.
static void stage_batch(ModelCuda *mc, const Csr *x, const int64_t *cell_ids) {
    size_t B = x->n_rows, G = mc->cfg.G;
    int64_t lo = x->indptr[0];
    size_t nnz = (size_t)(x->indptr[B] - lo);
    if (nnz > mc->nnz_cap) {  // grow; the stream is idle here (every forward ends synchronised)
        size_t cap = nnz + nnz / 2 + 1024;
        cudaFree(mc->d_indices);
        cudaFree(mc->d_data);
        cudaFreeHost(mc->h_indices);
        cudaFreeHost(mc->h_data);
        mc->d_indices = dev_alloc(cap * sizeof(int32_t));
        mc->d_data = dev_alloc(cap * sizeof(float));
        mc->h_indices = host_pinned(cap * sizeof(int32_t));
        mc->h_data = host_pinned(cap * sizeof(float));
        mc->nnz_cap = cap;
    }
    for (size_t b = 0; b <= B; b++) mc->h_indptr[b] = x->indptr[b] - lo;
    if (nnz) {
        memcpy(mc->h_indices, x->indices + lo, nnz * sizeof(int32_t));
        memcpy(mc->h_data, x->data + lo, nnz * sizeof(float));
    }
    for (size_t k = 0; k < nnz; k++)  // a bad index would write outside the dense batch on the GPU
        if (mc->h_indices[k] < 0 || (size_t)mc->h_indices[k] >= G)
            FATAL("internal error: the batch was built for other genes",
                  "model_cuda_forward: gene index out of range at nonzero %zu (got %d, want < %zu)", k,
                  (int)mc->h_indices[k], G);
    cudaStream_t s = mc->stream;
    CUDA_CHECK(cudaMemcpyAsync(mc->d_indptr, mc->h_indptr, (B + 1) * sizeof(int64_t), cudaMemcpyHostToDevice, s));
    if (nnz) {
        CUDA_CHECK(cudaMemcpyAsync(mc->d_indices, mc->h_indices, nnz * sizeof(int32_t), cudaMemcpyHostToDevice, s));
        CUDA_CHECK(cudaMemcpyAsync(mc->d_data, mc->h_data, nnz * sizeof(float), cudaMemcpyHostToDevice, s));
    }
    if (cell_ids) {
        memcpy(mc->h_cell_ids, cell_ids, B * sizeof(int64_t));
        CUDA_CHECK(cudaMemcpyAsync(mc->d_cell_ids, mc->h_cell_ids, B * sizeof(int64_t), cudaMemcpyHostToDevice, s));
    }
}

// Slot l of a per-layer activation of n floats per layer (one shared slot in inference).
static float *slot(const ModelCuda *mc, float *base, size_t l, size_t n) { return base + (mc->training ? l * n : 0); }

// ---- forward: model_forward, line for line

void model_cuda_forward(ModelCuda *mc, const Csr *x, const int64_t *cell_ids, uint64_t step, uint64_t seed) {
    const ModelConfig *c = &mc->cfg;
    const ParamTensors *p = &mc->p;
    ActTensors *a = &mc->a;
    size_t B = x->n_rows, P = c->P, T = c->T, C = c->C, F = c->F, L = c->L, BT = B * T;
    cudaStream_t s = mc->stream;
    cublasHandle_t h = mc->blas;
    if (x->n_cols != c->G)
        FATAL("give the model its own genes (the reference's model genes, in order)",
              "model_cuda_forward: input has the wrong gene count (got %zu, want %zu)", x->n_cols, c->G);
    if (B == 0 || B > mc->max_B)
        FATAL("internal error: batch larger than the model was sized for",
              "model_cuda_forward: bad batch size (got %zu, want 1..%zu)", B, mc->max_B);
    float pdrop = mc->training ? c->dropout : 0.0f;
    if (pdrop > 0.0f && !cell_ids) FATAL("internal error", "model_cuda_forward: dropout needs cell ids (got NULL)");
    mc->B = B;
    mc->step = step;
    mc->seed = seed;
    mc->have_ids = cell_ids != NULL;
    stage_batch(mc, x, pdrop > 0.0f ? cell_ids : NULL);
    const int64_t *ids = pdrop > 0.0f ? mc->d_cell_ids : NULL;

    csr_densify_cuda(mc->xdense, mc->d_indptr, mc->d_indices, mc->d_data, B, c->G, s);
    pathemb_zero_forward_cuda(a->zemb, mc->gene_zero, p->emb_w, &mc->map, C, s);
    pathemb_forward_cuda(a->resid, mc->xdense, a->zemb, p->emb_w, p->emb_b, p->cls, &mc->map, B, C, s);
    for (size_t l = 0; l < L; l++) {
        int last = l + 1 == L;  // the last layer only needs the cls row after its qkv projection
        size_t q0 = last ? P : 0, Tq = T - q0, n = B * Tq;
        float *xin = slot(mc, a->resid, l, BT * C), *xout = slot(mc, a->resid, l + 1, BT * C);
        float *mid = slot(mc, a->mid, l, BT * C), *ln1 = slot(mc, a->ln1, l, BT * C);
        float *ln1_mean = slot(mc, a->ln1_mean, l, BT), *ln1_rstd = slot(mc, a->ln1_rstd, l, BT);
        float *qkv = slot(mc, a->qkv, l, BT * 3 * C), *atty = slot(mc, a->atty, l, BT * C);
        float *ln2 = slot(mc, a->ln2, l, BT * C);
        float *ln2_mean = slot(mc, a->ln2_mean, l, BT), *ln2_rstd = slot(mc, a->ln2_rstd, l, BT);
        float *fch = slot(mc, a->fch, l, BT * F), *fch_gelu = slot(mc, a->fch_gelu, l, BT * F);
        uint8_t *keep0 = pdrop > 0.0f ? a->mask + (2 * l) * mc->max_B * T * C : NULL;
        uint8_t *keep1 = pdrop > 0.0f ? a->mask + (2 * l + 1) * mc->max_B * T * C : NULL;

        layernorm_forward_cuda(ln1, ln1_mean, ln1_rstd, xin, p->ln1_w + l * C, p->ln1_b + l * C, BT, C, s);
        linear_forward_cuda(qkv, ln1, p->qkv_w + l * 3 * C * C, p->qkv_b + l * 3 * C, BT, C, 3 * C, h, s);
        attention_forward_cuda(atty, last ? a->attn : NULL, mc->att, qkv, B, T, C, c->NH, q0, h, s);
        linear_forward_cuda(a->proj, atty, p->proj_w + l * C * C, p->proj_b + l * C, n, C, C, h, s);
        const float *res = xin;
        if (last) {
            rows_gather_cuda(mid, xin, B, T, C, P, s);
            res = mid;
        }
        residual_forward_cuda(mid, keep0, res, a->proj, ids, seed, model_dropout_stream(step, l, 0), pdrop, B, Tq * C,
                              q0 * C, s);
        layernorm_forward_cuda(ln2, ln2_mean, ln2_rstd, mid, p->ln2_w + l * C, p->ln2_b + l * C, n, C, s);
        linear_forward_cuda(fch, ln2, p->fc1_w + l * F * C, p->fc1_b + l * F, n, C, F, h, s);
        gelu_forward_cuda(fch_gelu, fch, n * F, s);
        linear_forward_cuda(a->proj, fch_gelu, p->fc2_w + l * C * F, p->fc2_b + l * C, n, F, C, h, s);
        residual_forward_cuda(xout, keep1, mid, a->proj, ids, seed, model_dropout_stream(step, l, 1), pdrop, B,
                              Tq * C, q0 * C, s);
    }
    const float *xl = slot(mc, a->resid, L, BT * C);  // (B,C) the cls rows after the last layer
    layernorm_forward_cuda(a->embedding, a->lnf_mean, a->lnf_rstd, xl, p->lnf_w, p->lnf_b, B, C, s);
    linear_forward_cuda(a->h1, a->embedding, p->head1_w, p->head1_b, B, C, C, h, s);
    gelu_forward_cuda(a->h1_gelu, a->h1, B * C, s);
    linear_forward_cuda(a->logits, a->h1_gelu, p->head2_w, p->head2_b, B, C, c->K, h, s);

    CUDA_CHECK(cudaMemcpyAsync(mc->logits, a->logits, B * c->K * sizeof(float), cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaMemcpyAsync(mc->embedding, a->embedding, B * C * sizeof(float), cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaMemcpyAsync(mc->attn, a->attn, B * P * sizeof(float), cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
}

const float *model_cuda_logits_dev(const ModelCuda *mc) { return mc->a.logits; }
const float *model_cuda_host_logits(const ModelCuda *mc) { return mc->logits; }
const float *model_cuda_host_embedding(const ModelCuda *mc) { return mc->embedding; }
const float *model_cuda_host_attn(const ModelCuda *mc) { return mc->attn; }
const float *model_cuda_embedding_dev(const ModelCuda *mc) { return mc->a.embedding; }

void model_cuda_zero_grad(ModelCuda *mc) {
    if (mc->grads) CUDA_CHECK(cudaMemsetAsync(mc->grads, 0, mc->n_params * sizeof(float), mc->stream));
}

static void zero(ModelCuda *mc, float *x, size_t n) {
    CUDA_CHECK(cudaMemsetAsync(x, 0, n * sizeof(float), mc->stream));
}

void model_cuda_backward(ModelCuda *mc, const float *dlogits, const float *demb) {
    if (!mc->training) FATAL("internal error", "model_cuda_backward on a model built for inference (training = 0)");
    size_t B = mc->B, K = mc->cfg.K, C = mc->cfg.C;
    CUDA_CHECK(cudaStreamSynchronize(mc->stream));  // the staging buffer may still feed a copy
    memcpy(mc->h_stage, dlogits, B * K * sizeof(float));
    CUDA_CHECK(cudaMemcpyAsync(mc->d_dlogits, mc->h_stage, B * K * sizeof(float), cudaMemcpyHostToDevice, mc->stream));
    if (demb) {
        memcpy(mc->h_stage + B * K, demb, B * C * sizeof(float));
        CUDA_CHECK(cudaMemcpyAsync(mc->d_demb, mc->h_stage + B * K, B * C * sizeof(float), cudaMemcpyHostToDevice,
                                   mc->stream));
    }
    model_cuda_backward_dev(mc, mc->d_dlogits, demb ? mc->d_demb : NULL);
}

// ---- backward: model_backward, line for line

void model_cuda_backward_dev(ModelCuda *mc, const float *dlogits, const float *demb) {
    if (!mc->training) FATAL("internal error", "model_cuda_backward on a model built for inference (training = 0)");
    if (mc->B == 0) FATAL("internal error", "model_cuda_backward before model_cuda_forward");
    const ModelConfig *c = &mc->cfg;
    const ParamTensors *p = &mc->p, *g = &mc->g;
    ActTensors *a = &mc->a;
    size_t B = mc->B, P = c->P, T = c->T, C = c->C, F = c->F, L = c->L, BT = B * T;
    float pdrop = c->dropout;
    cudaStream_t s = mc->stream;
    cublasHandle_t h = mc->blas;

    // head: logits = GELU(e W1ᵀ + b1) W2ᵀ + b2
    float *dh1g = a->dhead, *dh1 = a->dhead + B * C, *de = a->dcls;  // (B,C) each
    zero(mc, a->dhead, 2 * B * C);
    linear_backward_cuda(dh1g, g->head2_w, g->head2_b, dlogits, a->h1_gelu, p->head2_w, B, C, c->K, h, s);
    gelu_backward_cuda(dh1, dh1g, a->h1, B * C, s);
    if (demb) CUDA_CHECK(cudaMemcpyAsync(de, demb, B * C * sizeof(float), cudaMemcpyDeviceToDevice, s));
    else zero(mc, de, B * C);
    linear_backward_cuda(de, g->head1_w, g->head1_b, dh1, a->embedding, p->head1_w, B, C, C, h, s);
    // final LayerNorm of the cls rows: dx (B,C) into dhead's first half
    float *dx = a->dhead;
    zero(mc, dx, B * C);
    layernorm_backward_cuda(dx, g->lnf_w, g->lnf_b, de, slot(mc, a->resid, L, BT * C), a->lnf_mean, a->lnf_rstd,
                            p->lnf_w, B, C, s);
    CUDA_CHECK(cudaMemcpyAsync(a->dcls, dx, B * C * sizeof(float), cudaMemcpyDeviceToDevice, s));
    dx = a->dcls;  // the last layer's output gradient, cls rows only

    for (size_t l = L; l-- > 0;) {
        int last = l + 1 == L;
        size_t q0 = last ? P : 0, Tq = T - q0, n = B * Tq;
        float *xin = slot(mc, a->resid, l, BT * C), *mid = slot(mc, a->mid, l, BT * C);
        float *ln1 = slot(mc, a->ln1, l, BT * C), *qkv = slot(mc, a->qkv, l, BT * 3 * C);
        float *atty = slot(mc, a->atty, l, BT * C), *ln2 = slot(mc, a->ln2, l, BT * C);
        float *fch = slot(mc, a->fch, l, BT * F), *fch_gelu = slot(mc, a->fch_gelu, l, BT * F);
        uint8_t *keep0 = pdrop > 0.0f ? a->mask + (2 * l) * mc->max_B * T * C : NULL;
        uint8_t *keep1 = pdrop > 0.0f ? a->mask + (2 * l + 1) * mc->max_B * T * C : NULL;
        if (!last) dx = a->dresid;  // (B,T,C) holds the gradient of this layer's output

        // MLP branch: xout = mid + Dropout(fc2(GELU(fc1(LN2(mid)))))
        float *dy = dx;
        if (pdrop > 0.0f) {
            dy = a->dc1;
            zero(mc, dy, n * C);
            residual_backward_cuda(NULL, dy, dx, keep1, pdrop, B, Tq * C, s);
        }
        zero(mc, a->dfch_gelu, n * F);
        linear_backward_cuda(a->dfch_gelu, g->fc2_w + l * C * F, g->fc2_b + l * C, dy, fch_gelu, p->fc2_w + l * C * F,
                             n, F, C, h, s);
        zero(mc, a->dfch, n * F);
        gelu_backward_cuda(a->dfch, a->dfch_gelu, fch, n * F, s);
        zero(mc, a->dc2, n * C);
        linear_backward_cuda(a->dc2, g->fc1_w + l * F * C, g->fc1_b + l * F, a->dfch, ln2, p->fc1_w + l * F * C, n, C,
                             F, h, s);
        layernorm_backward_cuda(dx, g->ln2_w + l * C, g->ln2_b + l * C, a->dc2, mid, slot(mc, a->ln2_mean, l, BT),
                                slot(mc, a->ln2_rstd, l, BT), p->ln2_w + l * C, n, C, s);  // dx is now d mid

        // attention branch: mid = xin + Dropout(proj(attention(qkv(LN1(xin)))))
        dy = dx;
        if (pdrop > 0.0f) {
            dy = a->dc1;
            zero(mc, dy, n * C);
            residual_backward_cuda(NULL, dy, dx, keep0, pdrop, B, Tq * C, s);
        }
        zero(mc, a->dc2, n * C);
        linear_backward_cuda(a->dc2, g->proj_w + l * C * C, g->proj_b + l * C, dy, atty, p->proj_w + l * C * C, n, C,
                             C, h, s);
        zero(mc, a->dqkv, BT * 3 * C);
        attention_backward_cuda(a->dqkv, mc->att, mc->datt, a->dc2, qkv, B, T, C, c->NH, q0, h, s);
        zero(mc, a->dc1, BT * C);
        linear_backward_cuda(a->dc1, g->qkv_w + l * 3 * C * C, g->qkv_b + l * 3 * C, a->dqkv, ln1,
                             p->qkv_w + l * 3 * C * C, BT, C, 3 * C, h, s);
        if (last) {  // dx (B,C) is the residual gradient of the cls rows; the others get none
            zero(mc, a->dresid, BT * C);
            rows_scatter_add_cuda(a->dresid, dx, B, T, C, P, s);
        }
        layernorm_backward_cuda(a->dresid, g->ln1_w + l * C, g->ln1_b + l * C, a->dc1, xin,
                                slot(mc, a->ln1_mean, l, BT), slot(mc, a->ln1_rstd, l, BT), p->ln1_w + l * C, BT, C, s);
    }
    pathemb_backward_cuda(g->emb_w, g->emb_b, g->cls, a->dresid, mc->xdense, mc->gene_zero, &mc->map, B, C, s);
}

// ---- the optimiser step

void model_cuda_set_nccl(ModelCuda *mc, struct NcclComm *nccl) {
#ifndef HAVE_NCCL
    if (nccl) FATAL("internal error", "model_cuda_set_nccl: an NCCL communicator in a build without NCCL");
#endif
    if (mc->own_nccl) FATAL("internal error", "model_cuda_set_nccl: the model owns its communicator");
    mc->nccl = nccl;
}

void model_cuda_allreduce_grads(ModelCuda *mc, const Dist *d) {
    if (!mc->training) FATAL("internal error", "model_cuda_allreduce_grads on an inference model");
    if (d->size <= 1) return;
#ifdef HAVE_NCCL
    if (mc->nccl) {
        nccl_allreduce_sum_f32(mc->nccl, mc->grads, mc->n_params, mc->stream);
        return;
    }
#endif
    size_t bytes = mc->n_params * sizeof(float);
    if (!mc->h_grads) mc->h_grads = host_pinned(bytes);
    CUDA_CHECK(cudaMemcpyAsync(mc->h_grads, mc->grads, bytes, cudaMemcpyDeviceToHost, mc->stream));
    CUDA_CHECK(cudaStreamSynchronize(mc->stream));
    dist_allreduce_sum_f32(d, mc->h_grads, mc->n_params);
    CUDA_CHECK(cudaMemcpyAsync(mc->grads, mc->h_grads, bytes, cudaMemcpyHostToDevice, mc->stream));
}

double model_cuda_grad_clip(ModelCuda *mc, float clip_norm) {
    if (!mc->training) FATAL("internal error", "model_cuda_grad_clip on an inference model");
    return grad_clip_cuda(mc->grads, mc->n_params, clip_norm, mc->stream);
}

void model_cuda_adam_step(ModelCuda *mc, const AdamOptions *o, float lr, uint64_t step) {
    if (!mc->training) FATAL("internal error", "model_cuda_adam_step on an inference model");
    adam_step_cuda(mc->params, mc->grads, mc->adam_m, mc->adam_v, mc->n_params, o, lr, step, mc->decay_mask,
                   mc->stream);
}

void model_cuda_sync(ModelCuda *mc) { CUDA_CHECK(cudaStreamSynchronize(mc->stream)); }

// ---- inference over many rows

void model_cuda_infer(float *logits, float *emb, float *attn, const ModelConfig *cfg, const PathwayMap *map,
                      const float *gene_zero, const float *params, const Csr *x, size_t batch, int tf32) {
    size_t n = x->n_rows, K = cfg->K, C = cfg->C, P = cfg->P;
    if (n == 0) return;
    if (batch == 0) batch = 256;
    if (batch > n) batch = n;
    ModelCuda mc;
    model_cuda_create(&mc, cfg, map, batch, 0);
    model_cuda_set_tf32(&mc, tf32);
    model_cuda_set_weights(&mc, params, gene_zero);
    for (size_t s = 0; s < n; s += batch) {
        size_t b = n - s < batch ? n - s : batch;
        Csr xb = *x;  // a view of rows s .. s+b-1 (stage_batch copies from indptr[0] on)
        xb.n_rows = b;
        xb.row_start = x->row_start + s;
        xb.indptr = x->indptr + s;
        model_cuda_forward(&mc, &xb, NULL, 0, 0);
        memcpy(logits + s * K, mc.logits, b * K * sizeof(float));
        if (emb) memcpy(emb + s * C, mc.embedding, b * C * sizeof(float));
        if (attn) memcpy(attn + s * P, mc.attn, b * P * sizeof(float));
    }
    model_cuda_free(&mc);
}

// ---- the CPU-facing entry points of gpu.h

int gpu_choose_device(const char *device, const char *precision, const Dist *d) {
    int want_cuda = !strcmp(device, "cuda"), want_auto = !strcmp(device, "auto");
    if (!want_cuda && !want_auto) return GPU_NONE;
    int64_t missing = cuda_device_count() < 1;  // ranks without a GPU
    dist_allreduce_sum_i64(d, &missing, 1);
    if (missing) {
        if (want_cuda)
            FATAL("check nvidia-smi and CUDA_VISIBLE_DEVICES on every node, or run with --device cpu",
                  "--device cuda: no GPU visible on %lld of %d rank(s)", (long long)missing, d->size);
        log_info("device: no GPU on %lld rank(s); running on the CPU", (long long)missing);
        return GPU_NONE;
    }
    if (!strcmp(precision, "bf16"))
        FATAL("use --precision fp32 or tf32: bf16 is not implemented on the GPU yet",
              "--precision bf16 is not available (got bf16, want fp32|tf32)");
    int dev = cuda_device_select(d->local_rank, d->local_size);
    char name[256];
    cuda_device_name(dev, name, sizeof name);
    int mode = !strcmp(precision, "tf32") ? GPU_TF32 : GPU_FP32;
    log_info("device: one GPU per rank (rank 0 on device %d, %s), %s GEMMs", dev, name,
             mode == GPU_TF32 ? "TF32" : "FP32");
    return mode;
}

ModelCuda *model_cuda_new(const Model *host, int tf32, const uint8_t *decay_mask, const Dist *d) {
    ModelCuda *mc = xcalloc(1, sizeof *mc);
    model_cuda_init(mc, host);
    model_cuda_set_tf32(mc, tf32);
    if (host->training && decay_mask) model_cuda_set_decay_mask(mc, decay_mask);
#ifdef HAVE_NCCL
    if (host->training && d && d->size > 1) {
        mc->nccl = xcalloc(1, sizeof *mc->nccl);
        nccl_comm_init(mc->nccl, d);
        mc->own_nccl = 1;
    }
#else
    (void)d;
#endif
    return mc;
}

void model_cuda_delete(ModelCuda *mc) {
    if (!mc) return;
    model_cuda_free(mc);
    free(mc);
}
