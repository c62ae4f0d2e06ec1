// pathways: chooses the knowledge tokens (the gene sets the model attends over) by a
// hypergeometric over-representation test of the model genes in each set.
#ifndef KIDA_PATHWAYS_H
#define KIDA_PATHWAYS_H
#include <stddef.h>
#include <stdint.h>

#include "io/gmt.h"
#include "prep/markers.h"

typedef struct {
    size_t n_pathways;   // sets to keep (300)
    size_t min_size;     // least member genes among the model genes (5)
    size_t max_size;     // largest full set size in the GMT (500)
    int unannotated;     // 1: add a token over the model genes in no chosen set (0)
    const Markers *markers;  // non-NULL: choose sets for the reference's types first (below)
    double marker_p;     // a set counts for a type when its marker enrichment p is below this
} PathwayOptions;

typedef struct {
    size_t P;            // tokens (chosen sets + 1 if unannotated)
    char **names;        // (P) set names; the unannotated token is named "UNANNOTATED"
    size_t *path_ptr;    // (P+1) membership rows of token j: path_ptr[j]..path_ptr[j+1]-1
    int32_t *member_gene;// (M) model gene of each membership row, ascending within a token
    double *pvalue;      // (P) hypergeometric over-representation p (1 for unannotated)
    size_t *set_size;    // (P) full size of the set in the GMT (unannotated: its member count)
} Pathways;

// Default options: 300 pathways, sizes 5..500, no unannotated token.
PathwayOptions pathway_options_default(void);

// Keeps the sets with >= min_size member genes among the model genes and full size <= max_size,
// ranks them by the hypergeometric upper tail P(X >= k) (k model genes among the set's n genes;
// universe N = genes in the GMT ∪ model genes, of which K are model genes), ascending p, ties
// broken by name (byte order), and keeps the first n_pathways, in that rank order. Model gene
// names are matched exactly. Logs a summary (sets read, kept after the size filter, chosen,
// model genes covered / uncovered). FATAL when no set passes the filter (the hint names the
// options). With unannotated = 1 the last token is "UNANNOTATED" over the model genes in no
// chosen set; when every model gene is covered it is left out (warned), since a token needs at
// least one gene (pathmap_build), so check names[P-1]. Every token has at least one gene.
// With markers: for every type, the sets are ranked by the hypergeometric enrichment of the
// type's markers among the set's model genes (universe: the model genes); the sets are then taken
// round-robin over the types, each type's next best set not yet chosen with p < marker_p, until
// n_pathways are chosen or no type has one left; the rest is filled in the order above. So every
// type gets its best-matching gene sets whatever the types' sizes.
Pathways pathways_select(const GeneSets *gs, char *const *model_genes, size_t G, const PathwayOptions *opt);

// Frees every array of p and zeroes it.
void pathways_free(Pathways *p);

// log P(X >= k) for X ~ Hypergeometric(population N, K successes, n draws), computed with
// lgamma and a log-sum-exp over the tail; 0 when k <= max(0, n+K-N). Exposed for tests.
double hypergeom_log_sf(size_t k, size_t N, size_t K, size_t n);
#endif
