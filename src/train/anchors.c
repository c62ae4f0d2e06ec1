// anchors: see anchors.h.
#include "train/anchors.h"

#include <math.h>
#include <stdlib.h>

#include "core/log.h"

typedef struct {
    float e;
    int32_t cls;
    int64_t id;
} Cand;

static int cand_cmp(const void *a, const void *b) {
    const Cand *x = a, *y = b;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    if (x->e != y->e) return x->e < y->e ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int id_cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int64_t *anchors_select(const Dist *d, const int32_t *pred, const float *entropy, size_t n_local, size_t n_total,
                        size_t K, double fraction, size_t min_per_type, size_t *n_anchor) {
#define ANCHOR_WHAT "anchors: %zu cells (%zu on this rank)", n_total, n_local
    float *e_all = xcalloc_for(n_total ? n_total : 1, sizeof(float), ANCHOR_WHAT);
    float *p_loc = xcalloc_for(n_local ? n_local : 1, sizeof(float), ANCHOR_WHAT);
    float *p_all = xcalloc_for(n_total ? n_total : 1, sizeof(float), ANCHOR_WHAT);
    for (size_t i = 0; i < n_local; i++) p_loc[i] = (float)pred[i];  // class ids are exact in float
    dist_allgatherv_f32(d, entropy, n_local, e_all, NULL);
    dist_allgatherv_f32(d, p_loc, n_local, p_all, NULL);
    Cand *c = xcalloc_for(n_total ? n_total : 1, sizeof(Cand), ANCHOR_WHAT);
    for (size_t i = 0; i < n_total; i++) c[i] = (Cand){e_all[i], (int32_t)p_all[i], (int64_t)i};
    qsort(c, n_total, sizeof(Cand), cand_cmp);
    int64_t *out = xcalloc_for(n_total ? n_total : 1, sizeof(int64_t), ANCHOR_WHAT);
#undef ANCHOR_WHAT
    size_t n_out = 0;
    size_t first = 0;
    while (first < n_total && c[first].cls < 0) first++;  // cells excluded from anchors
    for (size_t i = first; i < n_total;) {
        size_t j = i;
        while (j < n_total && c[j].cls == c[i].cls) j++;
        size_t take = (size_t)ceil(fraction * (double)(j - i) - 1e-9);
        if (take < min_per_type) take = min_per_type;
        if (take > j - i) take = j - i;
        for (size_t k = 0; k < take; k++) out[n_out++] = c[i + k].id;
        i = j;
    }
    qsort(out, n_out, sizeof(int64_t), id_cmp);
    (void)K;
    free(e_all); free(p_loc); free(p_all); free(c);
    *n_anchor = n_out;
    return out;
}
