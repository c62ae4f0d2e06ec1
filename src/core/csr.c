// csr: see csr.h.
#include "core/csr.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

Csr csr_alloc(size_t n_rows, size_t n_cols, size_t nnz) {
    Csr m = {.n_rows = n_rows, .n_cols = n_cols};
    m.indptr = xcalloc_for(szadd(n_rows, 1), sizeof(int64_t), "sparse matrix of %zu rows x %zu columns", n_rows, n_cols);
    m.indices = xmalloc_for(szmul(nnz, sizeof(int32_t)), "sparse matrix of %zu rows x %zu columns, %zu entries", n_rows,
                            n_cols, nnz);
    m.data = xmalloc_for(szmul(nnz, sizeof(float)), "sparse matrix of %zu rows x %zu columns, %zu entries", n_rows, n_cols,
                         nnz);
    return m;
}

void csr_free(Csr *m) {
    free(m->indptr);
    free(m->indices);
    free(m->data);
    memset(m, 0, sizeof *m);
}

Csr csr_vstack(const Csr *parts, size_t n_parts, size_t n_cols) {
    size_t rows = 0, nnz = 0;
    for (size_t p = 0; p < n_parts; p++) rows += parts[p].n_rows, nnz += csr_nnz(&parts[p]);
    Csr m = csr_alloc(rows, n_cols, nnz ? nnz : 1);
    size_t r = 0, k = 0;
    for (size_t p = 0; p < n_parts; p++) {
        const Csr *a = &parts[p];
        size_t an = csr_nnz(a);
        if (an) {
            memcpy(&m.indices[k], a->indices, an * sizeof(int32_t));
            memcpy(&m.data[k], a->data, an * sizeof(float));
        }
        for (size_t i = 0; i < a->n_rows; i++) m.indptr[r + i + 1] = (int64_t)k + a->indptr[i + 1];
        r += a->n_rows;
        k += an;
    }
    return m;
}

typedef struct { int32_t col; float val; } Entry;

static int cmp_entry(const void *a, const void *b) {
    int32_t x = ((const Entry *)a)->col, y = ((const Entry *)b)->col;
    return (x > y) - (x < y);
}

Csr csr_map_columns(const Csr *m, const int32_t *to, size_t n_cols) {
    size_t nnz = csr_nnz(m), k = 0, widest = 0;
    Csr out = csr_alloc(m->n_rows, n_cols, nnz ? nnz : 1);
    out.row_start = m->row_start;
    for (size_t i = 0; i < m->n_rows; i++) {
        size_t len = (size_t)(m->indptr[i + 1] - m->indptr[i]);
        if (len > widest) widest = len;
    }
    Entry *row = xmalloc((widest ? widest : 1) * sizeof(Entry));
    for (size_t i = 0; i < m->n_rows; i++) {
        size_t len = 0;
        for (int64_t p = m->indptr[i]; p < m->indptr[i + 1]; p++)
            if (to[m->indices[p]] >= 0 && m->data[p] != 0) row[len++] = (Entry){to[m->indices[p]], m->data[p]};
        qsort(row, len, sizeof(Entry), cmp_entry);
        for (size_t j = 0; j < len; j++, k++) {
            out.indices[k] = row[j].col;
            out.data[k] = row[j].val;
        }
        out.indptr[i + 1] = (int64_t)k;
    }
    free(row);
    return out;
}

Csr csr_select_rows(const Csr *m, const uint8_t *keep) {
    size_t n = 0, nnz = 0;
    for (size_t r = 0; r < m->n_rows; r++)
        if (keep[r]) n++, nnz += (size_t)(m->indptr[r + 1] - m->indptr[r]);
    Csr o = csr_alloc(n, m->n_cols, nnz);
    size_t i = 0;
    for (size_t r = 0; r < m->n_rows; r++) {
        if (!keep[r]) continue;
        size_t a = (size_t)m->indptr[r], len = (size_t)m->indptr[r + 1] - a, at = (size_t)o.indptr[i];
        memcpy(o.indices + at, m->indices + a, len * sizeof(int32_t));
        memcpy(o.data + at, m->data + a, len * sizeof(float));
        o.indptr[++i] = (int64_t)(at + len);
    }
    return o;
}
