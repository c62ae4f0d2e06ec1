// bench_model: speed of the CPU network at the paper's shapes (not a test).
//   validation/bench_model [--batch 64] [--steps 5] [--threads 1,2] [--precision fp32,bf16] [--profile]
// (bf16: the products in bfloat16 through oneDNN, src/model/matmul_bf16.c; skipped with a note
// where this build or CPU has none)
// Config: G = 3000 genes, P = 300 tokens (T = 301), M ≈ 20000 memberships, C = 128, NH = 8,
// L = 4, K = 7, inputs 8% nonzero. For each thread count it prints training cells/s (forward +
// backward, median of --steps after one warm-up), inference cells/s, the model's GFLOP/s
// (model_flops_per_cell), OpenBLAS sgemm GFLOP/s at the model's largest GEMM (B·T x 4C x C,
// OpenBLAS's own threads) and at 2048³, and the ratios, by wall time and by process CPU time (the
// latter is not inflated when other jobs share the cores; with 2 threads it includes OpenMP
// spin-waiting). The first line names the CPU and the vector path of kida's kernels
// (src/core/cpu.h; KIDA_CPU_PATH picks a lower one).
// --profile adds a per-layer time table.
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/log.h"
#include "core/rng.h"
#include "model/layers.h"
#include "model/matmul.h"
#include "model/matmul_bf16.h"
#include "model/model.h"
#include "validation/bench_common.h"


// GFLOP/s of cblas_sgemm out (M,N) = a (M,K) · bᵀ with OpenBLAS's own threads (median of 5), per
// wall second (returned) and per CPU second (*per_cpu).
static double sgemm_rate(size_t M, size_t N, size_t K, int threads, double *per_cpu) {
    float *a = xmalloc(M * K * sizeof(float)), *b = xmalloc(N * K * sizeof(float)), *c = xmalloc(M * N * sizeof(float));
    for (size_t i = 0; i < M * K; i++) a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < N * K; i++) b[i] = (float)(i % 5) * 0.1f;
    openblas_set_num_threads(threads);
    double t[6], cpu[6];
    for (int r = 0; r < 6; r++) {
        double t0 = wall_time(), c0 = bench_cpu_time();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, a, (int)K, b, (int)K, 0.0f,
                    c, (int)N);
        t[r] = wall_time() - t0;
        cpu[r] = bench_cpu_time() - c0;
    }
    openblas_set_num_threads(1);
    free(a), free(b), free(c);
    double flop = 2.0 * (double)M * (double)N * (double)K;
    *per_cpu = flop / bench_median(cpu + 1, 5) * 1e-9;
    return flop / bench_median(t + 1, 5) * 1e-9;
}

// Times one call of each layer at paper shapes (B cells), forward and backward, in process CPU
// time (all threads).
static void profile(const Model *m, size_t B) {
    const ModelConfig *c = &m->cfg;
    size_t T = c->T, C = c->C, F = c->F, BT = B * T;
    float *x = xmalloc(BT * F * sizeof(float)), *y = xmalloc(BT * F * sizeof(float)), *d = xmalloc(BT * F * sizeof(float));
    float *qkv = xmalloc(BT * 3 * C * sizeof(float)), *dq = xcalloc(BT * 3 * C, sizeof(float));
    float *mean = xmalloc(BT * sizeof(float)), *rstd = xmalloc(BT * sizeof(float));
    float *w = xmalloc(F * C * sizeof(float)), *dw = xcalloc(F * C, sizeof(float)), *bb = xcalloc(F, sizeof(float));
    for (size_t i = 0; i < BT * F; i++) x[i] = d[i] = 0.01f * (float)(i % 101) - 0.5f;
    for (size_t i = 0; i < BT * 3 * C; i++) qkv[i] = 0.02f * (float)(i % 53) - 0.5f;
    for (size_t i = 0; i < F * C; i++) w[i] = 0.001f * (float)(i % 37);
    double t0;
#define TIME(label, call)                                                     \
    do {                                                                      \
        call;                                                                 \
        t0 = bench_cpu_time();                                                      \
        call;                                                                 \
        printf("    %-34s %8.2f ms\n", label, (bench_cpu_time() - t0) * 1e3);      \
    } while (0)
    TIME("layernorm fwd (BT,C)", layernorm_forward(y, mean, rstd, x, w, bb, BT, C));
    TIME("layernorm bwd (BT,C)", layernorm_backward(y, dw, bb, d, x, mean, rstd, w, BT, C));
    TIME("linear fwd qkv (BT,C)->(BT,3C)", linear_forward(y, x, w, bb, BT, C, 3 * C));
    TIME("linear bwd qkv", linear_backward(y, dw, bb, d, x, w, BT, C, 3 * C));
    TIME("linear fwd proj (BT,C)->(BT,C)", linear_forward(y, x, w, bb, BT, C, C));
    TIME("linear fwd fc1 (BT,C)->(BT,F)", linear_forward(y, x, w, bb, BT, C, F));
    TIME("linear bwd fc1", linear_backward(y, dw, bb, d, x, w, BT, C, F));
    TIME("linear fwd fc2 (BT,F)->(BT,C)", linear_forward(y, x, w, bb, BT, F, C));
    TIME("linear bwd fc2", linear_backward(y, dw, bb, d, x, w, BT, F, C));
    TIME("gelu fwd (BT,F)", gelu_forward(y, x, BT * F));
    TIME("gelu bwd (BT,F)", gelu_backward(y, d, x, BT * F));
    TIME("attention fwd (all queries)", attention_forward(y, NULL, qkv, B, T, C, c->NH, 0));
    TIME("attention bwd (all queries)", attention_backward(dq, d, qkv, B, T, C, c->NH, 0));
    TIME("attention fwd (cls query)", attention_forward(y, NULL, qkv, B, T, C, c->NH, T - 1));
    TIME("residual fwd, dropout 0.1", residual_forward(y, (uint8_t *)dq, x, d, (const int64_t *)mean, 1, 2, 0.1f, B, T * C, 0));
#undef TIME
    free(x), free(y), free(d), free(qkv), free(dq), free(mean), free(rstd), free(w), free(dw), free(bb);
}

