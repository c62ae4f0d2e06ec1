// test_dist_chunks: every variable-size collective of mpi/ moves the right elements to the right
// places whatever the message limit. Run by tests/mpi/dist_chunks.sh at 1, 2 and 3 ranks with
// KIDA_MPI_CHUNK forcing messages of a few elements, which sends every exchange below through
// the chunked paths that counts past 2^31 take (broadcast rounds for the all-gathers, chunked
// point-to-point for the all-to-all, split reductions and broadcasts); then the same checks run
// again at the default limit (one direct MPI call each). Uneven blocks, a rank with nothing to
// send at 3 ranks. Exit 0 pass, 1 fail.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "mpi/dist.h"
#include "mpi/exchange.h"

#include "tests/io/check.h"

// Elements rank r contributes: uneven, none for rank 1 of 3.
static size_t n_of(int r, int size) { return size == 3 && r == 1 ? 0 : (size_t)(5 * r + 7); }
static float val(int r, size_t i) { return (float)(r * 1000 + (int)i) + 0.25f; }

// One round of every check at the current message limit.
static void checks(Dist *dp) {
    Dist d = *dp;
    int P = d.size, me = d.rank;

    // all-gathers, f32, i64 and f64
    size_t n = n_of(me, P), total = 0;
    for (int r = 0; r < P; r++) total += n_of(r, P);
    float *mine = xmalloc((n + 1) * sizeof *mine), *all = xmalloc((total + 1) * sizeof *all);
    int64_t *mi = xmalloc((n + 1) * sizeof *mi), *ai = xmalloc((total + 1) * sizeof *ai);
    double *md = xmalloc((n + 1) * sizeof *md), *ad = xmalloc((total + 1) * sizeof *ad);
    for (size_t i = 0; i < n; i++) mine[i] = val(me, i), mi[i] = (int64_t)1 << 40 | (int64_t)(me * 1000 + (int)i);
    for (size_t i = 0; i < n; i++) md[i] = (double)val(me, i) + 1e-9;
    size_t *counts = xmalloc((size_t)P * sizeof *counts);
    dist_allgatherv_f32(&d, mine, n, all, counts);
    dist_allgatherv_i64(&d, mi, n, ai, NULL);
    dist_allgatherv_f64(&d, md, n, ad, NULL);
    int ok = 1, oki = 1, okd = 1;
    size_t at = 0;
    for (int r = 0; r < P; r++) {
        ok &= counts[r] == n_of(r, P);
        for (size_t i = 0; i < n_of(r, P); i++, at++) {
            ok &= all[at] == val(r, i);
            oki &= ai[at] == ((int64_t)1 << 40 | (int64_t)(r * 1000 + (int)i));
            okd &= ad[at] == (double)val(r, i) + 1e-9;
        }
    }
    CHECK(ok, "allgatherv_f32 of %zu elements on rank %d", total, me);
    CHECK(oki, "allgatherv_i64 of %zu elements on rank %d", total, me);
    CHECK(okd, "allgatherv_f64 of %zu elements on rank %d", total, me);
    size_t total2 = 0, off = dist_offset(&d, n, &total2), want_off = 0;
    for (int r = 0; r < me; r++) want_off += n_of(r, P);
    CHECK(off == want_off && total2 == total, "dist_offset %zu (want %zu), total %zu", off, want_off, total2);

    // all-to-all: rank r sends (r + q + 1) * 3 elements to rank q, none from rank 1 of 3
    size_t *sc = xmalloc((size_t)P * sizeof *sc), *rc = xmalloc((size_t)P * sizeof *rc), st = 0, rt = 0;
    for (int q = 0; q < P; q++) {
        sc[q] = P == 3 && me == 1 ? 0 : (size_t)(me + q + 1) * 3;
        rc[q] = P == 3 && q == 1 ? 0 : (size_t)(q + me + 1) * 3;
        st += sc[q];
        rt += rc[q];
    }
    float *sb = xmalloc((st + 1) * sizeof *sb), *rb = xmalloc((rt + 1) * sizeof *rb);
    at = 0;
    for (int q = 0; q < P; q++)
        for (size_t i = 0; i < sc[q]; i++) sb[at++] = (float)(me * 100000 + q * 1000 + (int)i);
    dist_alltoallv(&d, sb, sc, rb, rc, sizeof(float), MPI_FLOAT);
    ok = 1;
    at = 0;
    for (int q = 0; q < P; q++)
        for (size_t i = 0; i < rc[q]; i++) ok &= rb[at++] == (float)(q * 100000 + me * 1000 + (int)i);
    CHECK(ok, "alltoallv of %zu elements received on rank %d", rt, me);

    // exchange_rows: every rank asks for rows of every rank, in reverse order, with a payload
    size_t N = 3 * (size_t)P + 2, s0, cnt;
    dist_block(N, me, P, &s0, &cnt);
    size_t nnz = 0;
    for (size_t i = 0; i < cnt; i++) nnz += (s0 + i) % 4;
    Csr x = csr_alloc(cnt, 9, nnz);
    x.row_start = s0;
    float *pay = xmalloc((cnt + 1) * 2 * sizeof *pay);
    at = 0;
    for (size_t i = 0; i < cnt; i++) {
        size_t g = s0 + i;
        for (size_t k = 0; k < g % 4; k++) x.indices[at] = (int32_t)k, x.data[at++] = (float)(g * 10 + k);
        x.indptr[i + 1] = (int64_t)at;
        pay[2 * i] = (float)g;
        pay[2 * i + 1] = -(float)g;
    }
    int64_t want[64];
    size_t n_want = 0;
    for (size_t g = N; g-- > 0;) want[n_want++] = (int64_t)g;
    float *got_pay = NULL;
    Csr y = exchange_rows(&d, &x, N, pay, 2, want, n_want, &got_pay);
    ok = y.n_rows == n_want;
    for (size_t i = 0; ok && i < n_want; i++) {
        size_t g = (size_t)want[i];
        ok = (size_t)(y.indptr[i + 1] - y.indptr[i]) == g % 4 && got_pay[2 * i] == (float)g && got_pay[2 * i + 1] == -(float)g;
        for (int64_t k = y.indptr[i]; ok && k < y.indptr[i + 1]; k++)
            ok = y.data[k] == (float)(g * 10 + (size_t)(k - y.indptr[i])) && y.indices[k] == (int32_t)(k - y.indptr[i]);
    }
    CHECK(ok, "exchange_rows of %zu rows on rank %d", n_want, me);

    // broadcast and all-reduce of buffers longer than the limit
    char text[64];
    snprintf(text, sizeof text, "%s", me == 0 ? "the temporary of rank 0, whole" : "");
    dist_bcast(&d, text, sizeof text, 0);
    CHECK(!strcmp(text, "the temporary of rank 0, whole"), "bcast gave '%s' on rank %d", text, me);
    double red[11];
    for (int i = 0; i < 11; i++) red[i] = (double)(me + 1) * i;
    dist_allreduce_sum_f64(&d, red, 11);
    ok = 1;
    for (int i = 0; i < 11; i++) ok &= red[i] == (double)P * (P + 1) / 2 * i;
    CHECK(ok, "allreduce of 11 doubles on rank %d", me);

    free(mine); free(all); free(mi); free(ai); free(md); free(ad); free(counts); free(sc); free(rc); free(sb); free(rb); free(pay); free(got_pay);
    csr_free(&x);
    csr_free(&y);
}

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    const char *forced = getenv("KIDA_MPI_CHUNK");
    if (forced) CHECK(dist_msg_limit() == (size_t)atol(forced), "limit %zu, KIDA_MPI_CHUNK=%s", dist_msg_limit(), forced);
    size_t limits[2] = {dist_msg_limit(), (size_t)1 << 28};
    for (int k = 0; k < 2; k++) {
        dist_set_msg_limit(limits[k]);
        int passed = n_pass, before = n_fail;
        checks(&d);
        int64_t fails = n_fail - before;
        dist_allreduce_sum_i64(&d, &fails, 1);
        if (d.rank == 0)
            printf("test_dist_chunks (%d ranks, limit %zu): %d checks passed on rank 0, %lld failed on all ranks\n", d.size,
                   limits[k], n_pass - passed, (long long)fails);
    }
    int64_t fails = n_fail;
    dist_allreduce_sum_i64(&d, &fails, 1);
    dist_finalize(&d);
    return fails ? 1 : 0;
}
