// model: buffers, initialisation, forward and backward of the whole network (see model.h).
#include "model/model.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rng.h"
#include "model/layers.h"

const char *const MODEL_PARAM_NAMES[N_PARAM_TENSORS] = {
    "emb_w", "emb_b", "cls",   "ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w",  "proj_b",  "ln2_w",  "ln2_b",
    "fc1_w", "fc1_b", "fc2_w", "fc2_b", "lnf_w", "lnf_b", "head1_w", "head1_b", "head2_w", "head2_b"};

size_t model_param_dims(const ModelConfig *c, size_t i, size_t dims[3]) {
    size_t L = c->L, C = c->C, F = c->F;
    size_t table[N_PARAM_TENSORS][4] = {
        {2, c->M, C, 0}, {2, c->P, C, 0}, {1, C, 0, 0},     {2, L, C, 0},     {2, L, C, 0},  {3, L, 3 * C, C},
        {2, L, 3 * C, 0}, {3, L, C, C},   {2, L, C, 0},     {2, L, C, 0},     {2, L, C, 0},  {3, L, F, C},
        {2, L, F, 0},     {3, L, C, F},   {2, L, C, 0},     {1, C, 0, 0},     {1, C, 0, 0},  {2, C, C, 0},
        {1, C, 0, 0},     {2, c->K, C, 0}, {1, c->K, 0, 0}};
    if (i >= N_PARAM_TENSORS) FATAL("internal error", "model_param_dims: no tensor %zu (want < %d)", i, N_PARAM_TENSORS);
    for (size_t d = 0; d < 3; d++) dims[d] = d < table[i][0] ? table[i][d + 1] : 1;
    return table[i][0];
}

void model_param_shapes(const ModelConfig *c, size_t sizes[N_PARAM_TENSORS]) {
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) {
        size_t dims[3];
        model_param_dims(c, i, dims);
        sizes[i] = dims[0] * dims[1] * dims[2];
    }
}

int model_param_is_matrix(size_t i) {
    static const int is_matrix[N_PARAM_TENSORS] = {1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0};
    return i < N_PARAM_TENSORS && is_matrix[i];
}

// Points the table at consecutive tensors of base (MODEL_PARAM_NAMES order); returns the total.
size_t model_param_layout(ParamTensors *t, float *base, const ModelConfig *c) {
    size_t sizes[N_PARAM_TENSORS];
    model_param_shapes(c, sizes);
    float **ptrs[N_PARAM_TENSORS] = {&t->emb_w, &t->emb_b, &t->cls,    &t->ln1_w,   &t->ln1_b,   &t->qkv_w,
                                     &t->qkv_b, &t->proj_w, &t->proj_b, &t->ln2_w,   &t->ln2_b,   &t->fc1_w,
                                     &t->fc1_b, &t->fc2_w,  &t->fc2_b,  &t->lnf_w,   &t->lnf_b,   &t->head1_w,
                                     &t->head1_b, &t->head2_w, &t->head2_b};
    size_t off = 0;
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) {
        if (base) *ptrs[i] = base + off;
        off += sizes[i];
    }
    return off;
}

