// gradreduce: see gradreduce.h.
#include "train/gradreduce.h"

#include <stdlib.h>

#include "core/log.h"

// GradMaxFn over the ranks of a Dist.
static void max_over_ranks(void *ctx, double *v, size_t n) { dist_allreduce_max_f64((const Dist *)ctx, v, n); }

void grad_reduce_backward(Model *m, const Dist *d, const float *dlogits, const float *demb, size_t c, size_t n_cells) {
    model_backward_begin(m, n_cells, d->size > 1 ? max_over_ranks : NULL, (void *)d);
    model_backward_part(m, dlogits, demb, c);
    dist_allreduce_sum_i64(d, m->gsum.acc, m->n_params);
    model_backward_end(m);
}

double grad_reduce_sum_rows(const Dist *d, const double *v, size_t n, size_t n_total) {
    size_t s0, cnt;
    dist_block(n_total, d->rank, d->size, &s0, &cnt);
    if (cnt != n) FATAL("internal error", "grad_reduce_sum_rows: rank holds %zu rows, its slice of %zu is %zu", n, n_total, cnt);
    double *all = xcalloc_for(n_total ? n_total : 1, sizeof(double), "loss: rows of a batch of %zu cells", n_total);
    dist_allgatherv_f64(d, v, n, all, NULL);  // rank order is row order: dist_block's slices are contiguous
    double s = 0.0;
    for (size_t i = 0; i < n_total; i++) s += all[i];
    free(all);
    return s;
}
