// dist: see dist.h. MPI 3 counts and displacements are int: every buffer moves in messages of at
// most g_limit elements, and variable-size exchanges past it take chunked rounds.
#include "mpi/dist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static Dist *g_world;
static size_t g_limit = (size_t)1 << 28;

size_t dist_msg_limit(void) { return g_limit; }
void dist_set_msg_limit(size_t elements) { g_limit = elements ? elements : 1; }

// KIDA_MPI_CHUNK: the message limit in elements (tests force the chunked paths with a few).
static void read_limit(void) {
    const char *v = getenv("KIDA_MPI_CHUNK");
    if (!v || !*v) return;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || n < 1 || n > INT32_MAX)
        FATAL("set KIDA_MPI_CHUNK to a whole number of elements in [1, 2147483647], or unset it",
              "KIDA_MPI_CHUNK=%s is not a valid message size (got '%s', want 1..2147483647)", v, v);
    g_limit = (size_t)n;
}

_Noreturn void dist_mpi_fail(const char *file, int line, const char *what, int rc) {
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    fatal_at(file, line, "check that every rank is alive and the network/fabric is healthy (see the first error above)",
             "%s failed: %s", what, msg);
}

void dist_init(Dist *d, int *argc, char ***argv) {
    memset(d, 0, sizeof *d);
    int up = 0;
    MPI_Initialized(&up);
    if (!up) MPI_CHECK(MPI_Init(argc, argv));
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &d->comm));
    MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN);
    MPI_CHECK(MPI_Comm_rank(d->comm, &d->rank));
    MPI_CHECK(MPI_Comm_size(d->comm, &d->size));
    MPI_CHECK(MPI_Comm_split_type(d->comm, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &d->local_comm));
    MPI_CHECK(MPI_Comm_rank(d->local_comm, &d->local_rank));
    MPI_CHECK(MPI_Comm_size(d->local_comm, &d->local_size));
    // node index: rank of this node's leader among leaders
    int leader = d->local_rank == 0;
    MPI_Comm leaders;
    MPI_CHECK(MPI_Comm_split(d->comm, leader ? 0 : MPI_UNDEFINED, d->rank, &leaders));
    int node = 0, n_nodes = 0;
    if (leader) {
        MPI_CHECK(MPI_Comm_rank(leaders, &node));
        MPI_CHECK(MPI_Comm_size(leaders, &n_nodes));
        MPI_Comm_free(&leaders);
    }
    MPI_CHECK(MPI_Bcast(&node, 1, MPI_INT, 0, d->local_comm));
    MPI_CHECK(MPI_Bcast(&n_nodes, 1, MPI_INT, 0, d->local_comm));
    d->node = node;
    d->n_nodes = n_nodes;
    if (gethostname(d->host, sizeof d->host - 1) != 0) strcpy(d->host, "?");
    log_set_rank(d->rank, d->size);
    read_limit();
    g_world = d;
}

void dist_finalize(Dist *d) {
    MPI_Comm_free(&d->local_comm);
    MPI_Comm_free(&d->comm);
    g_world = NULL;
    MPI_Finalize();
}

Dist *dist_world(void) {
    if (!g_world) FATAL("call dist_init() first (a bug in kida)", "distributed context used before initialisation");
    return g_world;
}

void dist_block(size_t n, int rank, int size, size_t *start, size_t *count) {
    size_t base = n / (size_t)size, extra = n % (size_t)size, r = (size_t)rank;
    *count = base + (r < extra);
    *start = r * base + (r < extra ? r : extra);
}

void dist_barrier(const Dist *d) { MPI_CHECK(MPI_Barrier(d->comm)); }

static void allreduce(const Dist *d, void *buf, size_t n, size_t elem, MPI_Datatype t, MPI_Op op) {
    if (d->size == 1) return;
    char *p = buf;
    for (size_t off = 0; off < n; off += g_limit) {
        size_t c = n - off < g_limit ? n - off : g_limit;
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, p + off * elem, (int)c, t, op, d->comm));
    }
}