// Sets the activation table over base (or only counts when base is NULL); returns floats needed.
// Training keeps one slot per layer; inference one slot reused by every layer.
size_t model_act_layout(ActTensors *a, float *base, const ModelConfig *c, size_t B, int training) {
    size_t T = c->T, C = c->C, F = c->F, BT = B * T, Ls = training ? c->L : 1;
    struct { float **p; size_t n; } t[] = {
        {&a->zemb, c->P * C},
        {&a->resid, (training ? c->L + 1 : 1) * BT * C},
        {&a->mid, Ls * BT * C},
        {&a->ln1, Ls * BT * C},
        {&a->ln1_mean, Ls * BT},
        {&a->ln1_rstd, Ls * BT},
        {&a->qkv, Ls * BT * 3 * C},
        {&a->atty, Ls * BT * C},
        {&a->ln2, Ls * BT * C},
        {&a->ln2_mean, Ls * BT},
        {&a->ln2_rstd, Ls * BT},
        {&a->fch, Ls * BT * F},
        {&a->fch_gelu, training ? Ls * BT * F : 0},
        {&a->proj, BT * C},
        {&a->lnf_mean, B},
        {&a->lnf_rstd, B},
        {&a->h1, B * C},
        {&a->h1_gelu, B * C},
        {&a->embedding, B * C},
        {&a->logits, B * c->K},
        {&a->attn, B * c->P},
        {&a->dresid, training ? BT * C : 0},
        {&a->dc1, training ? BT * C : 0},
        {&a->dc2, training ? BT * C : 0},
        {&a->dqkv, training ? BT * 3 * C : 0},
        {&a->dfch, training ? BT * F : 0},
        {&a->dfch_gelu, training ? BT * F : 0},
        {&a->dhead, training ? 2 * B * C : 0},
        {&a->dcls, training ? B * C : 0},
    };
    size_t off = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (base) *t[i].p = t[i].n ? base + off : NULL;
        off += t[i].n;
    }
    if (base && !training) a->fch_gelu = a->fch;  // GELU in place
    return off;
}

void model_init(Model *m, const ModelConfig *cfg, const PathwayMap *map, size_t max_B, int training) {
    memset(m, 0, sizeof *m);
    const ModelConfig *c = cfg;
    if (c->T != c->P + 1) FATAL("set T = P + 1 (the cls token is last)", "model config: bad T (got %zu, want %zu)", c->T, c->P + 1);
    if (c->C == 0 || c->NH == 0 || c->C % c->NH != 0)
        FATAL("choose a width divisible by the head count", "model config: C %% NH != 0 (got C = %zu, NH = %zu)", c->C, c->NH);
    if (c->L == 0 || c->K == 0 || c->F == 0)
        FATAL("layers, classes and MLP width must be positive", "model config: got L = %zu, K = %zu, F = %zu", c->L, c->K, c->F);
    if (map->P != c->P || map->G != c->G || map->M != c->M)
        FATAL("build the model config from the pathway map it is used with",
              "model config vs pathway map mismatch (got P/G/M = %zu/%zu/%zu, map has %zu/%zu/%zu)", c->P, c->G, c->M,
              map->P, map->G, map->M);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
        FATAL("set dropout in [0, 1)", "model config: bad dropout (got %g)", (double)c->dropout);
    if (max_B == 0) FATAL("internal error", "model_init: max_B must be positive (got 0)");
    if (max_B * c->T * 3 * c->C > (size_t)2147483647 / 4)
        FATAL("use a smaller batch", "model_init: batch too large for BLAS int sizes (got max_B = %zu)", max_B);
    m->cfg = *cfg;
    m->map = map;
    m->max_B = max_B;
    m->training = training ? 1 : 0;
    m->gene_zero = xcalloc(c->G, sizeof(float));
    m->n_params = model_param_layout(&m->p, NULL, c);
    m->params = xcalloc(m->n_params, sizeof(float));
    model_param_layout(&m->p, m->params, c);
    if (m->training) {
        m->grads = xcalloc(m->n_params, sizeof(float));
        model_param_layout(&m->g, m->grads, c);
        m->adam_m = xcalloc(m->n_params, sizeof(float));
        m->adam_v = xcalloc(m->n_params, sizeof(float));
        if (c->dropout > 0.0f) m->mask_mem = xmalloc(c->L * 2 * max_B * c->T * c->C);
        m->a.mask = m->mask_mem;
        gradsum_init(&m->gsum, m->n_params);
        // per cell: every parameter but the embedding's (emb_w, emb_b, cls: the first three tensors)
        m->cell_ld = (size_t)(m->p.emb_w + m->n_params - m->p.ln1_w);
        m->cell_g = xmalloc(max_B * m->cell_ld * sizeof(float));
        m->cell_parts = xmalloc((12 * c->L + 6) * sizeof(GradPart));
    }
    m->n_acts = model_act_layout(&m->a, NULL, c, max_B, m->training);
    m->acts_mem = xcalloc(m->n_acts, sizeof(float));
    model_act_layout(&m->a, m->acts_mem, c, max_B, m->training);
    m->logits = m->a.logits;
    m->embedding = m->a.embedding;
    m->attn = m->a.attn;
    // the layers split work over OpenMP threads and call BLAS from inside them
    openblas_set_num_threads(1);
}

