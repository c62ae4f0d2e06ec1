// bench_gpu: speed of the device model (kernels/model_cuda.h) at the paper's shapes (not a test).
//   validation/bench_gpu [--batch 64] [--infer-batch 256] [--steps 20] [--tf32] [--peak-tflops X]
//   mpiexec -n <GPUs> validation/bench_gpu ...     (adds the gradient all-reduce per step)
// Config as validation/bench_model.c: G = 3000 genes, P = 300 tokens (T = 301), M ≈ 20000
// memberships, C = 128, NH = 8, L = 4, K = 7, inputs 8% nonzero, dropout 0.1.
// Prints, per rank 0: the training step (forward, host cross-entropy, backward, all-reduce, AdamW)
// as median ms and cells/s with a per-phase split, inference cells/s, the model's TFLOP/s
// (model_flops_per_cell) and its share of the GPU's peak, and the all-reduce time of the
// gradient buffer (NCCL when built with it, else through MPI on the host). The last lines are
// `key=value` pairs for validation/bench_gpu.sh.
//
// Peaks (dense, no sparsity), from NVIDIA's datasheets: H100 SXM5 / H200 SXM: FP32 67, TF32 494.7,
// BF16 989.4 TFLOP/s; H100 PCIe: FP32 51.2, TF32 378, BF16 756; H100 NVL: FP32 60, TF32 417.5,
// BF16 835; A100 SXM/PCIe: FP32 19.5, TF32 156, BF16 312. The datasheets print TF32/BF16 "with
// sparsity" at twice these numbers. Other GPUs: pass --peak-tflops (for the precision in use).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/log.h"
#include "core/rng.h"
#include "kernels/cuda_check.h"
#include "kernels/cuda_device.h"
#include "kernels/model_cuda.h"
#include "loss/losses.h"
#include "loss/optim.h"
#include "model/model.h"
#include "mpi/dist.h"
#include "validation/bench_common.h"
#ifdef HAVE_NCCL
#include "kernels/nccl_comm.h"
#endif


typedef struct {
    const char *match;  // substring of the device name
    double fp32, tf32, bf16;
} Peak;

// Dense peaks in TFLOP/s (see the header comment for the sources).
static const Peak PEAKS[] = {
    {"H100 PCIe", 51.2, 378.0, 756.0}, {"H100 NVL", 60.0, 417.5, 835.0}, {"H100", 67.0, 494.7, 989.4},
    {"H200", 67.0, 494.7, 989.4},      {"A100", 19.5, 156.0, 312.0},
};

static const Peak *peak_of(const char *name) {
    for (size_t i = 0; i < sizeof PEAKS / sizeof PEAKS[0]; i++)
        if (strstr(name, PEAKS[i].match)) return &PEAKS[i];
    return NULL;
}

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    size_t B = 64, IB = 256, steps = 20;
    int tf32 = 0;
    double peak_arg = 0.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) B = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--infer-batch") && i + 1 < argc) IB = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--tf32")) tf32 = 1;
        else if (!strcmp(argv[i], "--peak-tflops") && i + 1 < argc) peak_arg = atof(argv[++i]);
        else {
            if (d.rank == 0)
                fprintf(stderr, "usage: %s [--batch B] [--infer-batch B] [--steps N] [--tf32] [--peak-tflops X]\n",
                        argv[0]);
            dist_finalize(&d);
            return 2;
        }
    }
    if (steps < 3 || steps > 10000) steps = 20;
    if (B == 0) B = 64;
    if (IB == 0) IB = 256;
    int64_t no_gpu = cuda_device_count() < 1;
    dist_allreduce_sum_i64(&d, &no_gpu, 1);
    if (no_gpu) {
        if (d.rank == 0) printf("bench_gpu: no CUDA device visible on %d rank(s); nothing to measure\n", (int)no_gpu);
        dist_finalize(&d);
        return 77;
    }
    int dev = cuda_device_select(d.local_rank, d.local_size);
    char name[256];
    cuda_device_name(dev, name, sizeof name);

    size_t G = 3000, P = 300;
    PathwayMap map = bench_paper_map(P, G, 1);
    ModelConfig cfg = {.G = G, .P = P, .T = P + 1, .M = map.M, .C = 128, .NH = 8, .L = 4, .F = 512, .K = 7,
                       .dropout = 0.1f};
    // each rank its own cells (global ids r·B + b), as a data-parallel run
    Csr x = bench_paper_batch(B, G, 0.08, 2 + (uint64_t)d.rank);
    int64_t *ids = xmalloc(B * sizeof(int64_t));
    for (size_t b = 0; b < B; b++) ids[b] = (int64_t)((size_t)d.rank * B + b);
    int32_t *labels = xmalloc(B * sizeof(int32_t));
    for (size_t b = 0; b < B; b++) labels[b] = (int32_t)(b % cfg.K);
    Model host;
    model_init(&host, &cfg, &map, B, 1);
    model_init_weights(&host, 1);
    ModelCuda mc;
    model_cuda_init(&mc, &host);
    model_cuda_set_tf32(&mc, tf32);
    uint8_t *mask = xcalloc(host.n_params, 1);
    {
        size_t sizes[N_PARAM_TENSORS], at = 0;
        model_param_shapes(&cfg, sizes);
        for (size_t i = 0; i < N_PARAM_TENSORS; i++) {
            if (model_param_is_matrix(i)) memset(mask + at, 1, sizes[i]);
            at += sizes[i];
        }
    }
    model_cuda_set_decay_mask(&mc, mask);
    struct NcclComm *nccl = NULL;