int main(int argc, char **argv) {
    size_t B = 64, steps = 5;
    int do_profile = 0, threads[8] = {1, 2}, n_threads = 2;
    MmPrecision precs[2] = {MM_FP32, MM_BF16};
    int n_precs = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) B = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--profile")) do_profile = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            n_threads = 0;
            for (char *s = strtok(argv[++i], ","); s && n_threads < 8; s = strtok(NULL, ",")) threads[n_threads++] = atoi(s);
        } else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
            n_precs = 0;
            for (char *s = strtok(argv[++i], ","); s && n_precs < 2; s = strtok(NULL, ","))
                precs[n_precs++] = !strcmp(s, "bf16") ? MM_BF16 : MM_FP32;
        } else {
            fprintf(stderr, "usage: %s [--batch B] [--steps N] [--threads 1,2] [--precision fp32,bf16] [--profile]\n",
                    argv[0]);
            return 2;
        }
    }
    if (steps < 1 || steps > 1000) steps = 5;
    size_t G = 3000, P = 300;
    PathwayMap map = bench_paper_map(P, G, 1);
    ModelConfig cfg = {.G = G, .P = P, .T = P + 1, .M = map.M, .C = 128, .NH = 8, .L = 4, .F = 512, .K = 7, .dropout = 0.1f};
    Csr x = bench_paper_batch(B, G, 0.08, 2);
    int64_t *ids = xmalloc(B * sizeof(int64_t));
    for (size_t b = 0; b < B; b++) ids[b] = (int64_t)b;
    Model tr, inf;
    model_init(&tr, &cfg, &map, B, 1);
    model_init(&inf, &cfg, &map, B, 0);
    model_init_weights(&tr, 1);
    memcpy(inf.params, tr.params, tr.n_params * sizeof(float));
    float *dlogits = xmalloc(B * cfg.K * sizeof(float)), *demb = xmalloc(B * cfg.C * sizeof(float));
    for (size_t i = 0; i < B * cfg.K; i++) dlogits[i] = rng_normal(5, 1, i, 0) / (float)B;
    for (size_t i = 0; i < B * cfg.C; i++) demb[i] = rng_normal(5, 2, i, 0) / (float)B;
    double ftr = (double)model_flops_per_cell(&cfg, 1), finf = (double)model_flops_per_cell(&cfg, 0);

    printf("CPU: %s; kida kernels: %s (best here: %s)\n", cpu_model_name(), cpu_path_name(cpu_path()),
           cpu_path_name(cpu_path_best()));
    printf("kida CPU model benchmark: G=%zu P=%zu T=%zu M=%zu C=%zu NH=%zu L=%zu F=%zu K=%zu, batch %zu, "
           "%.1f%% nonzero (%zu nnz), dropout %.1f\n",
           G, P, cfg.T, map.M, cfg.C, cfg.NH, cfg.L, cfg.F, cfg.K, B, 100.0 * (double)csr_nnz(&x) / (double)(B * G),
           csr_nnz(&x), (double)cfg.dropout);
    printf("model GFLOP per cell: training %.3f, inference %.3f; activations: training %.0f MB, inference %.0f MB\n",
           ftr * 1e-9, finf * 1e-9, (double)tr.n_acts * 4e-6, (double)inf.n_acts * 4e-6);
    printf("%7s | %12s %9s | %12s %9s | %10s %6s %6s | %s\n", "threads", "train cell/s", "GFLOP/s", "infer cell/s",
           "GFLOP/s", "sgemm GF/s", "train%", "infer%", "per CPU-second: train cells, sgemm GF, train%");
    double *t = xmalloc((steps + 1) * sizeof(double)), *cpu = xmalloc((steps + 1) * sizeof(double));
    for (int pi = 0; pi < n_precs; pi++) {
    if (precs[pi] == MM_BF16 && !mm_bf16_ok()) {
        printf("bf16 products: not available here (oneDNN in this build: %s; AMX-BF16/AVX512-BF16: %s); skipped\n",
               mm_bf16_build() ? "yes" : "no", cpu_bf16() ? "yes" : "no");
        continue;
    }
    mm_set_precision(precs[pi]);
    const char *pname = precs[pi] == MM_BF16 ? "bf16" : "fp32";
    printf("products: %s\n", mm_precision_desc());
    for (int k = 0; k < n_threads; k++) {
        omp_set_num_threads(threads[k]);
        for (size_t s = 0; s <= steps; s++) {
            double t0 = wall_time(), c0 = bench_cpu_time();
            model_zero_grad(&tr);
            model_forward(&tr, &x, ids, s, 7);
            model_backward(&tr, dlogits, demb);
            t[s] = wall_time() - t0;
            cpu[s] = bench_cpu_time() - c0;
        }
        double ttr = bench_median(t + 1, steps), ttr_best = t[1];  // median sorts: t[1] is the fastest
        double ctr = bench_median(cpu + 1, steps);
        for (size_t s = 0; s <= steps; s++) {
            double t0 = wall_time(), c0 = bench_cpu_time();
            model_forward(&inf, &x, NULL, 0, 0);
            t[s] = wall_time() - t0;
            cpu[s] = bench_cpu_time() - c0;
        }
        double tinf = bench_median(t + 1, steps), tinf_best = t[1], cinf = bench_median(cpu + 1, steps);
        double sg_cpu, sg = sgemm_rate(B * cfg.T, 4 * cfg.C, cfg.C, threads[k], &sg_cpu);
        double gtr = ftr * (double)B / ttr * 1e-9, ginf = finf * (double)B / tinf * 1e-9;
        double gtr_cpu = ftr * (double)B / ctr * 1e-9;
        double big_cpu, big = sgemm_rate(2048, 2048, 2048, threads[k], &big_cpu);
        printf("%7d | %12.1f %9.1f | %12.1f %9.1f | %10.1f %5.0f%% %5.0f%% | %6.1f %6.1f %5.0f%%\n", threads[k],
               (double)B / ttr, gtr, (double)B / tinf, ginf, sg, 100.0 * gtr / sg, 100.0 * ginf / sg,
               (double)B / ctr, sg_cpu, 100.0 * gtr_cpu / sg_cpu);
        printf("%7s   best step: train %.1f cells/s, inference %.1f cells/s; sgemm 2048³: %.1f GF/s, %.1f per CPU-s\n",
               "", (double)B / ttr_best, (double)B / tinf_best, big, big_cpu);
        printf("RESULT kida threads=%d precision=%s path=%s train=%.2f infer=%.2f train_best=%.2f infer_best=%.2f "
               "train_gflops=%.1f train_gflops_cpu=%.1f sgemm_gflops=%.1f sgemm_cpu=%.1f sgemm2048_cpu=%.1f "
               "train_pct=%.0f train_pct_cpu=%.0f train_cpu=%.2f infer_cpu=%.2f\n",
               threads[k], pname, cpu_path_name(cpu_path()), (double)B / ttr, (double)B / tinf, (double)B / ttr_best,
               (double)B / tinf_best, gtr, gtr_cpu, sg, sg_cpu, big_cpu, 100.0 * gtr / sg, 100.0 * gtr_cpu / sg_cpu,
               (double)B / ctr, (double)B / cinf);
        fflush(stdout);
        if (do_profile) {
            printf("  per-layer CPU times, %d thread(s), batch %zu:\n", threads[k], B);
            profile(&tr, B);
        }
    }
    }
    mm_set_precision(MM_FP32);
    free(t), free(cpu), free(ids), free(dlogits), free(demb);
    model_free(&tr);
    model_free(&inf);
    csr_free(&x);
    pathmap_free(&map);
    return 0;
}
