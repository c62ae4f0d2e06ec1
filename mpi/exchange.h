// exchange: moving cells between ranks. Cells are block-distributed (dist_block) by global index;
// a training step needs the cells of its slice of a global batch wherever they live. One call
// fetches a list of global rows (CSR) plus an optional dense float payload per row (labels,
// teacher logits) from their owners: two all-to-all rounds, requests then rows.
#ifndef KIDA_EXCHANGE_H
#define KIDA_EXCHANGE_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "mpi/dist.h"

// mine: this rank's block of a matrix of n_total rows (mine->row_start, mine->n_rows as given by
// dist_block). payload: (mine->n_rows, width) floats or NULL (width 0). want: n_want global row
// indices (any order, repeats allowed). Returns the wanted rows in want's order (row_start 0) and,
// when width > 0, *payload_out = (n_want, width). Collective.
Csr exchange_rows(const Dist *d, const Csr *mine, size_t n_total, const float *payload, size_t width,
                  const int64_t *want, size_t n_want, float **payload_out);
// Copies rows [first, first+count) of src into a new matrix (indptr starting at 0).
Csr csr_slice(const Csr *src, size_t first, size_t count);
#endif
