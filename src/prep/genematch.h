// genematch: maps a dataset's var names (genes) onto the model's genes by name.
#ifndef KIDA_GENEMATCH_H
#define KIDA_GENEMATCH_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int case_insensitive;      // compare names ignoring ASCII case (0)
    const char *map_path;      // optional 2-column table id<TAB>symbol (plain or .gz): input
                               // names found in column 1 are replaced by column 2 before matching
    double min_overlap;        // FATAL when fewer than this fraction of model genes match (0.5)
    const char *target;        // what the genes being matched are, for the log ("model genes")
    const char *extra_hint;    // added to the low-overlap hint when not NULL (e.g. "use .raw")
} MatchOptions;

// Default options: exact names, no map, min_overlap 0.5.
MatchOptions match_options_default(void);

// Returns an (n_cols) array: input column -> model gene index (0..G-1) or -1. When several
// columns carry the same model gene, the first one is used and the others are -1 (warned).
// Logs "query genes matched: M/G model genes (P%)" through log_info and sets *n_matched = M
// (when not NULL). FATAL below min_overlap with both numbers, file_for_messages, and a hint:
// IDs vs symbols (suggests --gene-map), case (suggests --gene-case-insensitive) when that would
// pass. FATAL on an unreadable or malformed map file (file:line). The caller frees the result.
int32_t *genes_match(char *const *model_genes, size_t G, char *const *names, size_t n_cols,
                     const MatchOptions *opt, const char *file_for_messages, size_t *n_matched);

// Share of names that look like Ensembl gene IDs (ENSG00000121410, ENSMUSG..., .version ok).
double genes_frac_ensembl(char *const *names, size_t n);
// Replaces each name found in column 1 of the map file (as MatchOptions.map_path) by its
// column 2 in place, then makes the names unique as h5ad_make_unique does (two IDs of one
// symbol: SYMBOL, SYMBOL-1). Returns the number translated. FATAL as genes_match on a bad map.
size_t genes_translate(char **names, size_t n, const char *map_path);
#endif
