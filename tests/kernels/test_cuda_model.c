// test_cuda_model: the whole device model (kernels/model_cuda.h) against the CPU model, at odd
// shapes (B=3, P=5, G=17, C=12, NH=3, L=2, K=4) and production shapes (B=64, P=300, G=3000,
// C=128, NH=8, L=4, K=7): logits, embedding and attention of a forward; the dropout masks; every
// parameter gradient of a backward; three teacher steps (CE, clipping, AdamW); one student step
// with the distillation and clustering losses computed on the GPU; inference; TF32. Exit 77
// without a GPU.
//
// Measure: max |gpu - cpu| / max |cpu| per tensor (tests/kernels/cuda_testutil.h). Tolerances (fp32
// through L layers, reductions in other orders): forward outputs 1e-4, gradients 1e-3, losses
// 1e-4, the losses of GPU vs host loss code on the same logits 1e-9, dropout masks exact,
// parameters after 3 Adam steps max |Δ| <= 2·lr·steps (Adam moves an element at most ~lr per
// step, and elements whose gradient is ~0 may take either sign), Adam m after them 5e-2 (it sums
// gradients taken at those slightly different parameters), TF32 logits 3e-2.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/losses_cuda.h"
#include "kernels/model_cuda.h"
#include "loss/losses.h"
#include "loss/optim.h"
#include "model/model.h"
#include "tests/kernels/cuda_testutil.h"
#include "tests/model/model_fixtures.h"

typedef struct {
    const char *name;
    size_t B, P, G, C, NH, L, K;
    float dropout;
    double map_frac, density;
} Shape;

static int compare_grads(const Model *cpu, const ModelCuda *mc, const char *tag, double tol) {
    size_t sizes[N_PARAM_TENSORS], off = 0;
    model_param_shapes(&cpu->cfg, sizes);
    float *g = tu_hostf(mc->grads, mc->n_params);
    int fails = 0;
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) {
        char label[96];
        snprintf(label, sizeof label, "%s grad %s", tag, MODEL_PARAM_NAMES[i]);
        fails += tu_check(label, g + off, cpu->grads + off, sizes[i], tol);
        off += sizes[i];
    }
    free(g);
    return fails;
}

// Mask bytes both models wrote: full (B,T,C) blocks below the last layer, the cls rows in it.
static int compare_masks(const Model *cpu, const ModelCuda *mc, size_t B) {
    const ModelConfig *c = &cpu->cfg;
    if (c->dropout <= 0.0f) return 0;
    size_t T = c->T, C = c->C, block = cpu->max_B * T * C, diff = 0, total = 0, kept = 0;
    uint8_t *g = xmalloc(c->L * 2 * block);
    CUDA_CHECK(cudaMemcpy(g, mc->mask_mem, c->L * 2 * block, cudaMemcpyDeviceToHost));
    for (size_t l = 0; l < c->L; l++)
        for (size_t s = 0; s < 2; s++) {
            size_t n = l + 1 == c->L ? B * C : B * T * C, o = (2 * l + s) * block;
            for (size_t i = 0; i < n; i++) {
                diff += g[o + i] != cpu->mask_mem[o + i];
                kept += cpu->mask_mem[o + i];
            }
            total += n;
        }
    free(g);
    printf("  %-44s n=%-9zu %zu differ (kept %.3f)  %s\n", "dropout masks", total, diff, (double)kept / (double)total,
           diff ? "FAIL" : "ok");
    return diff != 0;
}

