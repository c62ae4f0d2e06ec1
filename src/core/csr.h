// csr: a block of rows of a sparse matrix in compressed sparse row form, the in-memory shape of
// every expression matrix in kida (a rank holds only its own rows).
#ifndef KIDA_CSR_H
#define KIDA_CSR_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t n_rows;      // rows held here
    size_t n_cols;      // columns (genes or peaks) of the whole matrix
    size_t row_start;   // global index of the first row held here
    int64_t *indptr;    // (n_rows+1) offsets into indices/data, indptr[0] == 0
    int32_t *indices;   // (nnz) column of each value, ascending within a row
    float *data;        // (nnz) values
} Csr;

static inline size_t csr_nnz(const Csr *m) { return m->indptr ? (size_t)m->indptr[m->n_rows] : 0; }
void csr_free(Csr *m);                         // frees arrays, zeroes the struct
Csr csr_alloc(size_t n_rows, size_t n_cols, size_t nnz);
// The rows of parts[0], then parts[1], ... as one new matrix of n_cols columns (row_start 0).
Csr csr_vstack(const Csr *parts, size_t n_parts, size_t n_cols);
// A copy of m in another column space: column j becomes to[j] (dropped when to[j] < 0), rows
// re-sorted by column, explicit zeros dropped. Two columns sent to the same column stay two
// entries (the caller checks, as prep_transform does).
Csr csr_map_columns(const Csr *m, const int32_t *to, size_t n_cols);
// A copy of the rows r of m with keep[r] != 0, in order (row_start 0).
Csr csr_select_rows(const Csr *m, const uint8_t *keep);
#endif
