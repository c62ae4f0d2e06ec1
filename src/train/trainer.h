// trainer: data-parallel training of one model (teacher or student). One global sample order per
// epoch from the seed; each global batch is cut into contiguous per-rank slices (dist_block), the
// slice's cells are fetched from their owners (exchange_rows), the gradient is summed exactly over
// the cells with one integer all-reduce (train/gradreduce.h), and every rank takes the same Adam
// step. Loss terms that do not decompose over cells (the clustering loss) see the whole gathered
// batch. The unit of work is one cell: a cell's forward, loss terms and gradient contribution do
// not depend on which rank or batch slot holds it, and every sum over cells is exact or taken in
// batch order, so weights, losses and outputs are bit-identical on any rank count (CPU; the GPU
// path all-reduces float gradients).
#ifndef KIDA_TRAINER_H
#define KIDA_TRAINER_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "loss/optim.h"
#include "model/model.h"
#include "mpi/dist.h"

typedef enum { LOSS_CE, LOSS_STUDENT } LossKind;

struct ModelCuda;  // kernels/gpu.h

typedef struct {
    LossKind loss;
    const char *name;      // "teacher" / "student", for progress lines
    uint64_t phase_id;     // keeps shuffles and dropout of the phases apart
    size_t epochs, batch;  // global batch over all ranks
    AdamOptions adam;
    LrSchedule schedule;
    size_t warmup;
    float alpha, beta, tau;  // student loss weights and distillation temperature
    float gene_dropout;      // training input: each measured gene of a cell reads as unmeasured with this probability
    uint64_t seed;
    size_t log_every;
    int debug_sync;
    const uint8_t *decay_mask;  // (n_params) AdamW decay mask, from train_decay_mask
    const char *metrics_path;   // rank 0 appends one JSON line per progress line here (NULL: none)
    struct ModelCuda *gpu;      // not NULL: steps run on this device twin of the model (kernels/gpu.h);
                                // the host model is brought up to date at the end of train_epoch
} TrainOptions;

typedef struct {
    const Csr *x;           // this rank's block of the dataset's model-input rows
    size_t n_total;         // rows of the dataset over all ranks
    const int64_t *ids;     // (n_ids) global rows to train on, identical on every rank
    size_t n_ids;
    const int32_t *labels;  // (n_total) class of every global row (teacher), or NULL
    const float *soft;      // (x->n_rows, K) teacher logits of this rank's rows (student), or NULL
    const float *class_weight;  // (K) teacher: cross-entropy weight of each class, or NULL (all 1)
} TrainData;

typedef struct {
    double loss, kd, ada;   // sums over the epoch's steps of the global batch losses
    size_t steps, cells;
    int nonfinite;          // 1 (loss) or 2 (gradient norm): the epoch stopped at a batch whose value
    double bad;             // `bad` was not finite, before the update (parameters still the last good ones)
} EpochStats;

// Called after every optimiser step with the index of the next batch; returns 1 to stop the epoch
// there (after writing a checkpoint, say). Must return the same on every rank.
typedef int (*TrainHook)(void *ctx, size_t epoch, size_t next_batch, int stop_requested);

size_t train_n_batches(size_t n_ids, size_t batch);
// 1 for the elements of the weight matrices (AdamW decays those only); caller frees.
uint8_t *train_decay_mask(const Model *m);
// Runs batches [first_batch, n_batches) of `epoch`; *step counts optimiser steps of this phase
// (the Adam step and the dropout stream). Returns the next batch index: n_batches when the epoch
// is complete, less when the hook stopped it or a loss or gradient norm was not finite
// (st->nonfinite set; that batch was not applied and is not counted).
size_t train_epoch(Model *m, const Dist *d, const TrainData *td, const TrainOptions *o, size_t epoch,
                   size_t first_batch, uint64_t *step, EpochStats *st, TrainHook hook, void *ctx);
// Appends one JSON object (text without braces) as a line to path; rank 0 only, errors warned.
void train_log_json(const char *path, const Dist *d, const char *fields);
// Sum of all parameters in double, compared across ranks: FATAL when ranks disagree.
void train_check_sync(const Model *m, const Dist *d, const char *where);
#endif
