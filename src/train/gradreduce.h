// gradreduce: the sums of a data-parallel training step, made independent of the rank count. A
// global batch is cut into per-rank slices of whole cells; every sum over its cells is either
// exact (the parameter gradient: per-cell contributions rounded to a grid the ranks agree on and
// added as integers, model/gradsum.h, then one integer all-reduce) or taken in the global batch's
// order after a gather (per-cell losses). So 1, 2, 3 or N ranks get the same bits.
#ifndef KIDA_GRADREDUCE_H
#define KIDA_GRADREDUCE_H
#include <stddef.h>

#include "model/model.h"
#include "mpi/dist.h"

// m->grads += the gradient of the global batch of n_cells cells, of which this rank holds the c
// cells of its last model_forward (c may be 0: it still takes part). dlogits (c,K), demb (c,C)
// or NULL. Collective.
void grad_reduce_backward(Model *m, const Dist *d, const float *dlogits, const float *demb, size_t c, size_t n_cells);
// Σ of the n_total values of a global batch, this rank holding its dist_block slice of n values,
// added one at a time in batch order: the same double for every rank count. Collective.
double grad_reduce_sum_rows(const Dist *d, const double *v, size_t n, size_t n_total);
#endif
