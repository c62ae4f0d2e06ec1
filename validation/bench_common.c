// bench_common: what the CPU and GPU model benchmarks share — a synthetic paper-size pathway
// map and input batch, and the median of repeated timings.
#include "validation/bench_common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/rng.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *t, size_t n) {
    qsort(t, n, sizeof(double), cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

double bench_cpu_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// P tokens of 10..123 random genes each (mean ~66, M ≈ 20000 for P = 300).
PathwayMap bench_paper_map(size_t P, size_t G, uint64_t seed) {
    size_t *ptr = xcalloc(P + 1, sizeof(size_t));
    int32_t *genes = xmalloc(P * G * sizeof(int32_t));
    uint8_t *used = xmalloc(G);
    size_t M = 0;
    for (size_t j = 0; j < P; j++) {
        size_t want = 10 + (size_t)(rng_u64(seed, 1, j, 0) % 114);
        memset(used, 0, G);
        for (size_t k = 0; k < want; k++) used[rng_u64(seed, 2, j, k) % G] = 1;
        for (size_t g = 0; g < G; g++)
            if (used[g]) genes[M++] = (int32_t)g;
        ptr[j + 1] = M;
    }
    PathwayMap m = pathmap_build(P, G, ptr, genes);
    free(ptr), free(genes), free(used);
    return m;
}

Csr bench_paper_batch(size_t B, size_t G, double density, uint64_t seed) {
    Csr x = csr_alloc(B, G, B * G);
    int64_t k = 0;
    for (size_t b = 0; b < B; b++) {
        for (size_t g = 0; g < G; g++)
            if (rng_uniform(seed, 3, b, g) < density) {
                x.indices[k] = (int32_t)g;
                x.data[k++] = rng_normal(seed, 4, b, g);
            }
        x.indptr[b + 1] = k;
    }
    return x;
}

