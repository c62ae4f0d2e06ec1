// model_fixtures: small random pathway maps, sparse batches and comparisons for the model tests.
#ifndef KIDA_MODEL_FIXTURES_H
#define KIDA_MODEL_FIXTURES_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csr.h"
#include "core/log.h"
#include "core/rng.h"
#include "model/model.h"
#include "model/pathmap.h"

// A map of P tokens over G genes: token j takes each gene with probability ~ frac (at least one
// gene), so genes sit in zero, one or several tokens.
static inline PathwayMap fixture_map(size_t P, size_t G, double frac, uint64_t seed) {
    size_t *ptr = xcalloc(P + 1, sizeof(size_t));
    int32_t *genes = xmalloc(P * G * sizeof(int32_t));
    size_t M = 0;
    for (size_t j = 0; j < P; j++) {
        size_t start = M;
        for (size_t g = 0; g < G; g++)
            if (rng_uniform(seed, 77, j, g) < frac) genes[M++] = (int32_t)g;
        if (M == start) genes[M++] = (int32_t)(rng_u64(seed, 78, j, 0) % G);
        ptr[j + 1] = M;
    }
    PathwayMap m = pathmap_build(P, G, ptr, genes);
    free(ptr);
    free(genes);
    return m;
}

// B cells over G genes, each gene nonzero with probability density, values N(0,1); the global
// cell index of row b is row_start + b.
static inline Csr fixture_batch(size_t B, size_t G, double density, uint64_t seed, size_t row_start) {
    Csr x = csr_alloc(B, G, B * G);
    x.row_start = row_start;
    int64_t k = 0;
    for (size_t b = 0; b < B; b++) {
        for (size_t g = 0; g < G; g++)
            if (rng_uniform(seed, 80, row_start + b, g) < density) {
                x.indices[k] = (int32_t)g;
                x.data[k] = rng_normal(seed, 81, row_start + b, g);
                k++;
            }
        x.indptr[b + 1] = k;
    }
    return x;
}

static inline ModelConfig fixture_config(const PathwayMap *map, size_t C, size_t NH, size_t L, size_t K, float dropout) {
    ModelConfig c = {.G = map->G, .P = map->P, .T = map->P + 1, .M = map->M, .C = C, .NH = NH, .L = L,
                     .F = 4 * C, .K = K, .dropout = dropout};
    return c;
}

static inline void fixture_fill(float *x, size_t n, float sd, uint64_t seed, uint64_t stream) {
    for (size_t i = 0; i < n; i++) x[i] = sd * rng_normal(seed, stream, i, 0);
}

// Largest |a - b| over n floats, relative to the largest |b| (floor 1e-30).
static inline double fixture_rel_diff(const float *a, const float *b, size_t n) {
    double num = 0.0, den = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > num || isnan(d)) num = isnan(d) ? INFINITY : d;
        if (fabs((double)b[i]) > den) den = fabs((double)b[i]);
    }
    return num / den;
}
#endif
