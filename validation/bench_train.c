// bench_train: training cells per CPU-second of the whole data-parallel step (train_epoch: row
// exchange, forward, loss, backward, gradient reduction, Adam) at the paper network, on any number
// of ranks (not a test):
//   mpirun -np N validation/bench_train [--batch 16] [--steps 24] [--cells 2048] [--student]
// Synthetic data as validation/bench_model (G = 3000, P = 300, M ≈ 20000, C = 128, NH = 8, L = 4,
// K = 7, 8% nonzero), block-distributed over the ranks. One untimed warm-up epoch of 2 steps, then
// --steps steps of global batch --batch. CPU time is the sum over ranks of each process's CPU
// seconds (all its threads), so the figure does not depend on other jobs sharing the cores.
// --student trains with the student loss (distillation + clustering loss over the gathered batch).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rng.h"
#include "model/model.h"
#include "mpi/dist.h"
#include "mpi/exchange.h"
#include "train/trainer.h"
#include "validation/bench_common.h"


int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    size_t batch = 16, steps = 24, n_cells = 2048;
    int student = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--cells") && i + 1 < argc) n_cells = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--student")) student = 1;
        else {
            if (d.rank == 0) fprintf(stderr, "usage: %s [--batch B] [--steps N] [--cells N] [--student]\n", argv[0]);
            dist_finalize(&d);
            return 2;
        }
    }
    if (batch == 0 || steps == 0 || n_cells < batch * (steps + 2)) n_cells = batch * (steps + 2);
    size_t G = 3000, P = 300, K = 7;
    PathwayMap map = bench_paper_map(P, G, 1);
    ModelConfig cfg = {.G = G, .P = P, .T = P + 1, .M = map.M, .C = 128, .NH = 8, .L = 4, .F = 512, .K = K, .dropout = 0.1f};
    // this rank's block of the synthetic dataset (every rank draws the same matrix, keeps its rows)
    Csr all = bench_paper_batch(n_cells, G, 0.08, 2);
    size_t start, count;
    dist_block(n_cells, d.rank, d.size, &start, &count);
    Csr x = csr_slice(&all, start, count);
    x.row_start = start;
    int32_t *labels = xmalloc(n_cells * sizeof(int32_t));
    int64_t *ids = xmalloc(n_cells * sizeof(int64_t));
    for (size_t i = 0; i < n_cells; i++) {
        labels[i] = (int32_t)(rng_u64(3, 1, i, 0) % K);
        ids[i] = (int64_t)i;
    }
    float *soft = xmalloc((count ? count : 1) * K * sizeof(float));
    for (size_t i = 0; i < count * K; i++) soft[i] = 2.0f * rng_normal(3, 2, start * K + i, 0);
    csr_free(&all);

    Model m;
    size_t max_c = batch / (size_t)d.size + 1;
    model_init(&m, &cfg, &map, max_c, 1);
    model_init_weights(&m, 1);
    uint8_t *mask = train_decay_mask(&m);
    TrainOptions o = {.loss = student ? LOSS_STUDENT : LOSS_CE, .name = student ? "student" : "teacher", .phase_id = 1,
                      .epochs = 1, .batch = batch, .adam = adam_defaults(), .schedule = LR_CONSTANT,
                      .alpha = 0.8f, .beta = 0.2f, .tau = 3.0f, .seed = 7, .decay_mask = mask};
    TrainData td = {.x = &x, .n_total = n_cells, .ids = ids, .labels = labels, .soft = student ? soft : NULL};
    EpochStats st = {0};
    uint64_t step = 0;
    // warm-up: two steps (a dataset of 2 batches)
    TrainData warm = td;
    warm.n_ids = 2 * batch;
    train_epoch(&m, &d, &warm, &o, 0, 0, &step, &st, NULL, NULL);
    td.n_ids = steps * batch;
    dist_barrier(&d);
    double w0 = wall_time(), c0 = bench_cpu_time();
    train_epoch(&m, &d, &td, &o, 1, 0, &step, &st, NULL, NULL);
    double cpu = bench_cpu_time() - c0;
    dist_barrier(&d);
    double wall = wall_time() - w0;
    dist_allreduce_sum_f64(&d, &cpu, 1);
    double cells = (double)(steps * batch);
    if (d.rank == 0) {
        printf("bench_train: %s loss, %d rank(s), global batch %zu, %zu steps, paper network (T %zu, C %zu, L %zu)\n",
               o.name, d.size, batch, steps, cfg.T, cfg.C, cfg.L);
        printf("RESULT train ranks=%d batch=%zu cells_per_cpu_s=%.2f cells_per_s=%.2f cpu_s=%.2f wall_s=%.2f\n", d.size,
               batch, cells / cpu, cells / wall, cpu, wall);
    }
    free(mask);
    model_free(&m);
    csr_free(&x);
    free(labels), free(ids), free(soft);
    pathmap_free(&map);
    dist_finalize(&d);
    return 0;
}
