// dist: the distributed context. Every rank runs the same program over its own slice of cells;
// collectives here are the only way ranks exchange data (MPI on CPU; NCCL joins for GPU buffers).
// All functions are collective over dist->comm unless said otherwise.
#ifndef KIDA_DIST_H
#define KIDA_DIST_H
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int rank, size;              // in comm
    int local_rank, local_size;  // on this node (shared-memory split)
    int node, n_nodes;           // node index (by lowest world rank on it), node count
    MPI_Comm comm;               // the job's communicator (a dup of MPI_COMM_WORLD)
    MPI_Comm local_comm;         // ranks on this node
    char host[64];
} Dist;

// Initialises MPI (a single process without mpirun works too) and fills the world context.
void dist_init(Dist *d, int *argc, char ***argv);
void dist_finalize(Dist *d);
// The context set by dist_init (for library code that is not handed one).
Dist *dist_world(void);

// The contiguous block [*start, *start + *count) of n items owned by `rank` out of `size`:
// the first n % size ranks get one extra item. Not collective.
void dist_block(size_t n, int rank, int size, size_t *start, size_t *count);

void dist_barrier(const Dist *d);
void dist_allreduce_sum_f32(const Dist *d, float *buf, size_t n);   // in place
void dist_allreduce_sum_f64(const Dist *d, double *buf, size_t n);  // in place
void dist_allreduce_sum_i64(const Dist *d, int64_t *buf, size_t n); // in place
void dist_allreduce_max_f64(const Dist *d, double *buf, size_t n);  // in place
void dist_bcast(const Dist *d, void *buf, size_t bytes, int root);
// Gathers variable-length float blocks from every rank, in rank order, onto every rank.
// counts_out (size entries, may be NULL) receives each rank's count. recv must hold the total.
void dist_allgatherv_f32(const Dist *d, const float *send, size_t n, float *recv, size_t *counts_out);
void dist_allgatherv_i64(const Dist *d, const int64_t *send, size_t n, int64_t *recv, size_t *counts_out);
// Sends scount[q] elements of elem bytes to each rank q and receives rcount[q] from each: the
// blocks lie one after the other in rank order in send and recv (recv holds the sum of rcount).
void dist_alltoallv(const Dist *d, const void *send, const size_t *scount, void *recv, const size_t *rcount,
                    size_t elem, MPI_Datatype t);
// The start of this rank's block in a sequence of n items per rank taken in rank order (an
// exclusive prefix sum); *total (may be NULL) gets the sum over ranks.
size_t dist_offset(const Dist *d, size_t n, size_t *total);
void dist_allgatherv_f64(const Dist *d, const double *send, size_t n, double *recv, size_t *counts_out);
// Sum of n over ranks.
size_t dist_sum_size(const Dist *d, size_t n);

// Every collective above moves any count of elements: a message larger than the limit (int
// counts of MPI 3) is split into messages of at most limit elements, and a variable-size
// exchange whose counts or displacements pass it goes through chunked point-to-point or
// broadcast rounds. The limit is 2^28 elements unless KIDA_MPI_CHUNK (elements, >= 1) sets it
// at dist_init, which tests use to force the chunked paths on small messages.
size_t dist_msg_limit(void);
// Sets the limit (tests: both paths in one run). Not collective: every rank must set the same.
void dist_set_msg_limit(size_t elements);

// Checks an MPI return code; on failure a fatal error naming the call.
#define MPI_CHECK(call)                                                                        \
    do {                                                                                       \
        int mpi_rc_ = (call);                                                                  \
        if (mpi_rc_ != MPI_SUCCESS) dist_mpi_fail(__FILE__, __LINE__, #call, mpi_rc_);         \
    } while (0)
_Noreturn void dist_mpi_fail(const char *file, int line, const char *what, int rc);
#endif
