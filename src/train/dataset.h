// dataset: a reference or query as the model sees it. Each rank holds its block of cells
// (dist_block) as model input (docs/model.md "Input"); labels, which are small, are held whole.
#ifndef KIDA_DATASET_H
#define KIDA_DATASET_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "core/options.h"
#include "mpi/dist.h"
#include "prep/preprocess.h"
#include "train/sources.h"

typedef struct QueryFiles QueryFiles;

typedef struct {
    Sources src;         // the file(s) and their modalities
    size_t n_total;      // cells in all files
    size_t start, count; // this rank's block
    Csr x;               // (count, G) model input rows, row_start = start
    int32_t **col;       // query: (src.n) each file's column -> model gene (-1: not a model gene)
    QueryFiles *files;   // query: the files, open until dataset_free
} Dataset;

typedef struct {
    size_t K;
    char **classes;      // (K) categories with at least one labelled cell, in file order
    int32_t *y;          // (n_total) class of every cell, -1 for NA
    size_t n_labelled;
} Labels;

// Opens the reference (--reference, one file or a list; --reference-modality), checks it (counts,
// labels), fits preprocessing on it (collective) and keeps its model input. A list is stacked in
// the gene space of its first file: genes a later file lacks are zero for its cells, and each
// later file must hold --min-gene-overlap of the model genes. FATAL on bad input, naming the
// file and the field.
void dataset_load_reference(Dataset *ds, Labels *lab, PrepStats *prep, const Config *c, const Dist *d);
// Opens a query (--query, one file or a list; --query-modality) and maps each file's genes onto
// the model genes (collective); this rank's block is ds->start, ds->count, no rows are read.
void dataset_open_query(Dataset *ds, const PrepStats *prep, const Config *c, const Dist *d);
// dataset_open_query, then this rank's model input in ds->x, read and transformed in blocks of
// DATASET_BLOCK cells (the raw counts of one block at a time are in memory).
void dataset_load_query(Dataset *ds, const PrepStats *prep, const Config *c, const Dist *d);
#define DATASET_BLOCK 16384
// Rows [start, start+count) (global, within this rank's block) of an open query as model input
// (transform) or as counts on the model genes (ATAC files as gene activity). Not collective.
Csr dataset_query_rows(const Dataset *q, const PrepStats *prep, size_t start, size_t count, int transform);
// Labels from obs[key] of every file (all cells), classes without cells dropped.
Labels labels_read(const Sources *s, const char *key, const Config *c, const Dist *d);
void labels_free(Labels *l);
void dataset_free(Dataset *ds);
#endif
