// dist: see dist.h. Large buffers are sent in chunks because MPI counts are int.
#include "mpi/dist.h"

#include <string.h>
#include <unistd.h>

#include "core/log.h"

static Dist *g_world;
static const size_t CHUNK = (size_t)1 << 28;

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
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t c = n - off < CHUNK ? n - off : CHUNK;
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
    for (size_t off = 0; off < bytes; off += CHUNK) {
        size_t c = bytes - off < CHUNK ? bytes - off : CHUNK;
        MPI_CHECK(MPI_Bcast(p + off, (int)c, MPI_BYTE, root, d->comm));
    }
}

size_t dist_sum_size(const Dist *d, size_t n) {
    int64_t v = (int64_t)n;
    dist_allreduce_sum_i64(d, &v, 1);
    return (size_t)v;
}

static void allgatherv(const Dist *d, const void *send, size_t n, void *recv, size_t *counts_out, size_t elem,
                       MPI_Datatype t) {
    int64_t mine = (int64_t)n;
    int64_t *all = xmalloc((size_t)d->size * sizeof *all);
    MPI_CHECK(MPI_Allgather(&mine, 1, MPI_INT64_T, all, 1, MPI_INT64_T, d->comm));
    int64_t total = 0;
    for (int r = 0; r < d->size; r++) total += all[r];
    if (counts_out)
        for (int r = 0; r < d->size; r++) counts_out[r] = (size_t)all[r];
    if (total > INT32_MAX) FATAL("use fewer cells per gather (a bug if you see this)", "allgatherv of %lld items exceeds int counts", (long long)total);
    int *cnt = xmalloc((size_t)d->size * sizeof *cnt), *dsp = xmalloc((size_t)d->size * sizeof *dsp);
    int off = 0;
    for (int r = 0; r < d->size; r++) { cnt[r] = (int)all[r]; dsp[r] = off; off += cnt[r]; }
    if (d->size == 1) memcpy(recv, send, n * elem);
    else MPI_CHECK(MPI_Allgatherv(send, (int)n, t, recv, cnt, dsp, t, d->comm));
    free(all); free(cnt); free(dsp);
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

void dist_gatherv_f32(const Dist *d, const float *send, size_t n, float *recv, int root) {
    if (d->size == 1) {
        memcpy(recv, send, n * sizeof(float));
        return;
    }
    int64_t mine = (int64_t)n;
    int64_t *all = xmalloc((size_t)d->size * sizeof *all);
    MPI_CHECK(MPI_Allgather(&mine, 1, MPI_INT64_T, all, 1, MPI_INT64_T, d->comm));
    int *cnt = xmalloc((size_t)d->size * sizeof *cnt), *dsp = xmalloc((size_t)d->size * sizeof *dsp);
    int64_t off = 0;
    for (int r = 0; r < d->size; r++) {
        if (all[r] > INT32_MAX || off > INT32_MAX)
            FATAL("annotate the query in parts of fewer cells (the output is gathered on rank 0; see docs/scaling.md)", "gather of %lld floats to rank 0 exceeds MPI int counts", (long long)off);
        cnt[r] = (int)all[r];
        dsp[r] = (int)off;
        off += all[r];
    }
    MPI_CHECK(MPI_Gatherv(send, (int)n, MPI_FLOAT, recv, cnt, dsp, MPI_FLOAT, root, d->comm));
    free(all); free(cnt); free(dsp);
}
