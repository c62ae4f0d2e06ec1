// pathemb: the sparse gene -> pathway-token embedding (see layers.h). Only the nonzero genes of a
// cell are touched; the zero-count part of every token is one (P,C) term per forward.
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
    size_t B = x->n_rows, P = map->P, T = P + 1;
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++) {
        float *ob = out + b * T * C;  // (T,C)
        for (size_t i = 0; i < P * C; i++) ob[i] = emb_b[i] + zemb[i];
        memcpy(ob + P * C, cls, C * sizeof(float));
        for (int64_t k = x->indptr[b]; k < x->indptr[b + 1]; k++) {
            size_t g = (size_t)x->indices[k];
            float d = x->data[k];
            for (size_t q = map->gene_ptr[g]; q < map->gene_ptr[g + 1]; q++) {
                size_t r = map->gene_rows[q];
                const float *w = emb_w + r * C;           // (C)
                float *o = ob + map->row_token[r] * C;   // (C)
                for (size_t c = 0; c < C; c++) o[c] += d * w[c];
            }
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

void pathemb_backward(float *demb_w, float *demb_b, float *dcls, const float *dout, const Csr *x,
                      const float *zero, const PathwayMap *map, size_t C) {
    size_t B = x->n_rows, P = map->P, T = P + 1, G = map->G;
#pragma omp parallel
    {
        // bias, cls and the zero-count term: all need Σ_b dout[b,j], per token
        float *s = xmalloc(C * sizeof(float));  // (C)
#pragma omp for schedule(static)
        for (size_t j = 0; j < T; j++) {
            memset(s, 0, C * sizeof(float));
            for (size_t b = 0; b < B; b++) {
                const float *d = dout + (b * T + j) * C;  // (C)
                for (size_t c = 0; c < C; c++) s[c] += d[c];
            }
            float *dst = j < P ? demb_b + j * C : dcls;  // (C)
            for (size_t c = 0; c < C; c++) dst[c] += s[c];
            if (j == P) continue;
            for (size_t r = map->path_ptr[j]; r < map->path_ptr[j + 1]; r++) {
                float zg = zero[map->member_gene[r]];
                float *dw = demb_w + r * C;  // (C)
                for (size_t c = 0; c < C; c++) dw[c] += zg * s[c];
            }
        }
        free(s);
        // the nonzeros: every membership row belongs to one gene, so threads own gene ranges
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
                    const float *dt = db + map->row_token[r] * C;  // (C)
                    float *dw = demb_w + r * C;                     // (C)
                    for (size_t c = 0; c < C; c++) dw[c] += d * dt[c];
                }
            }
        }
    }
}
