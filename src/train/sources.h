// sources: a reference or query given as one file or a comma-separated list of files, each with
// its modality (rna, atac, spatial). The files' cells are taken in list order as one run of
// global cell indices, so a rank's block (dist_block) may span files.
#ifndef KIDA_SOURCES_H
#define KIDA_SOURCES_H
#include <stddef.h>
#include <stdint.h>

#include "core/options.h"
#include "io/h5ad.h"
#include "io/xvalues.h"
#include "mpi/dist.h"

typedef struct {
    size_t n;          // files
    char **path;       // (n)
    char **modality;   // (n) "rna", "atac" or "spatial"
    size_t *first;     // (n+1) global index of each file's first cell; first[n] = all cells
    char **layer;      // (n) the matrix read from each file, as h5ad_open takes it (NULL: X)
    XValues *values;   // (n) what it holds; rows go through xvalues_to_counts
    char **var_column; // (n) var column naming the genes (train/varnames.h), NULL: the var index
} Sources;

// Splits `list` (option `opt`, e.g. "--query") at commas and gives each file its modality: the
// comma-separated `modalities` (option `mod_opt`) one per file, or `fallback` for all when
// empty. Opens every file (collective) to count its cells, and chooses the matrix read from it
// (train/xchoice.h) by `layer` (option `layer_opt`; "" or "auto": the one holding counts) and the
// var column naming its genes (train/varnames.h, --var-names-column). FATAL,
// before any work, on an empty entry, a file listed twice, a modality count that differs from
// the file count, an unknown modality, a file without cells, or one without usable values.
Sources sources_open(const char *list, const char *modalities, const char *fallback, const char *opt,
                     const char *mod_opt, const char *layer, const char *layer_opt, const Config *c, const Dist *d);
void sources_free(Sources *s);
// What was read from file f, for the output's uns: "PATH: layers/counts (integer counts); gene
// names: var index" (a new string).
char *sources_describe(const Sources *s, size_t f);
// The gene names of file f, open as h (varnames_read with the file's column).
char **sources_var_names(const Sources *s, size_t f, H5ad *h, const Config *c);
// The file holding global cell i.
size_t sources_file_of(const Sources *s, size_t i);
// The list as text for messages: the path, or "N files (a, b, ...)".
const char *sources_label(const Sources *s, char *buf, size_t len);
// obs[key] of every file, one after the other (first[n] codes, -1 for missing), with categories
// united by name in order of first appearance; *cats gets *n_cats names (free with strv_free).
// FATAL, naming the file, when a file lacks the column.
int32_t *sources_read_column(const Sources *s, const char *key, const Config *c, const Dist *d, char ***cats,
                             size_t *n_cats);
#endif