void model_free(Model *m) {
    free(m->gene_zero);
    free(m->params);
    free(m->grads);
    free(m->adam_m);
    free(m->adam_v);
    free(m->acts_mem);
    free(m->mask_mem);
    if (m->training) gradsum_free(&m->gsum);
    free(m->cell_g);
    free(m->cell_parts);
    memset(m, 0, sizeof *m);
}

// Fills n values with N(0, sd) from (seed, RNG_STREAM_INIT, tensor, element).
static void fill_normal(float *w, size_t n, float sd, uint64_t seed, size_t tensor) {
    for (size_t i = 0; i < n; i++) w[i] = sd * rng_normal(seed, RNG_STREAM_INIT, tensor, i);
}

static void fill_const(float *w, size_t n, float v) {
    for (size_t i = 0; i < n; i++) w[i] = v;
}

void model_init_weights(Model *m, uint64_t seed) {
    const ModelConfig *c = &m->cfg;
    ParamTensors *p = &m->p;
    size_t sizes[N_PARAM_TENSORS];
    model_param_shapes(c, sizes);
    memset(m->params, 0, m->n_params * sizeof(float));
    // emb_w: token j's rows ~ N(0, 1/sqrt(|G_j|))
    for (size_t j = 0; j < c->P; j++) {
        size_t r0 = m->map->path_ptr[j], r1 = m->map->path_ptr[j + 1];
        float sd = 1.0f / sqrtf((float)(r1 - r0));
        for (size_t i = r0 * c->C; i < r1 * c->C; i++) p->emb_w[i] = sd * rng_normal(seed, RNG_STREAM_INIT, 0, i);
    }
    float res_sd = 0.02f / sqrtf(2.0f * (float)c->L);
    fill_normal(p->cls, sizes[2], 0.02f, seed, 2);
    fill_const(p->ln1_w, sizes[3], 1.0f);
    fill_normal(p->qkv_w, sizes[5], 0.02f, seed, 5);
    fill_normal(p->proj_w, sizes[7], res_sd, seed, 7);
    fill_const(p->ln2_w, sizes[9], 1.0f);
    fill_normal(p->fc1_w, sizes[11], 0.02f, seed, 11);
    fill_normal(p->fc2_w, sizes[13], res_sd, seed, 13);
    fill_const(p->lnf_w, sizes[15], 1.0f);
    fill_normal(p->head1_w, sizes[17], 1.0f / sqrtf((float)c->C), seed, 17);
    fill_normal(p->head2_w, sizes[19], 1.0f / sqrtf((float)c->C), seed, 19);
}

void model_zero_grad(Model *m) {
    if (m->grads) memset(m->grads, 0, m->n_params * sizeof(float));
}

// Slot l of a per-layer activation of n floats per layer (one shared slot in inference).
static float *slot(const Model *m, float *base, size_t l, size_t n) { return base + (m->training ? l * n : 0); }

