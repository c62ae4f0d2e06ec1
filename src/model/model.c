// model: buffers, initialisation, forward and backward of the whole network (see model.h).
#include "model/model.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rng.h"
#include "model/kern.h"
#include "model/layers.h"
#include "model/matmul.h"

const char *const MODEL_PARAM_NAMES[N_PARAM_TENSORS] = {
    "emb_w", "emb_b", "cls",   "ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w",  "proj_b",  "ln2_w",  "ln2_b",
    "fc1_w", "fc1_b", "fc2_w", "fc2_b", "lnf_w", "lnf_b", "head1_w", "head1_b", "head2_w", "head2_b"};

// What the overflow errors of the parameter layout name.
#define PARAM_WHAT "model: parameter layout for %zu layers x width %zu x MLP width %zu"

size_t model_param_dims(const ModelConfig *c, size_t i, size_t dims[3]) {
    size_t L = c->L, C = c->C, F = c->F;
    szmul_for(3, C, PARAM_WHAT " (qkv rows 3 x width)", L, C, F);
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
        sizes[i] = szmul_for(szmul_for(dims[0], dims[1], PARAM_WHAT " (%s)", c->L, c->C, c->F, MODEL_PARAM_NAMES[i]),
                             dims[2], PARAM_WHAT " (%s)", c->L, c->C, c->F, MODEL_PARAM_NAMES[i]);
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
        off = szadd_for(off, sizes[i], PARAM_WHAT " (all tensors)", c->L, c->C, c->F);
    }
    return off;
}

// a x b x d x e for the activation table: FATAL naming the batch and the shape when it overflows.
static size_t act_n(const ModelConfig *c, size_t B, size_t a, size_t b, size_t d, size_t e) {
#define ACT_WHAT "model: activations for a batch of %zu cells x %zu tokens x width %zu x %zu layers", B, c->T, c->C, c->L
    return szmul_for(szmul_for(szmul_for(a, b, ACT_WHAT), d, ACT_WHAT), e, ACT_WHAT);
#undef ACT_WHAT
}

// Sets the activation table over base (or only counts when base is NULL); returns floats needed.
// Training keeps one slot per layer; inference one slot reused by every layer.
size_t model_act_layout(ActTensors *a, float *base, const ModelConfig *c, size_t B, int training) {
    size_t T = c->T, C = c->C, F = c->F, BT = act_n(c, B, B, T, 1, 1), Ls = training ? c->L : 1;
    size_t Lr = training ? szadd_for(c->L, 1, "model: %zu layers", c->L) : 1;
    struct { float **p; size_t n; } t[] = {
        {&a->zemb, act_n(c, B, c->P, C, 1, 1)},
        {&a->resid, act_n(c, B, Lr, BT, C, 1)},
        {&a->mid, act_n(c, B, Ls, BT, C, 1)},
        {&a->ln1, act_n(c, B, Ls, BT, C, 1)},
        {&a->ln1_mean, act_n(c, B, Ls, BT, 1, 1)},
        {&a->ln1_rstd, act_n(c, B, Ls, BT, 1, 1)},
        {&a->qkv, act_n(c, B, Ls, BT, 3, C)},
        {&a->atty, act_n(c, B, Ls, BT, C, 1)},
        {&a->ln2, act_n(c, B, Ls, BT, C, 1)},
        {&a->ln2_mean, act_n(c, B, Ls, BT, 1, 1)},
        {&a->ln2_rstd, act_n(c, B, Ls, BT, 1, 1)},
        {&a->fch, act_n(c, B, Ls, BT, F, 1)},
        {&a->fch_gelu, training ? act_n(c, B, Ls, BT, F, 1) : 0},
        {&a->proj, act_n(c, B, BT, C, 1, 1)},
        {&a->lnf_mean, B},
        {&a->lnf_rstd, B},
        {&a->h1, act_n(c, B, B, C, 1, 1)},
        {&a->h1_gelu, act_n(c, B, B, C, 1, 1)},
        {&a->embedding, act_n(c, B, B, C, 1, 1)},
        {&a->logits, act_n(c, B, B, c->K, 1, 1)},
        {&a->attn, act_n(c, B, B, c->P, 1, 1)},
        {&a->dresid, training ? act_n(c, B, BT, C, 1, 1) : 0},
        {&a->dc1, training ? act_n(c, B, BT, C, 1, 1) : 0},
        {&a->dc2, training ? act_n(c, B, BT, C, 1, 1) : 0},
        {&a->dqkv, training ? act_n(c, B, BT, 3, C, 1) : 0},
        {&a->dfch, training ? act_n(c, B, BT, F, 1, 1) : 0},
        {&a->dfch_gelu, training ? act_n(c, B, BT, F, 1, 1) : 0},
        {&a->dhead, training ? act_n(c, B, 2, B, C, 1) : 0},
        {&a->dcls, training ? act_n(c, B, B, C, 1, 1) : 0},
    };
    size_t off = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (base) *t[i].p = t[i].n ? base + off : NULL;
        off = szadd_for(off, t[i].n, "model: activation layout for a batch of %zu cells x %zu tokens x width %zu",
                        B, T, C);
    }
    if (base && !training) a->fch_gelu = a->fch;  // GELU in place
    return off;
}

