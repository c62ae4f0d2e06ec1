// nccl_comm: the GPU side of the gradient all-reduce. One NCCL communicator over the ranks of a
// Dist, one GPU per rank (the device chosen by cuda_device_select before nccl_comm_init). The
// ncclUniqueId is made on rank 0 and broadcast with MPI. Compiled only when configure found NCCL
// (HAVE_NCCL); without it kida reduces device gradients through the host (model_cuda.h).
#ifndef KIDA_NCCL_COMM_H
#define KIDA_NCCL_COMM_H
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <stddef.h>

#include "mpi/dist.h"

typedef struct NcclComm {
    ncclComm_t comm;
    int rank, size;  // as in the Dist it was made from
    int device;      // CUDA device of this rank
} NcclComm;

// Collective over d->comm: every rank must call it, each with its own device already current.
void nccl_comm_init(NcclComm *nc, const Dist *d);
void nccl_comm_free(NcclComm *nc);
// In-place sum of n floats of device buffer buf over all ranks, queued on stream.
void nccl_allreduce_sum_f32(NcclComm *nc, float *buf, size_t n, cudaStream_t stream);
#endif