void model_forward(Model *m, const Csr *x, const int64_t *cell_ids, uint64_t step, uint64_t seed) {
    const ModelConfig *c = &m->cfg;
    const ParamTensors *p = &m->p;
    ActTensors *a = &m->a;
    size_t B = x->n_rows, P = c->P, T = c->T, C = c->C, F = c->F, L = c->L, BT = B * T;
    if (x->n_cols != c->G)
        FATAL("give the model its own genes (the reference's model genes, in order)",
              "model_forward: input has the wrong gene count (got %zu, want %zu)", x->n_cols, c->G);
    if (B == 0 || B > m->max_B)
        FATAL("internal error: batch larger than the model was sized for",
              "model_forward: bad batch size (got %zu, want 1..%zu)", B, m->max_B);
    float pdrop = m->training ? c->dropout : 0.0f;
    if (pdrop > 0.0f && !cell_ids)
        FATAL("internal error", "model_forward: dropout needs cell ids (got NULL)");
    m->B = B;
    m->x = x;
    m->cell_ids = cell_ids;
    m->step = step;
    m->seed = seed;

    pathemb_zero_forward(a->zemb, m->gene_zero, p->emb_w, m->map, C);
    pathemb_forward(a->resid, x, a->zemb, p->emb_w, p->emb_b, p->cls, m->map, C);
    for (size_t l = 0; l < L; l++) {
        int last = l + 1 == L;  // the last layer only needs the cls row after its qkv projection
        size_t q0 = last ? P : 0, Tq = T - q0, n = B * Tq;
        float *xin = slot(m, a->resid, l, BT * C), *xout = slot(m, a->resid, l + 1, BT * C);
        float *mid = slot(m, a->mid, l, BT * C), *ln1 = slot(m, a->ln1, l, BT * C);
        float *ln1_mean = slot(m, a->ln1_mean, l, BT), *ln1_rstd = slot(m, a->ln1_rstd, l, BT);
        float *qkv = slot(m, a->qkv, l, BT * 3 * C), *atty = slot(m, a->atty, l, BT * C);
        float *ln2 = slot(m, a->ln2, l, BT * C);
        float *ln2_mean = slot(m, a->ln2_mean, l, BT), *ln2_rstd = slot(m, a->ln2_rstd, l, BT);
        float *fch = slot(m, a->fch, l, BT * F), *fch_gelu = slot(m, a->fch_gelu, l, BT * F);
        uint8_t *keep0 = pdrop > 0.0f ? a->mask + (2 * l) * m->max_B * T * C : NULL;
        uint8_t *keep1 = pdrop > 0.0f ? a->mask + (2 * l + 1) * m->max_B * T * C : NULL;

        layernorm_forward(ln1, ln1_mean, ln1_rstd, xin, p->ln1_w + l * C, p->ln1_b + l * C, BT, C);
        linear_forward_cells(qkv, ln1, p->qkv_w + l * 3 * C * C, p->qkv_b + l * 3 * C, B, T, C, 3 * C);
        attention_forward(atty, last ? a->attn : NULL, qkv, B, T, C, c->NH, q0);
        linear_forward_cells(a->proj, atty, p->proj_w + l * C * C, p->proj_b + l * C, B, Tq, C, C);
        const float *res = xin;
        if (last) {
            rows_gather(mid, xin, B, T, C, P);
            res = mid;
        }
        residual_forward(mid, keep0, res, a->proj, cell_ids, seed, model_dropout_stream(step, l, 0), pdrop, B,
                         Tq * C, q0 * C);
        layernorm_forward(ln2, ln2_mean, ln2_rstd, mid, p->ln2_w + l * C, p->ln2_b + l * C, n, C);
        linear_forward_cells(fch, ln2, p->fc1_w + l * F * C, p->fc1_b + l * F, B, Tq, C, F);
        gelu_forward(fch_gelu, fch, n * F);
        linear_forward_cells(a->proj, fch_gelu, p->fc2_w + l * C * F, p->fc2_b + l * C, B, Tq, F, C);
        residual_forward(xout, keep1, mid, a->proj, cell_ids, seed, model_dropout_stream(step, l, 1), pdrop, B,
                         Tq * C, q0 * C);
    }
    const float *xl = slot(m, a->resid, L, BT * C);  // (B,C) the cls rows after the last layer
    layernorm_forward(a->embedding, a->lnf_mean, a->lnf_rstd, xl, p->lnf_w, p->lnf_b, B, C);
    linear_forward_cells(a->h1, a->embedding, p->head1_w, p->head1_b, B, 1, C, C);
    gelu_forward(a->h1_gelu, a->h1, B * C);
    linear_forward_cells(a->logits, a->h1_gelu, p->head2_w, p->head2_b, B, 1, C, c->K);
}