#ifdef HAVE_NCCL
    NcclComm nc;
    if (d.size > 1) {
        nccl_comm_init(&nc, &d);
        nccl = &nc;
    }
#endif
    model_cuda_set_nccl(&mc, nccl);
    AdamOptions o = adam_defaults();
    o.adamw = 1;
    float *probs = xmalloc(B * cfg.K * sizeof(float)), *dlogits = xmalloc(B * cfg.K * sizeof(float));
    size_t N_global = B * (size_t)d.size;

    // ---- training steps, phase by phase (each phase ends synchronised)
    size_t warm = 3, total = warm + steps;
    double *t_step = xmalloc(total * sizeof(double)), *t_ph[5];
    for (int k = 0; k < 5; k++) t_ph[k] = xmalloc(total * sizeof(double));
    for (size_t s = 0; s < total; s++) {
        dist_barrier(&d);
        double t0 = wall_time();
        model_cuda_zero_grad(&mc);
        model_cuda_forward(&mc, &x, ids, s + 1, 7);  // returns synchronised
        double t1 = wall_time();
        memset(dlogits, 0, B * cfg.K * sizeof(float));
        double l = ce_forward(probs, mc.logits, labels, B, cfg.K);
        ce_backward(dlogits, probs, labels, B, cfg.K, 1.0f / (float)N_global);
        dist_allreduce_sum_f64(&d, &l, 1);
        double t2 = wall_time();
        model_cuda_backward(&mc, dlogits, NULL);
        model_cuda_sync(&mc);
        double t3 = wall_time();
        model_cuda_allreduce_grads(&mc, &d);
        model_cuda_sync(&mc);
        double t4 = wall_time();
        model_cuda_adam_step(&mc, &o, 1e-4f, s + 1);
        model_cuda_sync(&mc);
        double t5 = wall_time();
        t_step[s] = t5 - t0;
        t_ph[0][s] = t1 - t0, t_ph[1][s] = t2 - t1, t_ph[2][s] = t3 - t2, t_ph[3][s] = t4 - t3, t_ph[4][s] = t5 - t4;
    }
    double step_s = bench_median(t_step + warm, steps), ph[5];
    for (int k = 0; k < 5; k++) ph[k] = bench_median(t_ph[k] + warm, steps);
    double train_cells = (double)N_global / step_s;  // cells of the global batch per second

    // ---- all-reduce alone: NCCL (if any) and the host MPI path
    double t_nccl = 0.0, t_mpi = 0.0;
    if (d.size > 1) {
        double *t = xmalloc(total * sizeof(double));
        if (nccl) {
            for (size_t s = 0; s < total; s++) {
                dist_barrier(&d);
                double t0 = wall_time();
                model_cuda_allreduce_grads(&mc, &d);
                model_cuda_sync(&mc);
                t[s] = wall_time() - t0;
            }
            t_nccl = bench_median(t + warm, steps);
        }
        model_cuda_set_nccl(&mc, NULL);
        for (size_t s = 0; s < total; s++) {
            dist_barrier(&d);
            double t0 = wall_time();
            model_cuda_allreduce_grads(&mc, &d);
            model_cuda_sync(&mc);
            t[s] = wall_time() - t0;
        }
        t_mpi = bench_median(t + warm, steps);
        free(t);
    }
    size_t n_params = mc.n_params;
    model_cuda_free(&mc);

    // ---- inference
    Model ihost;
    model_init(&ihost, &cfg, &map, IB, 0);
    memcpy(ihost.params, host.params, host.n_params * sizeof(float));
    model_free(&host);
    ModelCuda mi;
    model_cuda_init(&mi, &ihost);
    model_cuda_set_tf32(&mi, tf32);
    Csr xi = bench_paper_batch(IB, G, 0.08, 3);
    double *t_inf = xmalloc(total * sizeof(double));
    for (size_t s = 0; s < total; s++) {
        double t0 = wall_time();
        model_cuda_forward(&mi, &xi, NULL, 0, 0);
        t_inf[s] = wall_time() - t0;
    }
    double inf_s = bench_median(t_inf + warm, steps), inf_cells = (double)IB / inf_s;
    model_cuda_free(&mi);
    model_free(&ihost);

    if (d.rank == 0) {
        double ftr = (double)model_flops_per_cell(&cfg, 1), finf = (double)model_flops_per_cell(&cfg, 0);
        double tf_train = ftr * (double)B / step_s * 1e-12, tf_inf = finf * inf_cells * 1e-12;  // per GPU
        const Peak *pk = peak_of(name);
        double peak = peak_arg > 0 ? peak_arg : pk ? (tf32 ? pk->tf32 : pk->fp32) : 0.0;
        const char *prec = tf32 ? "TF32" : "FP32";
        printf("kida GPU benchmark: %s, %d rank(s), G=%zu P=%zu T=%zu M=%zu C=%zu NH=%zu L=%zu F=%zu K=%zu, "
               "batch %zu/rank, inference batch %zu, %s GEMMs, median of %zu after %zu warm-up\n",
               name, d.size, G, P, cfg.T, map.M, cfg.C, cfg.NH, cfg.L, cfg.F, cfg.K, B, IB, prec, steps, warm);
        printf("  training step        %8.2f ms   %10.0f cells/s (global batch %zu)\n", step_s * 1e3, train_cells,
               N_global);
        printf("    forward + batch upload + outputs down   %8.2f ms\n", ph[0] * 1e3);
        printf("    cross-entropy on the host               %8.2f ms\n", ph[1] * 1e3);
        printf("    backward                                %8.2f ms\n", ph[2] * 1e3);
        printf("    gradient all-reduce                     %8.2f ms\n", ph[3] * 1e3);
        printf("    AdamW                                   %8.2f ms\n", ph[4] * 1e3);
        printf("  inference            %8.2f ms   %10.0f cells/s\n", inf_s * 1e3, inf_cells);
        printf("  model FLOP/cell: training %.3g, inference %.3g (model_flops_per_cell; sparse embedding excluded)\n",
               ftr, finf);
        printf("  TFLOP/s per GPU: training %.2f, inference %.2f", tf_train, tf_inf);
        if (peak > 0)
            printf("  = %.1f%% / %.1f%% of the %s peak %.1f TFLOP/s\n", 100 * tf_train / peak, 100 * tf_inf / peak,
                   prec, peak);
        else
            printf("  (peak unknown for this GPU: pass --peak-tflops)\n");
        if (pk) printf("  for reference, the dense BF16 tensor peak is %.1f TFLOP/s (%.2f%% used)\n", pk->bf16,
                       100 * tf_train / pk->bf16);
        if (d.size > 1) {
            printf("  all-reduce of the %zu-float gradient (%.1f MB):", n_params, (double)n_params * 4e-6);
            if (nccl) printf(" NCCL %.3f ms,", t_nccl * 1e3);
            else printf(" NCCL not built,");
            printf(" MPI through the host %.3f ms\n", t_mpi * 1e3);
        } else {
            printf("  all-reduce: 1 rank, none (run under mpiexec -n <GPUs> to measure it)\n");
        }
        printf("key=value\n");
        printf("device=%s\nranks=%d\nprecision=%s\nbatch=%zu\ntrain_step_ms=%.4f\ntrain_cells_per_s=%.1f\n", name,
               d.size, prec, B, step_s * 1e3, train_cells);
        printf("forward_ms=%.4f\nloss_host_ms=%.4f\nbackward_ms=%.4f\nallreduce_in_step_ms=%.4f\nadam_ms=%.4f\n",
               ph[0] * 1e3, ph[1] * 1e3, ph[2] * 1e3, ph[3] * 1e3, ph[4] * 1e3);
        printf("infer_batch=%zu\ninfer_ms=%.4f\ninfer_cells_per_s=%.1f\n", IB, inf_s * 1e3, inf_cells);
        printf("train_tflops=%.4f\ninfer_tflops=%.4f\npeak_tflops=%.1f\n", tf_train, tf_inf, peak);
        printf("allreduce_nccl_ms=%.4f\nallreduce_mpi_ms=%.4f\n", t_nccl * 1e3, t_mpi * 1e3);
    }
#ifdef HAVE_NCCL
    if (nccl) nccl_comm_free(nccl);
#endif
    csr_free(&x), csr_free(&xi);
    pathmap_free(&map);
    free(ids), free(labels), free(mask), free(probs), free(dlogits), free(t_step), free(t_inf);
    for (int k = 0; k < 5; k++) free(t_ph[k]);
    dist_finalize(&d);
    return 0;
}
