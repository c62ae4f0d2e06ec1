// varnames: where an input file's gene names come from: the var index, or a var column
// (--var-names-column, e.g. CELLxGENE's feature_name, scanpy's gene_symbols), chosen
// automatically when the index holds Ensembl IDs and a symbol column exists (gene sets name
// genes by symbol). Then --gene-map, when given, translates the names (reference and query).
#ifndef KIDA_VARNAMES_H
#define KIDA_VARNAMES_H
#include <stddef.h>

#include "core/options.h"
#include "io/h5ad.h"

// The var column to name h's genes by (a new string), or NULL for the var index; said in the
// log. asked: --var-names-column ("" = the index, or the symbol column found when the index
// holds Ensembl IDs). FATAL when asked names a column h lacks, listing those it has.
char *varnames_choose(H5ad *h, const char *asked, const char *role);
// h's gene names (n_vars new strings, free with strv_free) from column (NULL: the index),
// translated by c->gene_map when set.
char **varnames_read(H5ad *h, const char *column, const Config *c);
#endif
