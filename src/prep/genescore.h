// genescore: ATAC peak counts -> gene activity scores, the "unify features as genes" step for
// ATAC (DESIGN.md, method step 1). A gene's score in a cell is the sum of the counts of the peaks
// that overlap its region: the gene body plus `window` bases upstream of its TSS (upstream of
// start on the + strand, of end on the - strand, on both sides when the strand is unknown).
// Loci that share a gene name (PAR genes on chrX/chrY, duplicated families) are one gene whose
// region is the union of its loci: a peak counts once for it.
//
// The gene x peak mapping depends only on names and coordinates, so every rank builds it itself
// (one sweep over sorted intervals per chromosome, O((peaks + loci) log + overlaps)) and converts
// its own block of cells; nothing is exchanged. docs/atac.md describes the method and its check.
#ifndef KIDA_GENESCORE_H
#define KIDA_GENESCORE_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "core/options.h"
#include "io/genes_annot.h"
#include "mpi/dist.h"

// How peak chromosome names are mapped onto the gene table's ("chr1" vs "1", "chrM" vs "MT").
typedef enum {
    GS_CHROM_AUTO,       // the convention that places the most peaks (logged when not as-is)
    GS_CHROM_ASIS,       // names must agree as written
    GS_CHROM_ADD_CHR,    // peaks "1" -> genes "chr1" ("MT" -> "chrM")
    GS_CHROM_STRIP_CHR,  // peaks "chr1" -> genes "1" ("chrM" -> "MT")
} GsChromNaming;

typedef struct {
    int64_t window;             // bases upstream of the TSS added to the gene body (>= 0)
    const char *gene_types;     // comma-separated gene types to keep; NULL or "" keeps all
    GsChromNaming chrom_naming;
} GeneScoreOptions;

typedef struct {
    char *chrom;                // as written
    int64_t start, end;         // 0-based half-open [start, end)
} PeakCoord;

typedef struct {
    size_t n_peaks, n_genes;
    char **gene_names;          // (n_genes) unique, in order of first appearance in the annotation
    int64_t *peak_ptr;          // (n_peaks+1) genes of peak p: peak_gene[peak_ptr[p] .. peak_ptr[p+1])
    int32_t *peak_gene;         // (n_links) gene indices, ascending within a peak
    size_t n_peaks_used;        // peaks that overlap at least one gene region
    size_t n_genes_hit;         // genes whose region overlaps at least one peak
} GeneScorer;

// window 2000, all gene types, automatic chromosome naming.
GeneScoreOptions genescore_options_default(void);
// The options of a kida command: --window, --gene-types (FATAL on a negative window).
GeneScoreOptions genescore_options_from_config(const Config *c);

// Parses a peak name "chr1:100-200", "chr1-100-200" or "chr1_100_200" (the chromosome may itself
// contain '_' or '-', the two numbers are taken from the end). The numbers are read as a BED
// interval, 0-based start and exclusive end, as Cell Ranger ATAC names its peaks. Returns 1 and
// fills *p (p->chrom a new string) on success, 0 (p untouched) when name is not of that form or
// end <= start.
int genescore_parse_peak_name(const char *name, PeakCoord *p);
// Coordinates of n peaks from their names (var names of origin). FATAL naming origin, the var row
// and its value on the first name that does not parse; `hint` is the fix offered.
PeakCoord *genescore_peaks_from_names(char *const *names, size_t n, const char *origin, const char *hint);
// Coordinates of the n_vars var rows of counts_path from a BED file (chrom, start, end[, name];
// .gz ok; "#", "track", "browser" lines skipped). When the BED has a name column that holds every
// var name exactly once, rows are matched by name; otherwise the BED must have exactly n_vars
// lines, matched by order. FATAL on a malformed line (file:line and field) or when neither rule
// applies.
PeakCoord *genescore_peaks_from_bed(const char *bed_path, char *const *var_names, size_t n_vars,
                                    const char *counts_path);
void genescore_peaks_free(PeakCoord *p, size_t n);

// Builds the peak -> gene mapping. Keeps the genes whose type is in o->gene_types (compared
// ignoring case and '-' vs '_', so "protein_coding" matches NCBI's "protein-coding"); an
// annotation without types (BED) keeps all genes, with a warning when a filter was asked.
// Reconciles chromosome names (o->chrom_naming). Logs what it did. FATAL (naming both files) on a
// negative window, an empty gene set after the type filter, no chromosome shared with the peaks,
// or an ambiguous chromosome naming (different peaks need different conventions). Not collective.
GeneScorer genescore_build(const PeakCoord *peaks, size_t n_peaks, const GeneCoords *genes,
                           const GeneScoreOptions *o, const char *peaks_origin, const char *genes_path);
// Gene activity of a block of peak count rows (rows->n_cols == s->n_peaks): a CSR block
// (rows->n_rows, s->n_genes) with row_start copied, columns ascending, no explicit zeros; each
// value is a sum of input values (exact for integer counts below 2^24). Not collective.
Csr genescore_apply(const GeneScorer *s, const Csr *rows);
void genescore_free(GeneScorer *s);

// FATAL unless every value of rows is a whole number (raw counts): names origin, the global row,
// the peak (var_names[col]) and the value.
void genescore_require_integer(const Csr *rows, char *const *var_names, const char *origin);

// The gene table a --genes value names: "hg38" and "hg19" are the shipped tables
// (gene_annotation/hg{38,19}_genes.bed.gz); a path that does not exist as given is looked up in
// the shipped data folder too. Returns a new string; FATAL with the shipped choices when nothing
// is found or genes is empty.
char *genescore_genes_path(const char *genes);

// Everything for one peak count file: reads the gene table named by genes, takes peak
// coordinates from var_names or, when peaks_bed is not NULL, from that BED, and builds the
// scorer (n_peaks = n_vars). Not collective (every rank calls it and gets the same scorer).
GeneScorer genescore_for_file(const char *counts_path, char *const *var_names, size_t n_vars,
                              const char *peaks_bed, const char *genes, const GeneScoreOptions *o,
                              const char *names_hint);

// `kida genescore`: peaks x cells counts (.h5ad / 10x .h5) -> gene activity .h5ad with the
// input's obs (and obsm), var names = genes, X CSR float32 integer counts. Collective; every rank
// converts its block of cells and writes its rows of the output (atomically).
int cmd_genescore(const Config *c, const Dist *d);
#endif
