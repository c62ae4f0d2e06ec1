// ranked: (value, index) pairs sorted by value, largest first, ties by the lower index, so that a
// ranking never depends on qsort's order of equal keys (marker genes, key genes and pathways,
// the novel-type rule's markers).
#ifndef KIDA_RANKED_H
#define KIDA_RANKED_H
#include <stddef.h>
#include <stdlib.h>

typedef struct {
    double v;
    size_t i;
} Ranked;

static inline int ranked_cmp_desc(const void *a, const void *b) {
    const Ranked *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static inline void ranked_sort_desc(Ranked *r, size_t n) { qsort(r, n, sizeof *r, ranked_cmp_desc); }
#endif
