// markers: each reference type's marker genes among the model genes, for choosing pathways that
// mean something for the reference's cell types. On the model input (scaled log values), a
// one-vs-rest Welch t statistic per type and gene; a type's markers are its n genes of highest
// positive t. Sums are exact (core/exactsum.h), so every rank count gives the same markers.
#ifndef KIDA_MARKERS_H
#define KIDA_MARKERS_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "mpi/dist.h"

typedef struct {
    size_t K, G, n;      // types, model genes, markers per type (at most n; fewer when few t > 0)
    size_t *count;       // (K) markers of type k
    int32_t *gene;       // (K,n) model gene of the j-th marker of type k, by descending t
} Markers;

// x: this rank's block of model input rows (d = x̃ - zero, as prep_transform gives them; row r
// is global cell x->row_start + r); y: the type of every global cell (-1: unlabelled or not to be
// used, e.g. held out). Collective. A type with fewer than 2 cells, or when the rest has fewer
// than 2, gets no markers.
Markers markers_find(const Csr *x, const int32_t *y, size_t K, size_t n, const Dist *d);
void markers_free(Markers *m);
#endif