// Zeroed memory on a 64-byte boundary (a cache line; every cell's rows start at the same offset
// within one).
static void *alloc64(size_t n, const char *what) {
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0)
        FATAL("use a smaller --batch-size or --width, more ranks, or free memory",
              "model: %s: out of memory (asked for %zu bytes)", what, n);
    memset(p, 0, n);
    return p;
}

// a x b for the buffers of a batch of max_B cells: FATAL naming the batch and the part when it overflows.
static size_t batch_n(const ModelConfig *c, size_t max_B, const char *part, size_t a, size_t b) {
    return szmul_for(a, b, "model: %s for a batch of %zu cells x %zu tokens x width %zu", part, max_B, c->T, c->C);
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
    if (c->C > KERN_LN_MAX) FATAL("use a width of at most 4096", "model config: width %zu is too large", c->C);
    size_t btc = batch_n(c, max_B, "activations", batch_n(c, max_B, "activations", max_B, c->T), c->C);  // (B,T,C)
    size_t bt3c = batch_n(c, max_B, "qkv", btc, 3);
    if (bt3c > (size_t)2147483647 / 4)
        FATAL("use a smaller batch", "model_init: batch too large for BLAS int sizes (got max_B = %zu)", max_B);
    // every dimension and leading dimension the layers hand to BLAS (cell by cell: at most T rows)
    const struct { const char *name; size_t n; } blas[] = {
        {"tokens", c->T}, {"qkv rows (3 x width)", 3 * c->C}, {"MLP width", c->F}, {"classes", c->K}, {"head size", c->C / c->NH}};
    for (size_t i = 0; i < sizeof blas / sizeof blas[0]; i++) szint_for(blas[i].n, "model: %s", blas[i].name);
    m->cfg = *cfg;
    m->map = map;
    m->max_B = max_B;
    m->training = training ? 1 : 0;
    m->gene_zero = xcalloc_for(c->G, sizeof(float), "model: zero values of %zu genes", c->G);
    m->n_params = model_param_layout(&m->p, NULL, c);
    szmul_for(m->n_params, sizeof(float), PARAM_WHAT " (bytes)", c->L, c->C, c->F);
    m->params = xcalloc(m->n_params, sizeof(float));
    model_param_layout(&m->p, m->params, c);
    if (m->training) {
        m->grads = xcalloc(m->n_params, sizeof(float));
        model_param_layout(&m->g, m->grads, c);
        m->adam_m = xcalloc(m->n_params, sizeof(float));
        m->adam_v = xcalloc(m->n_params, sizeof(float));
        if (c->dropout > 0.0f)
            m->mask_mem = xmalloc(batch_n(c, max_B, "dropout masks", batch_n(c, max_B, "dropout masks", c->L, 2), btc));
        m->a.mask = m->mask_mem;
        gradsum_init(&m->gsum, m->n_params);
        // per cell: every parameter but the embedding's (emb_w, emb_b, cls: the first three tensors)
        m->cell_ld = (size_t)(m->p.emb_w + m->n_params - m->p.ln1_w);
        size_t cell_g = batch_n(c, max_B, "per-cell gradients", max_B, m->cell_ld);
        m->cell_g = alloc64(batch_n(c, max_B, "per-cell gradients", cell_g, sizeof(float)), "per-cell gradients");
        // one block per tensor and layer: qkv_w of layer 2, fc1_b of layer 0, ..., head2_b
        m->cell_parts = xmalloc(szmul_for(12 * c->L + 6, sizeof(GradPart), PARAM_WHAT " (blocks)", c->L, c->C, c->F));
        size_t sizes[N_PARAM_TENSORS], off = 0;
        model_param_shapes(c, sizes);
        for (size_t i = 0; i < N_PARAM_TENSORS; i++) {
            size_t nb = i >= 3 && i <= 14 ? c->L : 1, len = sizes[i] / nb;  // ln1_w .. fc2_b are (L, ...)
            for (size_t l = 0; i >= 3 && l < nb; l++) {
                size_t o = off + l * len, at = o - (size_t)(m->p.ln1_w - m->params);
                m->cell_parts[m->n_cell_parts++] = (GradPart){o, len, m->cell_g + at, m->cell_ld};
            }
            off += sizes[i];
        }
    }
    m->n_acts = model_act_layout(&m->a, NULL, c, max_B, m->training);
    m->acts_mem = alloc64(batch_n(c, max_B, "activations", m->n_acts, sizeof(float)), "activations");
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

// Where cell b's activations of layer l live. A cell owns rows b·T .. b·T+T-1 of every per-layer
// tensor, also in the last layer, which uses the first of them for its cls-only rows: so in
// inference, where every layer shares one slot, cells never touch each other's rows.
typedef struct {
    float *xin, *xout, *mid, *ln1, *ln1_mean, *ln1_rstd, *qkv, *atty, *ln2, *ln2_mean, *ln2_rstd, *fch, *fch_gelu;
    uint8_t *keep0, *keep1;  // dropout masks (NULL without dropout)
    size_t q0, Tq;           // first query row, query rows
} CellLayer;

static CellLayer cell_layer(const Model *m, size_t l, size_t b) {
    const ModelConfig *c = &m->cfg;
    const ActTensors *a = &m->a;
    size_t T = c->T, C = c->C, F = c->F, BT = m->B * T, r = b * T;
    int last = l + 1 == c->L;
    CellLayer v = {.q0 = last ? c->P : 0};
    v.Tq = T - v.q0;
    v.xin = slot(m, a->resid, l, BT * C) + r * C;
    // the last layer's output: the cls row of the cell in the next slot (in inference, its own cls row)
    v.xout = slot(m, a->resid, l + 1, BT * C) + (r + (last ? c->P : 0)) * C;
    v.mid = slot(m, a->mid, l, BT * C) + r * C;
    v.ln1 = slot(m, a->ln1, l, BT * C) + r * C;
    v.ln1_mean = slot(m, a->ln1_mean, l, BT) + r;
    v.ln1_rstd = slot(m, a->ln1_rstd, l, BT) + r;
    v.qkv = slot(m, a->qkv, l, BT * 3 * C) + r * 3 * C;
    v.atty = slot(m, a->atty, l, BT * C) + r * C;
    v.ln2 = slot(m, a->ln2, l, BT * C) + r * C;
    v.ln2_mean = slot(m, a->ln2_mean, l, BT) + r;
    v.ln2_rstd = slot(m, a->ln2_rstd, l, BT) + r;
    v.fch = slot(m, a->fch, l, BT * F) + r * F;
    v.fch_gelu = slot(m, a->fch_gelu, l, BT * F) + r * F;
    if (m->training && c->dropout > 0.0f) {
        v.keep0 = a->mask + ((2 * l) * m->max_B * T + r) * C;
        v.keep1 = a->mask + ((2 * l + 1) * m->max_B * T + r) * C;
    }
    return v;
}

// Per-thread attention scratch: full layers (every query) and the last layer (the cls query).
typedef struct {
    AttnScratch full, last;
} CellScratch;

static CellScratch scratch_alloc(const ModelConfig *c, int backward) {
    CellScratch s;
    s.full = attn_scratch_alloc(c->T, c->T, c->C / c->NH, backward);
    s.last = attn_scratch_alloc(c->T, 1, c->C / c->NH, backward);
    return s;
}

static void scratch_free(CellScratch *s) {
    attn_scratch_free(&s->full);
    attn_scratch_free(&s->last);
}

// The forward of cell b, in the calling thread.
static void cell_forward(Model *m, const Kern *k, CellScratch *cs, size_t b) {
    const ModelConfig *c = &m->cfg;
    const ParamTensors *p = &m->p;
    ActTensors *a = &m->a;
    size_t P = c->P, T = c->T, C = c->C, F = c->F, L = c->L, K = c->K;
    float pdrop = m->training ? c->dropout : 0.0f;
    uint64_t cell = pdrop > 0.0f ? (uint64_t)m->cell_ids[b] : 0;
    float *proj = a->proj + b * T * C;  // (T,C) scratch: proj or fc2 output before bias, dropout, residual

    pathemb_cell_forward(slot(m, a->resid, 0, m->B * T * C) + b * T * C, m->x, b, a->zemb, p->emb_w, p->emb_b, p->cls,
                         m->map, C);
    for (size_t l = 0; l < L; l++) {
        CellLayer v = cell_layer(m, l, b);
        size_t q0 = v.q0, Tq = v.Tq;
        int last = l + 1 == L;  // the last layer only needs the cls row after its qkv projection
        k->ln_forward(v.ln1, v.ln1_mean, v.ln1_rstd, v.xin, p->ln1_w + l * C, p->ln1_b + l * C, T, C);
        const float *bq = p->qkv_b + l * 3 * C;
        for (size_t t = 0; t < T; t++) memcpy(v.qkv + t * 3 * C, bq, 3 * C * sizeof(float));
        mm_forward(v.qkv, v.ln1, p->qkv_w + l * 3 * C * C, T, C, 3 * C, 1);
        attention_cell_forward(v.atty, last ? a->attn + b * P : NULL, v.qkv, C, c->NH, q0, last ? &cs->last : &cs->full);
        mm_forward(proj, v.atty, p->proj_w + l * C * C, Tq, C, C, 0);
        // mid = xin + Dropout(proj + b), then LN2, in one pass
        k->residual(v.mid, v.keep0, v.xin + q0 * C, proj, p->proj_b + l * C, cell, m->seed,
                    model_dropout_stream(m->step, l, 0), pdrop, Tq, C, q0 * C, v.ln2, v.ln2_mean, v.ln2_rstd,
                    p->ln2_w + l * C, p->ln2_b + l * C);
        mm_forward(v.fch, v.ln2, p->fc1_w + l * F * C, Tq, C, F, 0);
        k->bias_gelu(v.fch, v.fch_gelu, p->fc1_b + l * F, Tq, F);
        mm_forward(proj, v.fch_gelu, p->fc2_w + l * C * F, Tq, F, C, 0);
        k->residual(v.xout, v.keep1, v.mid, proj, p->fc2_b + l * C, cell, m->seed, model_dropout_stream(m->step, l, 1),
                    pdrop, Tq, C, q0 * C, NULL, NULL, NULL, NULL, NULL);
    }
    const float *xl = cell_layer(m, L - 1, b).xout;  // (C) the cls row after the last layer
    float *e = a->embedding + b * C, *h1 = a->h1 + b * C, *h1g = a->h1_gelu + b * C, *lo = a->logits + b * K;
    k->ln_forward(e, a->lnf_mean + b, a->lnf_rstd + b, xl, p->lnf_w, p->lnf_b, 1, C);
    mm_forward(h1, e, p->head1_w, 1, C, C, 0);
    k->bias_gelu(h1, h1g, p->head1_b, 1, C);
    memcpy(lo, p->head2_b, K * sizeof(float));
    mm_forward(lo, h1g, p->head2_w, 1, C, K, 1);
}

void model_forward(Model *m, const Csr *x, const int64_t *cell_ids, uint64_t step, uint64_t seed) {
    const ModelConfig *c = &m->cfg;
    size_t B = x->n_rows;
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
    pathemb_zero_forward(m->a.zemb, m->gene_zero, m->p.emb_w, m->map, c->C);
    // the transformer's weights, ln1_w .. head2_b, as the products read them (a bf16 mirror)
    mm_weights_changed(m->p.ln1_w, m->n_params - (size_t)(m->p.ln1_w - m->params));
    const Kern *k = kern();
    // cells are independent: each thread runs whole cells, no barrier between layers
#pragma omp parallel
    {
        CellScratch cs = scratch_alloc(c, 0);
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < B; b++) cell_forward(m, k, &cs, b);
        scratch_free(&cs);
    }
}

