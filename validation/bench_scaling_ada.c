// bench_scaling_ada: time of the student's clustering loss (ada_forward + ada_backward, src/loss/losses.c)
// for a global batch of N cells. Every rank computes it over the gathered global batch, so this
// time is paid once per student step on every rank whatever the rank count. Built and run by
// validation/bench_scaling.sh (part `ada`); not part of `make check`.
//   bench_scaling_ada C K N [N ...]   prints: N C K cpu_seconds(forward+backward) workspace_MB
// CPU time of this process (not wall time), so a busy shared machine does not inflate it; run it
// with OMP_NUM_THREADS=1.
#define _POSIX_C_SOURCE 199309L  // clock_gettime
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "loss/losses.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_scaling_ada C K N [N ...]\n");
        return 2;
    }
    size_t C = (size_t)atol(argv[1]), K = (size_t)atol(argv[2]);
    for (int a = 3; a < argc; a++) {
        size_t N = (size_t)atol(argv[a]);
        float *emb = malloc(N * C * sizeof(float)), *q = malloc(N * K * sizeof(float));   // (N,C), (N,K)
        float *demb = calloc(N * C, sizeof(float)), *dl = calloc(N * K, sizeof(float));
        if (!emb || !q || !demb || !dl) {
            fprintf(stderr, "bench_scaling_ada: out of memory at N = %zu\n", N);
            return 99;
        }
        unsigned s = 1;
        for (size_t i = 0; i < N * C; i++) emb[i] = 0.1f * (float)((s = s * 1103515245u + 12345u) >> 16 & 1023) / 1024.0f;
        for (size_t i = 0; i < N; i++) {   // probability rows: positive, sum 1
            float t = 0;
            for (size_t k = 0; k < K; k++) t += q[i * K + k] = 1.0f + (float)((s = s * 1103515245u + 12345u) >> 16 & 255);
            for (size_t k = 0; k < K; k++) q[i * K + k] /= t;
        }
        double t0 = now();
        volatile double L = ada_forward(emb, q, N, C, K);
        ada_backward(demb, dl, emb, q, N, C, K, 0.2f);
        double dt = now() - t0;
        (void)L;
        // ada_backward's workspace: S (N,N), U, QW (N,K) doubles and N·C doubles
        printf("%zu %zu %zu %.4f %.1f\n", N, C, K, dt, (double)(N * N + 2 * N * K + N * C) * 8 / 1048576.0);
        free(emb); free(q); free(demb); free(dl);
    }
    return 0;
}
