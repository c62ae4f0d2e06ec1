// nccl_comm: see nccl_comm.h.
#include "kernels/nccl_comm.h"

#include <string.h>

#include "core/log.h"
#include "kernels/cuda_check.h"

#define NCCL_CHECK(call)                                                                              \
    do {                                                                                              \
        ncclResult_t nccl_r_ = (call);                                                                \
        if (nccl_r_ != ncclSuccess)                                                                   \
            cuda_check_fail(__FILE__, __LINE__, "NCCL", #call, (int)nccl_r_, ncclGetErrorString(nccl_r_)); \
    } while (0)

void nccl_comm_init(NcclComm *nc, const Dist *d) {
    memset(nc, 0, sizeof *nc);
    nc->rank = d->rank;
    nc->size = d->size;
    CUDA_CHECK(cudaGetDevice(&nc->device));
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    if (d->rank == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    dist_bcast(d, &id, sizeof id, 0);
    NCCL_CHECK(ncclCommInitRank(&nc->comm, d->size, id, d->rank));
}

void nccl_comm_free(NcclComm *nc) {
    if (nc->comm) ncclCommDestroy(nc->comm);
    memset(nc, 0, sizeof *nc);
}

void nccl_allreduce_sum_f32(NcclComm *nc, float *buf, size_t n, cudaStream_t stream) {
    if (n == 0) return;
    NCCL_CHECK(ncclAllReduce(buf, buf, n, ncclFloat32, ncclSum, nc->comm, stream));
}