// The gradient through inverted dropout of n elements: d itself without dropout, else into scratch.
static const float *dropout_back(const Kern *k, float *scratch, const float *d, const uint8_t *keep, float p,
                                 size_t n) {
    if (p <= 0.0f) return d;
    k->dropout_backward(scratch, d, keep, p, n);
    return scratch;
}

// The backward of a linear layer y = x wᵀ + b on R rows of one cell: the cell's weight and bias
// gradients dw (OC,IC) and db (OC), and din = dy w (R,IC), all overwritten.
static void linear_back(const Kern *k, float *din, float *dw, float *db, const float *dy, const float *x,
                        const float *w, size_t R, size_t OC, size_t IC) {
    k->col_sums(db, dy, R, OC);
    mm_backward_linear(din, dw, dy, x, w, R, OC, IC);
}

// The backward of cell b, in the calling thread: its parameter gradient goes to its own slots of
// m->cell_g (laid out as the parameters from ln1_w on), its token gradient to its rows of dresid.
static void cell_backward(Model *m, const Kern *k, CellScratch *cs, size_t b, const float *dlogits, const float *demb) {
    const ModelConfig *c = &m->cfg;
    const ParamTensors *p = &m->p, *g = &m->g;
    ActTensors *a = &m->a;
    size_t P = c->P, T = c->T, C = c->C, F = c->F, L = c->L, K = c->K;
    float pdrop = c->dropout;
    float *G = m->cell_g + b * m->cell_ld;
#define CG(t) (G + ((t) - g->ln1_w))  // this cell's slot for the gradient element t
    const float *dl = dlogits + b * K, *h1 = a->h1 + b * C, *h1g = a->h1_gelu + b * C, *e = a->embedding + b * C;
    float *dh1g = a->dhead + b * 2 * C, *dh1 = dh1g + C, *dx = a->dcls + b * C;  // (C) each
    float *dres = a->dresid + b * T * C, *dc1 = a->dc1 + b * T * C, *dc2 = a->dc2 + b * T * C;  // (T,C)
    float *dqkv = a->dqkv + b * T * 3 * C, *dfg = a->dfch_gelu + b * T * F, *df = a->dfch + b * T * F;

    // head: logits = GELU(e W1ᵀ + b1) W2ᵀ + b2, then the final LayerNorm of the cls row
    mm_backward_weight(CG(g->head2_w), dl, h1g, 1, K, C);
    memcpy(CG(g->head2_b), dl, K * sizeof(float));
    mm_backward_data(dh1g, dl, p->head2_w, 1, K, C, 0);
    k->gelu_backward(dh1, dh1g, h1, C);
    float *de = dh1g;  // (C) the embedding's gradient: demb plus the head's
    if (demb) memcpy(de, demb + b * C, C * sizeof(float));
    else memset(de, 0, C * sizeof(float));
    mm_backward_data(de, dh1, p->head1_w, 1, C, C, 1);
    mm_backward_weight(CG(g->head1_w), dh1, e, 1, C, C);
    memcpy(CG(g->head1_b), dh1, C * sizeof(float));
    memset(CG(g->lnf_w), 0, C * sizeof(float));
    memset(CG(g->lnf_b), 0, C * sizeof(float));
    memset(dx, 0, C * sizeof(float));
    k->ln_backward(dx, CG(g->lnf_w), CG(g->lnf_b), de, cell_layer(m, L - 1, b).xout, a->lnf_mean + b, a->lnf_rstd + b,
                   p->lnf_w, 1, C);

    for (size_t l = L; l-- > 0;) {
        int last = l + 1 == L;
        CellLayer v = cell_layer(m, l, b);
        size_t q0 = v.q0, Tq = v.Tq;
        float *dxl = last ? dx : dres;  // (Tq,C) the gradient of this layer's output rows

        // MLP branch: xout = mid + Dropout(fc2(GELU(fc1(LN2(mid)))) + b2)
        const float *dy = dropout_back(k, dc1, dxl, v.keep1, pdrop, Tq * C);
        linear_back(k, dfg, CG(g->fc2_w + l * C * F), CG(g->fc2_b + l * C), dy, v.fch_gelu, p->fc2_w + l * C * F, Tq,
                    C, F);
        k->gelu_backward(df, dfg, v.fch, Tq * F);
        linear_back(k, dc2, CG(g->fc1_w + l * F * C), CG(g->fc1_b + l * F), df, v.ln2, p->fc1_w + l * F * C, Tq, F, C);
        memset(CG(g->ln2_w + l * C), 0, C * sizeof(float));
        memset(CG(g->ln2_b + l * C), 0, C * sizeof(float));
        k->ln_backward(dxl, CG(g->ln2_w + l * C), CG(g->ln2_b + l * C), dc2, v.mid, v.ln2_mean, v.ln2_rstd,
                       p->ln2_w + l * C, Tq, C);  // dxl is now d mid

        // attention branch: mid = xin + Dropout(proj(attention(qkv(LN1(xin)))) + bp)
        dy = dropout_back(k, dc1, dxl, v.keep0, pdrop, Tq * C);
        linear_back(k, dc2, CG(g->proj_w + l * C * C), CG(g->proj_b + l * C), dy, v.atty, p->proj_w + l * C * C, Tq, C,
                    C);
        attention_cell_backward(dqkv, dc2, v.qkv, C, c->NH, q0, last ? &cs->last : &cs->full);
        linear_back(k, dc1, CG(g->qkv_w + l * 3 * C * C), CG(g->qkv_b + l * 3 * C), dqkv, v.ln1,
                    p->qkv_w + l * 3 * C * C, T, 3 * C, C);
        if (last) {  // d mid is the residual gradient of the cls row; the other rows get none
            memset(dres, 0, T * C * sizeof(float));
            memcpy(dres + P * C, dxl, C * sizeof(float));
        }
        memset(CG(g->ln1_w + l * C), 0, C * sizeof(float));
        memset(CG(g->ln1_b + l * C), 0, C * sizeof(float));
        k->ln_backward(dres, CG(g->ln1_w + l * C), CG(g->ln1_b + l * C), dc1, v.xin, v.ln1_mean, v.ln1_rstd,
                       p->ln1_w + l * C, T, C);
    }
#undef CG
}

