// gradsum: see gradsum.h.
#include "model/gradsum.h"

#include <math.h>
#include <string.h>

#include "core/log.h"
#include "model/kern.h"

void gradsum_init(GradSum *s, size_t n) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->acc = xcalloc_for(n ? n : 1, sizeof(int64_t), "gradient sums of %zu parameters", n);
}

void gradsum_free(GradSum *s) {
    free(s->acc);
    free(s->blocks);
    memset(s, 0, sizeof *s);
}

void gradsum_begin(GradSum *s, size_t n_cells, GradMaxFn max, void *ctx) {
    int lg = 0;
    while (lg < 62 && ((size_t)1 << lg) < n_cells) lg++;
    s->qbits = 60 - lg < 50 ? 60 - lg : 50;
    s->max = max;
    s->ctx = ctx;
    s->n_blocks = 0;
    s->nonfinite = 0;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < s->n; i++) s->acc[i] = 0;
}

void gradsum_open(GradSum *s, size_t k, const size_t *off, const size_t *len, const double *lmax, double *scale) {
    double *m = xcalloc_for(k ? k : 1, sizeof(double), "gradient sums: maxima of %zu blocks", k);
    for (size_t i = 0; i < k; i++) m[i] = isnan(lmax[i]) ? INFINITY : lmax[i];   // a max keeps an infinity
    if (s->max) s->max(s->ctx, m, k);
    if (s->n_blocks + k > s->cap) {
        s->cap = szmul(2, szadd(s->n_blocks, k));
        s->blocks = xrealloc_for(s->blocks, szmul(s->cap, sizeof(GradBlock)), "gradient sums: %zu blocks", s->cap);
    }
    for (size_t i = 0; i < k; i++) {
        if (off[i] + len[i] > s->n) FATAL("internal error", "gradsum_open: block %zu+%zu beyond %zu", off[i], len[i], s->n);
        if (!isfinite(m[i])) {   // the same on every process: m is the agreed maximum
            s->nonfinite = 1;
            s->blocks[s->n_blocks++] = (GradBlock){off[i], len[i], 0};
            scale[i] = 0.0;
            continue;
        }
        int ex = 0;
        if (m[i] > 0) frexp(m[i], &ex);  // m < 2^ex, so |v| 2^(qbits-ex) < 2^qbits
        int e = m[i] > 0 ? s->qbits - ex : 0;
        s->blocks[s->n_blocks++] = (GradBlock){off[i], len[i], e};
        scale[i] = ldexp(1.0, e);
    }
    free(m);
}

void gradsum_add(int64_t *acc, const float *v, size_t n, double scale) {
    if (scale == 0.0) return;  // a non-finite block (gradsum_open)
    kern()->fix_add(acc, v, n, scale);
}

void gradsum_add_scaled(int64_t *acc, const float *v, float a, size_t n, double scale) {
    if (scale == 0.0) return;
    kern()->fix_add_scaled(acc, v, a, n, scale);
}

float gradsum_max_abs(const float *v, size_t n) { return kern()->max_abs(v, n); }

void gradsum_parts_max(const GradPart *parts, size_t k, size_t B, double *lmax) {
    for (size_t p = 0; p < k; p++) {
        float m = 0.0f;
        int bad = 0;
        const GradPart *g = &parts[p];
#pragma omp parallel for schedule(static) reduction(max : m) reduction(| : bad)
        for (size_t b = 0; b < B; b++) {
            float mb = gradsum_max_abs(g->v + b * g->stride, g->len);
            bad |= isnan(mb);
            m = mb > m ? mb : m;
        }
        lmax[p] = bad ? NAN : m;
    }
}

void gradsum_parts_add(GradSum *s, const GradPart *parts, size_t k, size_t B, const double *scale) {
    // threads own slices of a block; each slice adds the cells in order (any order would do)
    enum { SLICE = 2048 };
    for (size_t p = 0; p < k; p++) {
        const GradPart *g = &parts[p];
        size_t ns = (g->len + SLICE - 1) / SLICE;
#pragma omp parallel for schedule(static)
        for (size_t j = 0; j < ns; j++) {
            size_t i0 = j * SLICE, n = g->len - i0 < SLICE ? g->len - i0 : SLICE;
            for (size_t b = 0; b < B; b++) gradsum_add(s->acc + g->off + i0, g->v + b * g->stride + i0, n, scale[p]);
        }
    }
}

float gradsum_value(const GradSum *s, const GradBlock *b, size_t i) {
    return (float)ldexp((double)s->acc[i], -b->e);
}

void gradsum_to_float(const GradSum *s, float *grads) {
    if (s->nonfinite) {
        for (size_t k = 0; k < s->n_blocks; k++)
            for (size_t i = s->blocks[k].off; i < s->blocks[k].off + s->blocks[k].len; i++) grads[i] = NAN;
        return;
    }
    for (size_t k = 0; k < s->n_blocks; k++) {
        const GradBlock *b = &s->blocks[k];
        double step = ldexp(1.0, -b->e);
#pragma omp parallel for schedule(static)
        for (size_t i = b->off; i < b->off + b->len; i++) grads[i] += (float)((double)s->acc[i] * step);
    }
}

const GradBlock *gradsum_block(const GradSum *s, size_t off) {
    for (size_t k = 0; k < s->n_blocks; k++)
        if (s->blocks[k].off == off) return &s->blocks[k];
    return NULL;
}
