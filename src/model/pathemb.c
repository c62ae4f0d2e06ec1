// pathemb: the sparse gene -> pathway-token embedding (see layers.h). Only the nonzero genes of a
// cell are touched; the zero-count part of every token is one (P,C) term per forward, and its
// gradient one (M,C) pass per step from the summed bias gradient.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/log.h"
#include "model/layers.h"

void pathemb_zero_forward(float *zemb, const float *zero, const float *emb_w, const PathwayMap *map, size_t C) {
#pragma omp parallel for schedule(static)
    for (size_t j = 0; j < map->P; j++) {
        float *z = zemb + j * C;  // (C)
        memset(z, 0, C * sizeof(float));
        for (size_t r = map->path_ptr[j]; r < map->path_ptr[j + 1]; r++) {
            float zg = zero[map->member_gene[r]];
            if (zg == 0.0f) continue;
            const float *w = emb_w + r * C;  // (C)
            for (size_t c = 0; c < C; c++) z[c] += zg * w[c];
        }
    }
}

void pathemb_forward(float *out, const Csr *x, const float *zemb, const float *emb_w, const float *emb_b,
                     const float *cls, const PathwayMap *map, size_t C) {
    size_t B = x->n_rows, T = map->P + 1;
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++) pathemb_cell_forward(out + b * T * C, x, b, zemb, emb_w, emb_b, cls, map, C);
}

void pathemb_cell_forward(float *ob, const Csr *x, size_t b, const float *zemb, const float *emb_w, const float *emb_b,
                          const float *cls, const PathwayMap *map, size_t C) {
    size_t P = map->P;
    // omp simd: the baseline vector width without FMA contraction, so every vector path (and
    // earlier builds) computes the same bits
#pragma omp simd
    for (size_t i = 0; i < P * C; i++) ob[i] = emb_b[i] + zemb[i];
    memcpy(ob + P * C, cls, C * sizeof(float));
    for (int64_t k = x->indptr[b]; k < x->indptr[b + 1]; k++) {
        size_t g = (size_t)x->indices[k];
        float d = x->data[k];
        for (size_t q = map->gene_ptr[g]; q < map->gene_ptr[g + 1]; q++) {
            size_t r = map->gene_rows[q];
            const float *w = emb_w + r * C;          // (C)
            float *o = ob + map->row_token[r] * C;  // (C)
#pragma omp simd
            for (size_t c = 0; c < C; c++) o[c] += d * w[c];
        }
    }
}

// First position in row b of x whose gene is >= g.
static int64_t csr_row_lower_bound(const Csr *x, size_t b, int32_t g) {
    int64_t lo = x->indptr[b], hi = x->indptr[b + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (x->indices[mid] < g) lo = mid + 1; else hi = mid;
    }
    return lo;
}

void pathemb_backward_max(double lmax[3], const float *dout, const Csr *x, const PathwayMap *map, size_t B, size_t C) {
    size_t P = map->P, T = P + 1;
    // largest |dout| of every (cell, token) row: the bound of each block's contributions
    float *rm = xmalloc_for(szmul(szmul(B ? B : 1, T), sizeof(float)),  // (B,T)
                            "pathway embedding: row maxima of %zu cells x %zu tokens", B, T);
    float mb = 0.0f, mc = 0.0f;
#pragma omp parallel for schedule(static) reduction(max : mb, mc)
    for (size_t b = 0; b < B; b++) {
        for (size_t j = 0; j < T; j++) rm[b * T + j] = gradsum_max_abs(dout + (b * T + j) * C, C);
        for (size_t j = 0; j < P; j++) mb = rm[b * T + j] > mb ? rm[b * T + j] : mb;
        mc = rm[b * T + P] > mc ? rm[b * T + P] : mc;
    }
    double mw = 0.0;  // emb_w: a nonzero d of gene g adds d · dout[b, token(r)] to each of its rows r
#pragma omp parallel for schedule(static) reduction(max : mw)
    for (size_t b = 0; b < B; b++)
        for (int64_t k = x->indptr[b]; k < x->indptr[b + 1]; k++) {
            size_t g = (size_t)x->indices[k];
            double d = fabs((double)x->data[k]);
            for (size_t q = map->gene_ptr[g]; q < map->gene_ptr[g + 1]; q++) {
                double v = d * (double)rm[b * T + map->row_token[map->gene_rows[q]]];
                mw = v > mw ? v : mw;
            }
        }
    free(rm);
    lmax[0] = mw, lmax[1] = mb, lmax[2] = mc;
}

