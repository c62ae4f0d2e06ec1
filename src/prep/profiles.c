// profiles: see profiles.h.
#include "prep/profiles.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/exactsum.h"
#include "core/log.h"

#define PR_WHAT "expression profiles: %zu groups x %zu genes", n_groups, G

ProfileSums profiles_begin(size_t n_groups, size_t G) {
    size_t slots = szmul_for(szmul_for(n_groups, G, PR_WHAT), EXACT_NDIG, PR_WHAT);
    ProfileSums p = {.n_groups = n_groups, .G = G};
    p.acc = xcalloc_for(szadd_for(slots, n_groups, PR_WHAT) + 1, sizeof(int64_t), PR_WHAT);
    return p;
}

static void normalize_all(ProfileSums *p) {
    for (size_t i = 0; i < p->n_groups * p->G; i++) exact_normalize(p->acc + i * EXACT_NDIG, 1);
    p->rows = 0;
}

void profiles_add(ProfileSums *p, const Csr *x, const int32_t *group) {
    size_t G = p->G, K = p->n_groups;
    int64_t *size = p->acc + K * G * EXACT_NDIG;
    if (x->n_rows && x->n_cols != G) FATAL("a bug in kida", "profiles: %zu input columns, %zu model genes", (size_t)x->n_cols, G);
    for (size_t r = 0; r < x->n_rows; r++) {
        int32_t k = group[r];
        if (k < 0) continue;
        if ((size_t)k >= K) FATAL("a bug in kida", "profiles: group %d of row %zu >= %zu", (int)k, r, K);
        size[k]++;
        for (int64_t j = x->indptr[r]; j < x->indptr[r + 1]; j++)
            exact_add_f32(p->acc + ((size_t)k * G + (size_t)x->indices[j]) * EXACT_NDIG, 1, x->data[j]);
        if (++p->rows == EXACT_MAX_ADDS) normalize_all(p);   // each row adds to a slot at most once
    }
}

float *profiles_finish(ProfileSums *p, const PrepStats *s, int64_t *count, const Dist *d) {
    size_t G = p->G, n_groups = p->n_groups, slots = n_groups * G * EXACT_NDIG;
    if (G != s->G) FATAL("a bug in kida", "profiles: %zu genes, %zu model genes", G, s->G);
    normalize_all(p);
    dist_allreduce_sum_i64(d, p->acc, slots + n_groups);
    normalize_all(p);
    const int64_t *size = p->acc + slots;
    float *out = xmalloc_for(szmul_for(n_groups ? n_groups : 1, G ? G : 1, PR_WHAT) * sizeof(float), PR_WHAT);
    for (size_t k = 0; k < n_groups; k++) {
        if (count) count[k] = size[k];
        for (size_t g = 0; g < G; g++) {
            double dm = size[k] ? exact_to_double(p->acc + (k * G + g) * EXACT_NDIG, 1) / (double)size[k] : NAN;
            out[k * G + g] = (float)(((double)s->zero[g] + dm) * (double)s->std[g] + (double)s->mean[g]);
        }
    }
    free(p->acc);
    p->acc = NULL;
    return out;
}

float *profiles_means(const Csr *x, const int32_t *group, size_t n_groups, const PrepStats *s, int64_t *count,
                      const Dist *d) {
    ProfileSums p = profiles_begin(n_groups, x->n_cols);
    profiles_add(&p, x, group);
    return profiles_finish(&p, s, count, d);
}