static int run_shape(const Shape *s) {
    printf("shape %s: B=%zu P=%zu G=%zu C=%zu NH=%zu L=%zu K=%zu dropout %.2f\n", s->name, s->B, s->P, s->G, s->C,
           s->NH, s->L, s->K, (double)s->dropout);
    size_t B = s->B, K = s->K, C = s->C;
    int fails = 0;
    PathwayMap map = fixture_map(s->P, s->G, s->map_frac, 5);
    ModelConfig cfg = fixture_config(&map, C, s->NH, s->L, K, s->dropout);
    Csr x = fixture_batch(B, s->G, s->density, 6, 100);
    int64_t *ids = xmalloc(B * sizeof(int64_t));
    for (size_t b = 0; b < B; b++) ids[b] = (int64_t)(100 + b);
    Model cpu;
    model_init(&cpu, &cfg, &map, B, 1);
    model_init_weights(&cpu, 42);
    fixture_fill(cpu.gene_zero, s->G, 0.3f, 7, 1);
    for (size_t g = 0; g < s->G; g += 4) cpu.gene_zero[g] = 0.0f;
    ModelCuda mc;
    model_cuda_init(&mc, &cpu);
    printf("  (M=%zu, %zu nonzeros, %zu parameters)\n", map.M, csr_nnz(&x), cpu.n_params);

    // forward
    model_forward(&cpu, &x, ids, 3, 99);
    model_cuda_forward(&mc, &x, ids, 3, 99);
    fails += tu_check("forward logits", mc.logits, cpu.logits, B * K, 1e-4);
    fails += tu_check("forward embedding", mc.embedding, cpu.embedding, B * C, 1e-4);
    fails += tu_check("forward cls->pathway attn", mc.attn, cpu.attn, B * s->P, 1e-4);
    fails += compare_masks(&cpu, &mc, B);

    // backward from the same loss gradients
    float *dlogits = xmalloc(B * K * sizeof(float)), *demb = xmalloc(B * C * sizeof(float));
    fixture_fill(dlogits, B * K, 1.0f / (float)B, 8, 1);
    fixture_fill(demb, B * C, 0.1f / (float)B, 8, 2);
    model_zero_grad(&cpu);
    model_cuda_zero_grad(&mc);
    model_backward(&cpu, dlogits, demb);
    model_cuda_backward(&mc, dlogits, demb);
    fails += compare_grads(&cpu, &mc, "backward", 1e-3);

    // three teacher steps: CE on the host from each side's logits, clipping, AdamW on each side
    AdamOptions o = adam_defaults();
    o.adamw = 1;
    o.clip_norm = 1.0f;
    uint8_t *mask = xcalloc(cpu.n_params, 1);
    size_t sizes[N_PARAM_TENSORS], at = 0;
    model_param_shapes(&cfg, sizes);
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) {
        if (model_param_is_matrix(i)) memset(mask + at, 1, sizes[i]);
        at += sizes[i];
    }
    model_cuda_set_decay_mask(&mc, mask);
    int32_t *labels = xmalloc(B * sizeof(int32_t));
    for (size_t i = 0; i < B; i++) labels[i] = (int32_t)(i % K);
    int32_t *d_labels = tu_dev(labels, B * sizeof(int32_t));
    float *probs = xmalloc(B * K * sizeof(float)), *d_probs = tu_devf(NULL, B * K);
    float lr = 1e-3f;
    size_t steps = 3;
    for (uint64_t t = 1; t <= steps; t++) {
        char label[96];
        model_zero_grad(&cpu);
        model_cuda_zero_grad(&mc);
        model_forward(&cpu, &x, ids, t, 99);
        model_cuda_forward(&mc, &x, ids, t, 99);
        double lc = ce_forward(probs, cpu.logits, labels, B, K) / (double)B;
        float *dlc = xcalloc(B * K, sizeof(float));
        ce_backward(dlc, probs, labels, B, K, 1.0f / (float)B);
        double lg = ce_forward(probs, mc.logits, labels, B, K) / (double)B;
        float *dlg = xcalloc(B * K, sizeof(float));
        ce_backward(dlg, probs, labels, B, K, 1.0f / (float)B);
        // the device CE on the device logits must agree with the host CE on the same logits
        double ld = ce_forward_cuda(d_probs, model_cuda_logits_dev(&mc), d_labels, B, K, mc.stream) / (double)B;
        snprintf(label, sizeof label, "step %d CE loss", (int)t);
        fails += tu_check_scalar(label, lg, lc, 1e-4);
        snprintf(label, sizeof label, "step %d CE on GPU vs host, same logits", (int)t);
        fails += tu_check_scalar(label, ld, lg, 1e-9);
        model_backward(&cpu, dlc, NULL);
        model_cuda_backward(&mc, dlg, NULL);
        double nc = grad_clip(cpu.grads, cpu.n_params, o.clip_norm);
        double ng = model_cuda_grad_clip(&mc, o.clip_norm);
        snprintf(label, sizeof label, "step %d gradient norm", (int)t);
        fails += tu_check_scalar(label, ng, nc, 1e-3);
        adam_step(cpu.params, cpu.grads, cpu.adam_m, cpu.adam_v, cpu.n_params, &o, lr, t, mask);
        model_cuda_adam_step(&mc, &o, lr, t);
        free(dlc), free(dlg);
    }
    {
        float *p = tu_hostf(mc.params, mc.n_params);
        double worst = 0.0, mean = 0.0;
        size_t wi = 0;
        for (size_t i = 0; i < mc.n_params; i++) {
            double d = fabs((double)p[i] - (double)cpu.params[i]);
            if (!(d <= worst)) worst = d, wi = i;
            mean += d;
        }
        mean /= (double)mc.n_params;
        double bound = 2.0 * lr * (double)steps;
        int f = !(worst <= bound);
        printf("  %-44s max |d| %.2e at [%zu] (bound %.0e), mean |d| %.2e  %s\n", "params after 3 AdamW steps", worst,
               wi, bound, mean, f ? "FAIL" : "ok");
        fails += f;
        // a checkpoint of the device state is the host layout: download into a copy and compare
        Model back;
        model_init(&back, &cfg, &map, B, 1);
        model_cuda_download_params(&mc, &back);
        fails += tu_check_bitwise("download_params == device params", back.params, p, mc.n_params);
        // m integrates the gradients of parameters that drift apart by up to ~lr per step: loose
        fails += tu_check("adam m after 3 steps", back.adam_m, cpu.adam_m, cpu.n_params, 5e-2);
        model_free(&back);
        free(p);
    }

    // one student step: KD + clustering loss on the GPU, their gradients into backward on the device
    {
        float tau = 3.0f, alpha = 0.8f, beta = 0.2f;
        float *teacher = xmalloc(B * K * sizeof(float));
        fixture_fill(teacher, B * K, 2.0f, 9, 1);
        float *d_teacher = tu_devf(teacher, B * K);
        model_cuda_upload_params(&mc, &cpu);  // both sides from the same weights again
        model_zero_grad(&cpu);
        model_cuda_zero_grad(&mc);
        model_forward(&cpu, &x, ids, 10, 99);
        model_cuda_forward(&mc, &x, ids, 10, 99);
        // CPU
        float *dl = xcalloc(B * K, sizeof(float)), *de = xcalloc(B * C, sizeof(float));
        double kd = kd_forward(cpu.logits, teacher, B, K, tau) / (double)B;
        kd_backward(dl, cpu.logits, teacher, B, K, tau, alpha / (float)B);
        softmax_rows(probs, cpu.logits, B, K, 1.0f);
        double ada = ada_forward(cpu.embedding, probs, B, C, K);
        ada_backward(de, dl, cpu.embedding, probs, B, C, K, beta);
        model_backward(&cpu, dl, de);
        // GPU
        float *d_dl = tu_devf(NULL, B * K), *d_de = tu_devf(NULL, B * C);
        const float *glog = model_cuda_logits_dev(&mc), *gemb = model_cuda_embedding_dev(&mc);
        double gkd = kd_forward_cuda(glog, d_teacher, B, K, tau, mc.stream) / (double)B;
        kd_backward_cuda(d_dl, glog, d_teacher, B, K, tau, alpha / (float)B, mc.stream);
        softmax_rows_cuda(d_probs, glog, B, K, 1.0f, mc.stream);
        double gada = ada_forward_cuda(gemb, d_probs, B, C, K, mc.stream);
        ada_backward_cuda(d_de, d_dl, gemb, d_probs, B, C, K, beta, mc.stream);
        model_cuda_backward_dev(&mc, d_dl, d_de);
        fails += tu_check_scalar("student KD loss", gkd, kd, 1e-4);
        fails += tu_check_scalar("student clustering loss", gada, ada, 1e-4);
        fails += compare_grads(&cpu, &mc, "student", 1e-3);
        cudaFree(d_teacher), cudaFree(d_dl), cudaFree(d_de);
        free(teacher), free(dl), free(de);
    }

    // inference model (one activation slot, no dropout) with the trained weights; then TF32
    {
        Model inf;
        model_init(&inf, &cfg, &map, B, 0);
        memcpy(inf.params, cpu.params, cpu.n_params * sizeof(float));
        memcpy(inf.gene_zero, cpu.gene_zero, s->G * sizeof(float));
        ModelCuda mi;
        model_cuda_init(&mi, &inf);
        model_forward(&inf, &x, NULL, 0, 0);
        model_cuda_forward(&mi, &x, NULL, 0, 0);
        fails += tu_check("inference logits", mi.logits, inf.logits, B * K, 1e-4);
        fails += tu_check("inference embedding", mi.embedding, inf.embedding, B * C, 1e-4);
        fails += tu_check("inference attn", mi.attn, inf.attn, B * s->P, 1e-4);
        // model_cuda_infer in uneven batches (rows as views into x) must give the same rows
        float *il = xmalloc(B * K * sizeof(float)), *ie = xmalloc(B * C * sizeof(float));
        float *ia = xmalloc(B * s->P * sizeof(float));
        model_cuda_infer(il, ie, ia, &cfg, &map, inf.gene_zero, inf.params, &x, B > 4 ? B / 3 + 1 : 2, 0);
        fails += tu_check("model_cuda_infer logits (uneven batches)", il, inf.logits, B * K, 1e-4);
        fails += tu_check("model_cuda_infer embedding", ie, inf.embedding, B * C, 1e-4);
        fails += tu_check("model_cuda_infer attn", ia, inf.attn, B * s->P, 1e-4);
        free(il), free(ie), free(ia);
        model_cuda_set_tf32(&mi, 1);
        model_cuda_forward(&mi, &x, NULL, 0, 0);
        fails += tu_check("inference logits, TF32", mi.logits, inf.logits, B * K, 3e-2);
        model_cuda_free(&mi);
        model_free(&inf);
    }

    cudaFree(d_labels), cudaFree(d_probs);
    free(ids), free(dlogits), free(demb), free(mask), free(labels), free(probs);
    model_cuda_free(&mc);
    model_free(&cpu);
    csr_free(&x);
    pathmap_free(&map);
    return fails;
}

int main(void) {
    tu_require_gpu("test_cuda_model");
    Shape shapes[3] = {
        {"odd, no dropout", 3, 5, 17, 12, 3, 2, 4, 0.0f, 0.3, 0.4},
        {"odd, dropout", 3, 5, 17, 12, 3, 2, 4, 0.1f, 0.3, 0.4},
        {"production", 64, 300, 3000, 128, 8, 4, 7, 0.1f, 0.022, 0.08},
    };
    int fails = 0;
    for (int i = 0; i < 3; i++) fails += run_shape(&shapes[i]);
    printf("test_cuda_model: %s (%d check(s) failed)\n", fails ? "FAIL" : "PASS", fails);
    return fails ? 1 : 0;
}
