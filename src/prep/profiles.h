// profiles: the mean expression profile of groups of cells over the model genes, on the log
// scale (log1p of the normalised counts: x̃ · std + mean, undoing the scaling). The reference's
// types have one each (stored in the model file as prep/type_profile); kida's novel-type rule
// compares a query cluster's profile with its label's (analysis/novelty.h). Sums are exact
// (core/exactsum.h), so any rank count and any split into blocks give the same profiles.
#ifndef KIDA_PROFILES_H
#define KIDA_PROFILES_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "mpi/dist.h"
#include "prep/preprocess.h"

typedef struct {
    size_t n_groups, G;
    int64_t *acc;    // (n_groups, G, EXACT_NDIG) exact sums of d, then (n_groups) cell counts
    size_t rows;     // rows added since the sums were last normalised
} ProfileSums;

ProfileSums profiles_begin(size_t n_groups, size_t G);
// Adds a block of model input rows (d = x̃ - zero, as prep_transform gives them, n_cols = G);
// group (x->n_rows): each row's group in [0, n_groups), -1 = none. Not collective.
void profiles_add(ProfileSums *p, const Csr *x, const int32_t *group);
// The (n_groups, G) means over all ranks on the log scale, a row of NAN for a group without
// cells; count (n_groups, may be NULL) gets each group's cells. Frees p's sums. Collective.
float *profiles_finish(ProfileSums *p, const PrepStats *s, int64_t *count, const Dist *d);
// begin + add(x) + finish. Collective.
float *profiles_means(const Csr *x, const int32_t *group, size_t n_groups, const PrepStats *s, int64_t *count,
                      const Dist *d);
#endif
