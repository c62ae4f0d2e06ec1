// modelfile: one HDF5 file that is both the saved model and the resumable checkpoint.
// It holds everything a trained model needs (genes and preprocessing statistics, pathways,
// classes, network dimensions, weights, the resolved config) and, in checkpoints, the training
// state (phase, epoch, batch, Adam moments, anchors, per-epoch history). Parameters are
// replicated on every rank, so any rank count can resume from it. Written by rank 0, atomically.
#ifndef KIDA_MODELFILE_H
#define KIDA_MODELFILE_H
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "prep/pathways.h"
#include "prep/preprocess.h"

#define KIDA_MODEL_FORMAT "kida-model"
#define KIDA_MODEL_FORMAT_VERSION 1

typedef enum { PHASE_TEACHER = 0, PHASE_STUDENT = 1, PHASE_DONE = 2 } Phase;

// What defines a trained model apart from its weights.
typedef struct {
    ModelConfig mc;
    PrepStats prep;     // gene_names, mean, std, zero, target_sum, clip (ref_col not stored)
    Pathways pw;
    size_t K;
    char **classes;     // (K)
    char *config_text;  // resolved options
    char *fingerprint;  // the run's fingerprint (train/fingerprint.h); NULL when the file has none
    float *profile;     // (K,G) each class's mean log expression (prep/profiles.h; the novel-type
                        // rule), a row of NAN for a class without cells; NULL when the file has none
} ModelSpec;

// Training progress (checkpoints only).
typedef struct {
    Phase phase;
    size_t epoch, batch;   // next epoch and batch to run in the phase
    uint64_t step;         // optimiser steps taken in the phase
    size_t n_hist;         // epochs recorded in hist (teacher then student)
    double *hist;          // (n_hist, 5): phase, loss, kd, ada, hold-out accuracy (NaN if none)
    double partial[5];     // sums of the epoch in progress: loss, kd, ada, steps, cells
    size_t n_anchor;       // anchors (student phase)
    int64_t *anchors;      // (n_anchor) global query rows
    // the phase's weight average (--teacher-average / --student-average) and best hold-out epoch
    // (--best-checkpoint, --early-stop), so that a resumed run keeps the same result
    size_t n_params;       // length of avg_sum and best (0: neither held)
    double *avg_sum;       // (n_params) sum of the weights after each averaged step, or NULL
    uint64_t avg_n;        // steps summed into avg_sum
    float *best;           // (n_params) weights of the best hold-out epoch so far, or NULL
    double best_acc;       // its hold-out accuracy (-1: none yet)
    uint64_t since_best;   // epochs since it (--early-stop)
} TrainState;

// Writes spec, teacher (and student, may be NULL) weights; with st != NULL also the training
// state and the Adam moments of the model being trained. Atomic: temp file + rename.
void modelfile_write(const char *path, const ModelSpec *s, const Model *teacher, const Model *student,
                     const TrainState *st);
// Reads the spec; FATAL when the file is not a kida model or is of another format version, or
// when its classes include the reserved label `unknown`.
void modelfile_read_spec(const char *path, ModelSpec *s);
// 1 if the file holds weights for `which` ("teacher" or "student").
int modelfile_has(const char *path, const char *which);
// Loads weights (and Adam moments when with_adam and present) into an initialised model whose
// config matches the file's.
void modelfile_read_params(const char *path, const char *which, Model *m, int with_adam);
// Reads the training state; returns 0 when the file has none.
int modelfile_read_state(const char *path, TrainState *st);
// NULL when the model `m` (read from a file) is the network of this run's `run`: the same classes,
// model genes and their preprocessing statistics (to 1e-4, the last bits of a sum's order), pathway
// tokens with their members, and dimensions. Else the first difference, written into buf (n bytes).
const char *modelspec_diff(const ModelSpec *m, const ModelSpec *run, char *buf, size_t n);
void modelspec_free(ModelSpec *s);
void trainstate_free(TrainState *st);
#endif