void dist_allreduce_sum_f32(const Dist *d, float *buf, size_t n) { allreduce(d, buf, n, 4, MPI_FLOAT, MPI_SUM); }
void dist_allreduce_sum_f64(const Dist *d, double *buf, size_t n) { allreduce(d, buf, n, 8, MPI_DOUBLE, MPI_SUM); }
void dist_allreduce_sum_i64(const Dist *d, int64_t *buf, size_t n) { allreduce(d, buf, n, 8, MPI_INT64_T, MPI_SUM); }
void dist_allreduce_max_f64(const Dist *d, double *buf, size_t n) { allreduce(d, buf, n, 8, MPI_DOUBLE, MPI_MAX); }

void dist_bcast(const Dist *d, void *buf, size_t bytes, int root) {
    if (d->size == 1) return;
    char *p = buf;
    for (size_t off = 0; off < bytes; off += g_limit) {
        size_t c = bytes - off < g_limit ? bytes - off : g_limit;
        MPI_CHECK(MPI_Bcast(p + off, (int)c, MPI_BYTE, root, d->comm));
    }
}

size_t dist_sum_size(const Dist *d, size_t n) {
    int64_t v = (int64_t)n;
    dist_allreduce_sum_i64(d, &v, 1);
    return (size_t)v;
}

size_t dist_offset(const Dist *d, size_t n, size_t *total) {
    int64_t mine = (int64_t)n, *all = xmalloc((size_t)d->size * sizeof *all);
    if (d->size == 1) all[0] = mine;
    else MPI_CHECK(MPI_Allgather(&mine, 1, MPI_INT64_T, all, 1, MPI_INT64_T, d->comm));
    size_t off = 0, sum = 0;
    for (int r = 0; r < d->size; r++) {
        if (r == d->rank) off = sum;
        sum += (size_t)all[r];
    }
    free(all);
    if (total) *total = sum;
    return off;
}

// 1 when every count and every displacement of the blocks fits in one message.
static int fits(const size_t *count, int n) {
    size_t off = 0;
    for (int r = 0; r < n; r++) {
        if (count[r] > g_limit || off > g_limit) return 0;
        off += count[r];
    }
    return 1;
}

static void allgatherv(const Dist *d, const void *send, size_t n, void *recv, size_t *counts_out, size_t elem,
                       MPI_Datatype t) {
    size_t *cnt = xmalloc((size_t)d->size * sizeof *cnt);
    int64_t mine = (int64_t)n, *all = xmalloc((size_t)d->size * sizeof *all);
    if (d->size == 1) all[0] = mine;
    else MPI_CHECK(MPI_Allgather(&mine, 1, MPI_INT64_T, all, 1, MPI_INT64_T, d->comm));
    for (int r = 0; r < d->size; r++) cnt[r] = (size_t)all[r];
    if (counts_out) memcpy(counts_out, cnt, (size_t)d->size * sizeof *cnt);
    if (d->size == 1) memcpy(recv, send, n * elem);
    else if (fits(cnt, d->size)) {
        int *c = xmalloc((size_t)d->size * sizeof *c), *dsp = xmalloc((size_t)d->size * sizeof *dsp);
        int off = 0;
        for (int r = 0; r < d->size; r++) { c[r] = (int)cnt[r]; dsp[r] = off; off += c[r]; }
        MPI_CHECK(MPI_Allgatherv(send, (int)n, t, recv, c, dsp, t, d->comm));
        free(c); free(dsp);
    } else {
        // past int counts: each rank's block is broadcast from its owner, straight into place
        char *at = recv;
        for (int r = 0; r < d->size; r++) {
            if (r == d->rank) memmove(at, send, n * elem);
            for (size_t o = 0; o < cnt[r]; o += g_limit) {
                size_t k = cnt[r] - o < g_limit ? cnt[r] - o : g_limit;
                MPI_CHECK(MPI_Bcast(at + o * elem, (int)k, t, r, d->comm));
            }
            at += cnt[r] * elem;
        }
    }
    free(all); free(cnt);
}

