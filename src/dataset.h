// dataset: a reference or query as the model sees it. Each rank holds its block of cells
// (dist_block) as model input (docs/model.md "Input"); labels, which are small, are held whole.
#ifndef KIDA_DATASET_H
#define KIDA_DATASET_H
#include <stddef.h>
#include <stdint.h>

#include "csr.h"
#include "dist.h"
#include "options.h"
#include "preprocess.h"

typedef struct {
    char *path;
    size_t n_total;      // cells in the file
    size_t start, count; // this rank's block
    Csr x;               // (count, G) model input rows, row_start = start
} Dataset;

typedef struct {
    size_t K;
    char **classes;      // (K) categories with at least one labelled cell, in file order
    int32_t *y;          // (n_total) class of every cell, -1 for NA
    size_t n_labelled;
} Labels;

// Opens the reference, checks it (counts, labels), fits preprocessing on it (collective) and
// keeps its model input. FATAL on bad input, naming the file and the field.
void dataset_load_reference(Dataset *ds, Labels *lab, PrepStats *prep, const Config *c, const Dist *d);
// Opens a query, maps its genes onto the model genes and keeps its model input.
void dataset_load_query(Dataset *ds, const char *path, const PrepStats *prep, const Config *c, const Dist *d);
// Reads labels from obs[key] of any file (all cells); NULL-safe cleanup with labels_free.
Labels labels_read(const char *path, const char *key, const Config *c, const Dist *d);
void labels_free(Labels *l);
void dataset_free(Dataset *ds);
#endif