static void zero(float *x, size_t n) { memset(x, 0, n * sizeof(float)); }

// The parameter blocks whose per-cell gradients wait side by side in m->cell_g until the backward
// pass is done: then one exact sum of all of them, with one collective max.
typedef struct {
    Model *m;
    size_t n, at;  // blocks so far, floats used per cell
} Group;

// Room for the per-cell gradient of grad[0..len): cell 0's slot (cell b at + b·cell_ld).
static float *group_slot(Group *gr, const float *grad, size_t len) {
    Model *m = gr->m;
    if (gr->n == 12 * m->cfg.L + 6 || gr->at + len > m->cell_ld) FATAL("internal error", "model backward: gradient slots overflow");
    float *v = m->cell_g + gr->at;
    m->cell_parts[gr->n++] = (GradPart){(size_t)(grad - m->grads), len, v, m->cell_ld};
    gr->at += len;
    return v;
}

// The whole exact sum: one collective max for the dense blocks and the embedding's, then the adds.
static void group_sum(Group *gr, size_t B) {
    Model *m = gr->m;
    const ModelConfig *c = &m->cfg;
    size_t k = gr->n + 3;
    size_t *off = xmalloc(k * sizeof(size_t)), *len = xmalloc(k * sizeof(size_t));
    double *lmax = xmalloc(k * sizeof(double)), *scale = xmalloc(k * sizeof(double));
    gradsum_parts_max(m->cell_parts, gr->n, B, lmax);
    pathemb_backward_max(lmax + gr->n, m->a.dresid, m->x, m->map, B, c->C);
    for (size_t i = 0; i < gr->n; i++) off[i] = m->cell_parts[i].off, len[i] = m->cell_parts[i].len;
    const float *eg[3] = {m->g.emb_w, m->g.emb_b, m->g.cls};
    size_t el[3] = {c->M * c->C, c->P * c->C, c->C};
    for (size_t i = 0; i < 3; i++) off[gr->n + i] = (size_t)(eg[i] - m->grads), len[gr->n + i] = el[i];
    gradsum_open(&m->gsum, k, off, len, lmax, scale);
    gradsum_parts_add(&m->gsum, m->cell_parts, gr->n, B, scale);
    pathemb_backward_add(&m->gsum, off + gr->n, scale + gr->n, m->a.dresid, m->x, m->map, B, c->C);
    free(off), free(len), free(lmax), free(scale);
}

void model_backward_begin(Model *m, size_t n_cells, GradMaxFn max, void *ctx) {
    if (!m->training) FATAL("internal error", "model_backward on a model built for inference (training = 0)");
    gradsum_begin(&m->gsum, n_cells, max, ctx);
}