void dist_allgatherv_f32(const Dist *d, const float *send, size_t n, float *recv, size_t *counts_out) {
    allgatherv(d, send, n, recv, counts_out, 4, MPI_FLOAT);
}
void dist_allgatherv_i64(const Dist *d, const int64_t *send, size_t n, int64_t *recv, size_t *counts_out) {
    allgatherv(d, send, n, recv, counts_out, 8, MPI_INT64_T);
}

void dist_allgatherv_f64(const Dist *d, const double *send, size_t n, double *recv, size_t *counts_out) {
    allgatherv(d, send, n, recv, counts_out, 8, MPI_DOUBLE);
}

// Chunked point-to-point form of an all-to-all: every block in messages of at most g_limit.
static void alltoallv_p2p(const Dist *d, const char *send, const size_t *scount, char *recv, const size_t *rcount,
                          size_t elem, MPI_Datatype t) {
    int P = d->size;
    size_t n_req = 0, so = 0, ro = 0;
    for (int r = 0; r < P; r++)
        if (r != d->rank) n_req += (scount[r] + g_limit - 1) / g_limit + (rcount[r] + g_limit - 1) / g_limit;
    MPI_Request *req = xmalloc((n_req ? n_req : 1) * sizeof *req);
    size_t k = 0;
    for (int r = 0; r < P; r++) {
        if (r == d->rank) {
            if (scount[r] != rcount[r]) FATAL("a bug in kida", "alltoallv: %zu elements to self, %zu expected", scount[r], rcount[r]);
            memcpy(recv + ro * elem, send + so * elem, scount[r] * elem);
        } else {
            for (size_t o = 0; o < rcount[r]; o += g_limit) {
                size_t c = rcount[r] - o < g_limit ? rcount[r] - o : g_limit;
                MPI_CHECK(MPI_Irecv(recv + (ro + o) * elem, (int)c, t, r, 77, d->comm, &req[k++]));
            }
            for (size_t o = 0; o < scount[r]; o += g_limit) {
                size_t c = scount[r] - o < g_limit ? scount[r] - o : g_limit;
                MPI_CHECK(MPI_Isend(send + (so + o) * elem, (int)c, t, r, 77, d->comm, &req[k++]));
            }
        }
        so += scount[r];
        ro += rcount[r];
    }
    if (k) MPI_CHECK(MPI_Waitall((int)k, req, MPI_STATUSES_IGNORE));
    free(req);
}

void dist_alltoallv(const Dist *d, const void *send, const size_t *scount, void *recv, const size_t *rcount,
                    size_t elem, MPI_Datatype t) {
    int P = d->size;
    if (P == 1) {
        memcpy(recv, send, scount[0] * elem);
        return;
    }
    int ok = fits(scount, P) && fits(rcount, P);
    int all_ok = ok;
    MPI_CHECK(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, d->comm));   // every rank takes the same path
    if (!all_ok) {
        alltoallv_p2p(d, send, scount, recv, rcount, elem, t);
        return;
    }
    int *c1 = xmalloc((size_t)P * sizeof(int)), *d1 = xmalloc((size_t)P * sizeof(int));
    int *c2 = xmalloc((size_t)P * sizeof(int)), *d2 = xmalloc((size_t)P * sizeof(int));
    int o1 = 0, o2 = 0;
    for (int r = 0; r < P; r++) {
        c1[r] = (int)scount[r]; d1[r] = o1; o1 += c1[r];
        c2[r] = (int)rcount[r]; d2[r] = o2; o2 += c2[r];
    }
    MPI_CHECK(MPI_Alltoallv(send, c1, d1, t, recv, c2, d2, t, d->comm));
    free(c1); free(d1); free(c2); free(d2);
}
