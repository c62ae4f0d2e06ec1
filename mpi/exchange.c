// exchange: see exchange.h.
#include "mpi/exchange.h"

#include <string.h>

#include "core/log.h"

Csr csr_slice(const Csr *src, size_t first, size_t count) {
    int64_t lo = src->indptr[first], hi = src->indptr[first + count];
    Csr out = csr_alloc(count, src->n_cols, (size_t)(hi - lo));
    out.row_start = src->row_start + first;
    for (size_t i = 0; i <= count; i++) out.indptr[i] = src->indptr[first + i] - lo;
    memcpy(out.indices, src->indices + lo, (size_t)(hi - lo) * sizeof(int32_t));
    memcpy(out.data, src->data + lo, (size_t)(hi - lo) * sizeof(float));
    return out;
}

// Owner of global row g under dist_block(n, ., size).
static int owner_of(size_t g, size_t n, int size) {
    size_t base = n / (size_t)size, extra = n % (size_t)size;
    size_t cut = extra * (base + 1);
    if (g < cut) return (int)(g / (base + 1));
    return (int)(extra + (g - cut) / base);
}

Csr exchange_rows(const Dist *d, const Csr *mine, size_t n_total, const float *payload, size_t width,
                  const int64_t *want, size_t n_want, float **payload_out) {
    int P = d->size;
    Csr out = {0};
    if (P == 1) {  // everything is local
        size_t nnz = 0;
        for (size_t i = 0; i < n_want; i++) {
            size_t r = (size_t)want[i] - mine->row_start;
            nnz += (size_t)(mine->indptr[r + 1] - mine->indptr[r]);
        }
        out = csr_alloc(n_want, mine->n_cols, nnz);
        float *pay = width ? xmalloc(n_want * width * sizeof(float)) : NULL;
        size_t at = 0;
        for (size_t i = 0; i < n_want; i++) {
            size_t r = (size_t)want[i] - mine->row_start;
            if ((size_t)want[i] < mine->row_start || r >= mine->n_rows)
                FATAL("a bug in kida", "exchange: row %lld not held by this process", (long long)want[i]);
            int64_t lo = mine->indptr[r], len = mine->indptr[r + 1] - lo;
            memcpy(out.indices + at, mine->indices + lo, (size_t)len * sizeof(int32_t));
            memcpy(out.data + at, mine->data + lo, (size_t)len * sizeof(float));
            at += (size_t)len;
            out.indptr[i + 1] = (int64_t)at;
            if (width) memcpy(pay + i * width, payload + r * width, width * sizeof(float));
        }
        if (payload_out) *payload_out = pay;
        return out;
    }
    // round 1: send each owner the list of global rows wanted from it, in want order per owner
    size_t *scount = xcalloc((size_t)P, sizeof(size_t)), *rcount = xcalloc((size_t)P, sizeof(size_t));
    int *owner = xmalloc(n_want * sizeof(int));
    for (size_t i = 0; i < n_want; i++) {
        if (want[i] < 0 || (size_t)want[i] >= n_total)
            FATAL("a bug in kida", "exchange: row %lld out of range (n = %zu)", (long long)want[i], n_total);
        owner[i] = owner_of((size_t)want[i], n_total, P);
        scount[owner[i]]++;
    }
    MPI_CHECK(MPI_Alltoall(scount, sizeof(size_t), MPI_BYTE, rcount, sizeof(size_t), MPI_BYTE, d->comm));
    size_t *soff = xcalloc((size_t)P + 1, sizeof(size_t)), *roff = xcalloc((size_t)P + 1, sizeof(size_t));
    for (int r = 0; r < P; r++) { soff[r + 1] = soff[r] + scount[r]; roff[r + 1] = roff[r] + rcount[r]; }
    int64_t *req = xmalloc(n_want * sizeof(int64_t)), *got = xmalloc(roff[P] * sizeof(int64_t));
    size_t *pos = xmalloc(n_want * sizeof(size_t)), *fill = xcalloc((size_t)P, sizeof(size_t));
    for (size_t i = 0; i < n_want; i++) {
        pos[i] = soff[owner[i]] + fill[owner[i]]++;
        req[pos[i]] = want[i];
    }
    dist_alltoallv(d, req, scount, got, rcount, sizeof(int64_t), MPI_INT64_T);

    // round 2: answer with row lengths, then indices, values and payload
    size_t n_ans = roff[P];
    int64_t *len_s = xmalloc(n_ans * sizeof(int64_t)), *len_r = xmalloc(n_want * sizeof(int64_t));
    size_t *vs_count = xcalloc((size_t)P, sizeof(size_t)), *vr_count = xcalloc((size_t)P, sizeof(size_t));
    for (int r = 0; r < P; r++)
        for (size_t k = roff[r]; k < roff[r + 1]; k++) {
            size_t row = (size_t)got[k] - mine->row_start;
            if ((size_t)got[k] < mine->row_start || row >= mine->n_rows)
                FATAL("a bug in kida", "exchange: asked for row %lld not held here", (long long)got[k]);
            len_s[k] = mine->indptr[row + 1] - mine->indptr[row];
            vs_count[r] += (size_t)len_s[k];
        }
    dist_alltoallv(d, len_s, rcount, len_r, scount, sizeof(int64_t), MPI_INT64_T);
    for (int r = 0; r < P; r++)
        for (size_t k = soff[r]; k < soff[r + 1]; k++) vr_count[r] += (size_t)len_r[k];
    size_t vs_total = 0, vr_total = 0;
    for (int r = 0; r < P; r++) { vs_total += vs_count[r]; vr_total += vr_count[r]; }
    int32_t *idx_s = xmalloc(vs_total * sizeof(int32_t)), *idx_r = xmalloc(vr_total * sizeof(int32_t));
    float *val_s = xmalloc(vs_total * sizeof(float)), *val_r = xmalloc(vr_total * sizeof(float));
    float *pay_s = width ? xmalloc(n_ans * width * sizeof(float)) : NULL;
    float *pay_r = width ? xmalloc(n_want * width * sizeof(float)) : NULL;
    size_t at = 0;
    for (size_t k = 0; k < n_ans; k++) {
        size_t row = (size_t)got[k] - mine->row_start;
        int64_t lo = mine->indptr[row];
        memcpy(idx_s + at, mine->indices + lo, (size_t)len_s[k] * sizeof(int32_t));
        memcpy(val_s + at, mine->data + lo, (size_t)len_s[k] * sizeof(float));
        at += (size_t)len_s[k];
        if (width) memcpy(pay_s + k * width, payload + row * width, width * sizeof(float));
    }
    dist_alltoallv(d, idx_s, vs_count, idx_r, vr_count, sizeof(int32_t), MPI_INT32_T);
    dist_alltoallv(d, val_s, vs_count, val_r, vr_count, sizeof(float), MPI_FLOAT);
    if (width) {
        size_t *ps = xmalloc((size_t)P * sizeof(size_t)), *pr = xmalloc((size_t)P * sizeof(size_t));
        for (int r = 0; r < P; r++) { ps[r] = rcount[r] * width; pr[r] = scount[r] * width; }
        dist_alltoallv(d, pay_s, ps, pay_r, pr, sizeof(float), MPI_FLOAT);
        free(ps); free(pr);
    }
    // reorder from owner-grouped to want order
    int64_t *start_r = xmalloc((n_want + 1) * sizeof(int64_t));
    start_r[0] = 0;
    for (size_t k = 0; k < n_want; k++) start_r[k + 1] = start_r[k] + len_r[k];
    out = csr_alloc(n_want, mine->n_cols, vr_total);
    float *pay = width ? xmalloc(n_want * width * sizeof(float)) : NULL;
    at = 0;
    for (size_t i = 0; i < n_want; i++) {
        size_t k = pos[i];
        int64_t len = len_r[k];
        memcpy(out.indices + at, idx_r + start_r[k], (size_t)len * sizeof(int32_t));
        memcpy(out.data + at, val_r + start_r[k], (size_t)len * sizeof(float));
        at += (size_t)len;
        out.indptr[i + 1] = (int64_t)at;
        if (width) memcpy(pay + i * width, pay_r + k * width, width * sizeof(float));
    }
    if (payload_out) *payload_out = pay;
    free(scount); free(rcount); free(owner); free(soff); free(roff); free(req); free(got); free(pos); free(fill);
    free(len_s); free(len_r); free(vs_count); free(vr_count); free(idx_s); free(idx_r); free(val_s); free(val_r);
    free(pay_s); free(pay_r); free(start_r);
    return out;
}