void model_backward_part(Model *m, const float *dlogits, const float *demb, size_t B) {
    if (!m->training) FATAL("internal error", "model_backward on a model built for inference (training = 0)");
    if (B && !m->x) FATAL("internal error", "model_backward before model_forward");
    if (B && B != m->B) FATAL("internal error", "model_backward_part: %zu cells, the last forward had %zu", B, m->B);
    const ModelConfig *c = &m->cfg;
    const ParamTensors *p = &m->p, *g = &m->g;
    ActTensors *a = &m->a;
    size_t P = c->P, T = c->T, C = c->C, F = c->F, L = c->L, K = c->K, BT = B * T;
    float pdrop = c->dropout;
    size_t ld = m->cell_ld;
    Group gr = {.m = m};

    // head: logits = GELU(e W1ᵀ + b1) W2ᵀ + b2
    float *dh1g = a->dhead, *dh1 = a->dhead + B * C, *de = a->dcls;  // (B,C) each
    zero(a->dhead, 2 * B * C);
    linear_backward_cells(dh1g, group_slot(&gr, g->head2_w, K * C), group_slot(&gr, g->head2_b, K), ld, dlogits,
                          a->h1_gelu, p->head2_w, B, 1, C, K);
    gelu_backward(dh1, dh1g, a->h1, B * C);
    if (demb) memcpy(de, demb, B * C * sizeof(float));
    else zero(de, B * C);
    linear_backward_cells(de, group_slot(&gr, g->head1_w, C * C), group_slot(&gr, g->head1_b, C), ld, dh1,
                          a->embedding, p->head1_w, B, 1, C, C);
    // final LayerNorm of the cls rows: dx (B,C) into dhead's first half
    float *dx = a->dhead;
    zero(dx, B * C);
    layernorm_backward_cells(dx, group_slot(&gr, g->lnf_w, C), group_slot(&gr, g->lnf_b, C), ld, de,
                             slot(m, a->resid, L, BT * C), a->lnf_mean, a->lnf_rstd, p->lnf_w, B, 1, C);
    memcpy(a->dcls, dx, B * C * sizeof(float));
    dx = a->dcls;  // the last layer's output gradient, cls rows only

    for (size_t l = L; l-- > 0;) {
        int last = l + 1 == L;
        size_t q0 = last ? P : 0, Tq = T - q0, n = B * Tq;
        float *xin = slot(m, a->resid, l, BT * C), *mid = slot(m, a->mid, l, BT * C);
        float *ln1 = slot(m, a->ln1, l, BT * C), *qkv = slot(m, a->qkv, l, BT * 3 * C);
        float *atty = slot(m, a->atty, l, BT * C), *ln2 = slot(m, a->ln2, l, BT * C);
        float *fch = slot(m, a->fch, l, BT * F), *fch_gelu = slot(m, a->fch_gelu, l, BT * F);
        uint8_t *keep0 = pdrop > 0.0f ? a->mask + (2 * l) * m->max_B * T * C : NULL;
        uint8_t *keep1 = pdrop > 0.0f ? a->mask + (2 * l + 1) * m->max_B * T * C : NULL;
        if (!last) dx = a->dresid;  // (B,T,C) holds the gradient of this layer's output

        // MLP branch: xout = mid + Dropout(fc2(GELU(fc1(LN2(mid)))))
        float *dy = dx;
        if (pdrop > 0.0f) {
            dy = a->dc1;
            zero(dy, n * C);
            residual_backward(NULL, dy, dx, keep1, pdrop, B, Tq * C);
        }
        zero(a->dfch_gelu, n * F);
        linear_backward_cells(a->dfch_gelu, group_slot(&gr, g->fc2_w + l * C * F, C * F), group_slot(&gr, g->fc2_b + l * C, C),
                              ld, dy, fch_gelu, p->fc2_w + l * C * F, B, Tq, F, C);
        zero(a->dfch, n * F);
        gelu_backward(a->dfch, a->dfch_gelu, fch, n * F);
        zero(a->dc2, n * C);
        linear_backward_cells(a->dc2, group_slot(&gr, g->fc1_w + l * F * C, F * C), group_slot(&gr, g->fc1_b + l * F, F),
                              ld, a->dfch, ln2, p->fc1_w + l * F * C, B, Tq, C, F);
        layernorm_backward_cells(dx, group_slot(&gr, g->ln2_w + l * C, C), group_slot(&gr, g->ln2_b + l * C, C), ld,
                                 a->dc2, mid, slot(m, a->ln2_mean, l, BT), slot(m, a->ln2_rstd, l, BT),
                                 p->ln2_w + l * C, B, Tq, C);  // dx is now d mid

        // attention branch: mid = xin + Dropout(proj(attention(qkv(LN1(xin)))))
        dy = dx;
        if (pdrop > 0.0f) {
            dy = a->dc1;
            zero(dy, n * C);
            residual_backward(NULL, dy, dx, keep0, pdrop, B, Tq * C);
        }
        zero(a->dc2, n * C);
        linear_backward_cells(a->dc2, group_slot(&gr, g->proj_w + l * C * C, C * C), group_slot(&gr, g->proj_b + l * C, C),
                              ld, dy, atty, p->proj_w + l * C * C, B, Tq, C, C);
        zero(a->dqkv, BT * 3 * C);
        attention_backward(a->dqkv, a->dc2, qkv, B, T, C, c->NH, q0);
        zero(a->dc1, BT * C);
        linear_backward_cells(a->dc1, group_slot(&gr, g->qkv_w + l * 3 * C * C, 3 * C * C),
                              group_slot(&gr, g->qkv_b + l * 3 * C, 3 * C), ld, a->dqkv, ln1, p->qkv_w + l * 3 * C * C,
                              B, T, C, 3 * C);
        if (last) {  // dx (B,C) is the residual gradient of the cls rows; the others get none
            zero(a->dresid, BT * C);
            rows_scatter_add(a->dresid, dx, B, T, C, P);
        }
        layernorm_backward_cells(a->dresid, group_slot(&gr, g->ln1_w + l * C, C), group_slot(&gr, g->ln1_b + l * C, C),
                                 ld, a->dc1, xin, slot(m, a->ln1_mean, l, BT), slot(m, a->ln1_rstd, l, BT),
                                 p->ln1_w + l * C, B, T, C);
    }
    group_sum(&gr, B);  // a->dresid is the gradient of the tokens: the embedding's blocks too
}

