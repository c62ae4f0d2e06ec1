// gmt: gene sets from GMT files (MSigDB's format: one set per line, tab-separated
// NAME <tab> DESCRIPTION <tab> GENE <tab> GENE ...), plain or gzip-compressed.
#ifndef KIDA_GMT_H
#define KIDA_GMT_H
#include <stddef.h>

typedef struct {
    char *name;      // set name (column 1), unique within a GeneSets
    char *desc;      // description (column 2, may be empty)
    char **genes;    // (n_genes) member gene names, first occurrence order, no duplicates
    size_t n_genes;
} GeneSet;

typedef struct {
    GeneSet *sets;   // (n_sets) in file order, files in the order given
    size_t n_sets;
} GeneSets;

// Most genes a set may list (several times any genome's gene count): longer lines are refused
// before anything is allocated for them.
#define GMT_MAX_GENES 1000000

// Reads every set of the n_paths GMT files (each plain or .gz; gzopen reads both) into one
// collection. Windows line ends and blank lines are accepted; a set with no genes is skipped
// (counted, one warning); a set name seen before (in any file) keeps its first definition
// (one warning with the count); a gene repeated within a set is kept once. FATAL when a file
// cannot be opened or read, when a non-blank line has fewer than 2 tab-separated fields
// (names file:line), a line of more than GMT_MAX_GENES genes, or when no set with genes was
// read at all.
GeneSets gmt_read(char *const *paths, size_t n_paths);

// Frees every string and array of gs and zeroes it.
void gmt_free(GeneSets *gs);
#endif