void pathemb_backward_add(GradSum *s, const size_t off[3], const double scale[3], const float *dout, const Csr *x,
                          const PathwayMap *map, size_t B, size_t C) {
    size_t P = map->P, T = P + 1, G = map->G;
    // emb_b and cls: every cell's token rows as they are
    enum { SLICE = 2048 };
    size_t ns = (P * C + SLICE - 1) / SLICE;
#pragma omp parallel for schedule(static)
    for (size_t j = 0; j < ns; j++) {
        size_t i0 = j * SLICE, n = P * C - i0 < SLICE ? P * C - i0 : SLICE;
        for (size_t b = 0; b < B; b++) gradsum_add(s->acc + off[1] + i0, dout + b * T * C + i0, n, scale[1]);
    }
    for (size_t b = 0; b < B; b++) gradsum_add(s->acc + off[2], dout + (b * T + P) * C, C, scale[2]);
    // the nonzeros: every membership row belongs to one gene, so threads own gene ranges
#pragma omp parallel
    {
#ifdef _OPENMP
        size_t nt = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
#else
        size_t nt = 1, t = 0;
#endif
        int32_t g0 = (int32_t)(G * t / nt), g1 = (int32_t)(G * (t + 1) / nt);
        for (size_t b = 0; b < B; b++) {
            const float *db = dout + b * T * C;  // (T,C)
            for (int64_t k = csr_row_lower_bound(x, b, g0); k < x->indptr[b + 1] && x->indices[k] < g1; k++) {
                size_t g = (size_t)x->indices[k];
                float d = x->data[k];
                for (size_t q = map->gene_ptr[g]; q < map->gene_ptr[g + 1]; q++) {
                    size_t r = map->gene_rows[q];
                    gradsum_add_scaled(s->acc + off[0] + r * C, db + map->row_token[r] * C, d, C, scale[0]);
                }
            }
        }
    }
}

void pathemb_zero_backward(float *demb_w, const float *demb_b, const float *zero, const PathwayMap *map, size_t C) {
#pragma omp parallel for schedule(static)
    for (size_t j = 0; j < map->P; j++) {
        const float *s = demb_b + j * C;  // (C)
        for (size_t r = map->path_ptr[j]; r < map->path_ptr[j + 1]; r++) {
            float zg = zero[map->member_gene[r]];
            if (zg == 0.0f) continue;
            float *dw = demb_w + r * C;  // (C)
            for (size_t c = 0; c < C; c++) dw[c] += zg * s[c];
        }
    }
}

void pathemb_backward(float *demb_w, float *demb_b, float *dcls, const float *dout, const Csr *x,
                      const float *zero, const PathwayMap *map, size_t C) {
#define EMB_WHAT "pathway embedding: gradient of %zu memberships and %zu tokens x width %zu", map->M, map->P, C
    size_t MC = szmul_for(map->M, C, EMB_WHAT), PC = szmul_for(map->P, C, EMB_WHAT), B = x->n_rows;
    size_t n = szadd_for(szadd_for(MC, PC, EMB_WHAT), C, EMB_WHAT);
    GradSum s;
    gradsum_init(&s, n);
    gradsum_begin(&s, B, NULL, NULL);
    size_t off[3] = {0, MC, MC + PC}, len[3] = {MC, PC, C};
    double lmax[3], scale[3];
    pathemb_backward_max(lmax, dout, x, map, B, C);
    gradsum_open(&s, 3, off, len, lmax, scale);
    pathemb_backward_add(&s, off, scale, dout, x, map, B, C);
    float *g = xcalloc_for(n, sizeof(float), EMB_WHAT);  // emb_w | emb_b | cls of this batch
#undef EMB_WHAT
    gradsum_to_float(&s, g);
    pathemb_zero_backward(g, g + MC, zero, map, C);
    for (size_t i = 0; i < MC; i++) demb_w[i] += g[i];
    for (size_t i = 0; i < PC; i++) demb_b[i] += g[MC + i];
    for (size_t i = 0; i < C; i++) dcls[i] += g[MC + PC + i];
    free(g);
    gradsum_free(&s);
}