void model_backward_end(Model *m) {
    const ModelConfig *c = &m->cfg;
    size_t PC = c->P * c->C, off_b = (size_t)(m->g.emb_b - m->grads);
    const GradBlock *bb = gradsum_block(&m->gsum, off_b);
    if (!bb) FATAL("internal error", "model_backward_end without model_backward_part");
    // the zero-count term of emb_w needs this batch's emb_b gradient alone (grads may hold more)
    float *db = xmalloc(PC * sizeof(float));  // (P,C)
    for (size_t i = 0; i < PC; i++) db[i] = gradsum_value(&m->gsum, bb, off_b + i);
    gradsum_to_float(&m->gsum, m->grads);
    pathemb_zero_backward(m->g.emb_w, db, m->gene_zero, m->map, c->C);
    free(db);
}

void model_backward(Model *m, const float *dlogits, const float *demb) {
    model_backward_begin(m, m->B, NULL, NULL);
    model_backward_part(m, dlogits, demb, m->B);
    model_backward_end(m);
}

size_t model_flops_per_cell(const ModelConfig *c, int training) {
    size_t T = c->T, C = c->C, F = c->F, L = c->L;
    size_t lin_row = 2 * C * (4 * C + 2 * F);   // qkv + proj + fc1 + fc2 per token row
    size_t qkv_row = 2 * C * 3 * C;
    size_t full = T * (lin_row + 4 * T * C);                       // q kᵀ and a v, every query
    size_t last = T * qkv_row + (lin_row - qkv_row) + 4 * T * C;   // cls query only
    size_t head = 2 * C * C + 2 * C * c->K;
    size_t fwd = (L - 1) * full + last + head;
    if (!training) return fwd;
    // backward: linear layers twice their forward; attention recomputes q kᵀ, then a v's
    // two gradients and q kᵀ's two gradients: 10 T² HS per head instead of 4
    size_t bwd = 2 * ((L - 1) * T * lin_row + T * qkv_row + (lin_row - qkv_row) + head) +
                 (L - 1) * T * 10 * T * C + 10 * T * C;
    return fwd + bwd;
}
