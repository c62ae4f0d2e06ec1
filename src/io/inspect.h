// inspect: a human-readable summary of an .h5ad or 10x .h5 file (`kida inspect FILE`).
#ifndef KIDA_INSPECT_H
#define KIDA_INSPECT_H
#include <stdio.h>

// Prints shape, X encoding and dtype, nnz and density, obs columns with type and category counts
// (top categories, NA count), obsm keys with shapes, layers, raw presence, what the matrix and
// the other matrices hold (io/xvalues.h), the first var and obs names. layer as in h5ad_open
// (NULL = X). Uses dist_world() if MPI is up, otherwise a single-process context. Structural
// errors are FATAL (exit 1) like h5ad_open, and so is what h5ad_check_copy_source refuses (a
// damaged part an annotated output would copy).
void inspect_print(const char *path, const char *layer, FILE *out);
#endif
