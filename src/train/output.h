// output: the annotated .h5ad. Every rank's per-cell results are gathered to rank 0 (a documented
// gather: outputs are per-cell summaries, a few hundred floats per cell), which writes a copy of
// the query with the kida keys added, atomically. A query of several files becomes one new file
// (output_list_base) with the cells of all files in list order.
#ifndef KIDA_OUTPUT_H
#define KIDA_OUTPUT_H
#include <stddef.h>
#include <stdint.h>

#include "io/h5ad.h"
#include "mpi/dist.h"
#include "train/dataset.h"
#include "train/infer.h"
#include "train/modelfile.h"

typedef struct {
    const Dataset *query;       // the query file(s) the output is built on
    const Config *c;
    const char *out_path;
    int overwrite;
    const ModelSpec *spec;
    const Predictions *final;   // this rank's cells (student, or teacher in KI mode)
    const Predictions *teacher; // this rank's teacher predictions (annotate), or NULL
    const int64_t *anchors;     // global rows (ascending), or NULL
    size_t n_anchor;
    size_t n_total;             // query cells over all ranks
    double unknown_threshold;
    const char *mode;           // "kida", "ki" or "predict"
    const double *hist;         // (n_hist,5) per-epoch history, or NULL
    size_t n_hist;
} OutputSpec;

// Collective; rank 0 writes. Returns the number of cells labelled unknown (on every rank).
size_t output_write(const OutputSpec *o, const Dist *d);
// The base of the output for a query of several files, on this process: X = counts on the model
// genes (ATAC files as gene activity), var = the model genes, obs names of all files (made
// unique), obs kida_source and kida_modality, the text obs columns and obsm matrices that every
// file has. kida keys of an earlier run are not carried over.
H5adWriter *output_list_base(const char *out_path, int overwrite, const Dataset *q, const ModelSpec *spec,
                             const Config *c);
#endif