// The whole exact sum of the batch: one collective max for every block (the dense ones held per
// cell in m->cell_g, and the embedding's, bounded from dresid), then the integer adds.
static void sum_cells(Model *m, size_t B) {
    const ModelConfig *c = &m->cfg;
    size_t np = m->n_cell_parts, k = np + 3;
    size_t *off = xmalloc(k * sizeof(size_t)), *len = xmalloc(k * sizeof(size_t));
    double *lmax = xmalloc(k * sizeof(double)), *scale = xmalloc(k * sizeof(double));
    gradsum_parts_max(m->cell_parts, np, B, lmax);
    pathemb_backward_max(lmax + np, m->a.dresid, m->x, m->map, B, c->C);
    for (size_t i = 0; i < np; i++) off[i] = m->cell_parts[i].off, len[i] = m->cell_parts[i].len;
    const float *eg[3] = {m->g.emb_w, m->g.emb_b, m->g.cls};
    size_t el[3] = {c->M * c->C, c->P * c->C, c->C};
    for (size_t i = 0; i < 3; i++) off[np + i] = (size_t)(eg[i] - m->grads), len[np + i] = el[i];
    gradsum_open(&m->gsum, k, off, len, lmax, scale);
    gradsum_parts_add(&m->gsum, m->cell_parts, np, B, scale);
    pathemb_backward_add(&m->gsum, off + np, scale + np, m->a.dresid, m->x, m->map, B, c->C);
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
    const Kern *k = kern();
    if (B) {
#pragma omp parallel
        {
            CellScratch cs = scratch_alloc(&m->cfg, 1);
#pragma omp for schedule(dynamic, 1)
            for (size_t b = 0; b < B; b++) cell_backward(m, k, &cs, b, dlogits, demb);
            scratch_free(&cs);
        }
    }
    sum_cells(m, B);
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
