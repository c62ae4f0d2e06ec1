// xchoice: which matrix of an input file kida reads (X, a layer, or raw/X with raw/var's names)
// and what its values are, decided once per file before any work (docs/io.md "What X holds").
//   asked "" or "auto": X when it holds integer counts; otherwise the layer or raw/X that does
//     (the one with the most genes; said in the log, with the option that reads X instead);
//     otherwise the usable matrix with the most genes (log1p-normalised or normalised values are
//     turned back into counts by xvalues_to_counts, non-integer counts are used with a warning);
//     scaled values everywhere are FATAL.
//   asked "X", "raw" or a layer name: that matrix, turned back into counts the same way; FATAL
//     when it holds scaled values, naming a matrix of the file that holds counts if there is one.
#ifndef KIDA_XCHOICE_H
#define KIDA_XCHOICE_H
#include "io/xvalues.h"
#include "mpi/dist.h"

typedef struct {
    char *layer;       // for h5ad_open: NULL (X), "raw" or a layer name; new string
    XValues values;    // what it holds
} XChoice;

// Collective over d (opens the file's matrices). role ("reference", "query") and opt (the layer
// option, e.g. "--query-layer") are for the log and the errors.
XChoice xchoice_make(const char *path, const char *asked, int use_gene_ids, const char *role, const char *opt,
                     const Dist *d);
// "X", "raw/X" or "layers/<name>" for a layer as h5ad_open takes it.
const char *xchoice_where(const char *layer, char *buf, size_t n);
#endif
