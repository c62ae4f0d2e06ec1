// fit: what `kida annotate` and `kida train` share — checking the inputs and outputs before any
// work, the reference, the pathways, the hold-out split, checkpoints, and training one model
// phase by phase with resume.
#ifndef KIDA_FIT_H
#define KIDA_FIT_H
#include <stddef.h>
#include <stdint.h>

#include "core/options.h"
#include "model/pathmap.h"
#include "mpi/dist.h"
#include "train/dataset.h"
#include "train/modelfile.h"
#include "train/trainer.h"

typedef struct {
    const Config *c;
    const Dist *d;
    Dataset ref;
    Labels lab;
    ModelSpec spec;      // prep, pathways, classes, dims, config text
    PathwayMap map;
    uint8_t *holdout;    // (ref.n_total) 1 = held out, never trained on
    int64_t *train_ids;  // labelled, not held out
    size_t n_train;
    char *ckpt_path;     // <checkpoint-dir>/checkpoint.h5
    char *metrics_path;  // <checkpoint-dir>/metrics.jsonl: progress lines as JSON (rank 0 appends)
    TrainState st;       // progress (resumed or fresh)
    int resumed;
    int gpu;             // GPU_NONE / GPU_FP32 / GPU_TF32 (kernels/gpu.h), from --device/--precision
    size_t n_ckpt;       // checkpoints this run wrote
} Fit;

// Checks options and output paths, loads the reference, fits preprocessing, chooses pathways,
// splits the hold-out, and reads the checkpoint when --resume. FATAL on any bad input.
void fit_setup(Fit *f, const Config *c, const Dist *d, const char *main_out);
// Check an output path before work starts: FATAL if it exists and --overwrite is not given, or if
// its folder does not exist.
void fit_check_output(const char *path, int overwrite, const char *option);
// Trains `m` (teacher: phase PHASE_TEACHER; student: PHASE_STUDENT) from f->st onwards, writing
// checkpoints; `other` is the model kept alongside in checkpoints (the teacher while training the
// student). Returns 0 when the phase completed, KIDA_EXIT_RESUMABLE when stopped by a signal.
// A loss or gradient that is not finite is FATAL, with a checkpoint from before it on disk.
int fit_train_phase(Fit *f, Model *m, const Model *other, Phase phase, const TrainData *td, size_t epochs);
// Epochs for a phase: `epochs`, or more when that many epochs over n_ids cells are fewer than
// min_steps optimiser steps (small data sets); logs the raise, naming `option`.
size_t fit_epochs(const char *phase, const char *option, size_t epochs, size_t min_steps, size_t n_ids, size_t batch);
// The teacher's per-class loss weights of --class-weights (K floats; NULL for `none`): w_k ∝
// n_k^-1/2 (sqrt) or n_k^-1 (balanced) over the training cells, scaled so the mean weight of a
// training cell is 1. Caller frees.
float *fit_class_weights(const Fit *f);
// The trainer options of the config for a phase.
TrainOptions fit_train_options(const Fit *f, Phase phase, size_t epochs, const Model *m);
// Writes a checkpoint of the current state (rank 0 writes; collective barrier).
void fit_checkpoint(Fit *f, const Model *teacher, const Model *student);
// Removes the checkpoint after a successful run.
void fit_finish(Fit *f);
void fit_free(Fit *f);
#endif
