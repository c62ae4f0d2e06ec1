// test_cuda_nccl: the NCCL gradient all-reduce (kernels/nccl_comm.h) against the MPI one, on
// integer-valued floats so every summation order gives the exact sum. make check runs it as one
// rank (communicator set-up and the call); on a multi-GPU node run
//   mpiexec -n <GPUs> tests/kernels/test_cuda_nccl
// Exit 77 without a GPU, without NCCL in the build, or when ranks would have to share a GPU.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mpi/dist.h"
#include "tests/kernels/cuda_testutil.h"
#ifdef HAVE_NCCL
#include "kernels/nccl_comm.h"
#endif

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    int rc = 0;
#ifndef HAVE_NCCL
    if (d.rank == 0) printf("test_cuda_nccl: SKIP: built without NCCL\n");
    rc = 77;
#else
    int n_dev = cuda_device_count();
    int64_t bad[2] = {n_dev <= 0, n_dev < d.local_size};  // every rank must agree to run
    dist_allreduce_sum_i64(&d, bad, 2);
    if (bad[0] || bad[1]) {
        if (d.rank == 0)
            printf("test_cuda_nccl: SKIP: %s\n",
                   bad[0] ? "no CUDA device visible on some rank" : "more ranks than GPUs on a node");
        dist_finalize(&d);
        return 77;
    }
    int dev = cuda_device_select(d.local_rank, d.local_size);
    char name[256];
    cuda_device_name(dev, name, sizeof name);
    printf("test_cuda_nccl: rank %d of %d on device %d (%s)\n", d.rank, d.size, dev, name);
    NcclComm nc;
    nccl_comm_init(&nc, &d);
    size_t n = ((size_t)1 << 20) + 3;
    float *h = xmalloc(n * sizeof(float)), *want = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) h[i] = want[i] = (float)((d.rank + 1) * (int)(i % 17)) - 8.0f;
    dist_allreduce_sum_f32(&d, want, n);
    float *buf = tu_devf(h, n);
    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreate(&s));
    nccl_allreduce_sum_f32(&nc, buf, n, s);
    CUDA_CHECK(cudaStreamSynchronize(s));
    float *got = tu_hostf(buf, n);
    int fail = tu_check_bitwise("NCCL all-reduce vs MPI all-reduce", got, want, n);
    int64_t f = fail;
    dist_allreduce_sum_i64(&d, &f, 1);
    if (d.rank == 0) printf("test_cuda_nccl: %s (%d rank(s) failed)\n", f ? "FAIL" : "PASS", (int)f);
    rc = f ? 1 : 0;
    cudaStreamDestroy(s);
    cudaFree(buf);
    free(h), free(want), free(got);
    nccl_comm_free(&nc);
#endif
    dist_finalize(&d);
    return rc;
}
