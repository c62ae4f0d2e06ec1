// csr: see csr.h.
#include "csr.h"

#include <string.h>

#include "log.h"

Csr csr_alloc(size_t n_rows, size_t n_cols, size_t nnz) {
    Csr m = {.n_rows = n_rows, .n_cols = n_cols};
    m.indptr = xcalloc(n_rows + 1, sizeof(int64_t));
    m.indices = xmalloc(nnz * sizeof(int32_t));
    m.data = xmalloc(nnz * sizeof(float));
    return m;
}

void csr_free(Csr *m) {
    free(m->indptr);
    free(m->indices);
    free(m->data);
    memset(m, 0, sizeof *m);
}
