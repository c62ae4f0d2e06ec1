// pathmap: which genes feed which pathway token. Not parameters: the map fixes the layout of the
// embedding weights (one row of emb_w per gene-in-pathway membership, docs/model.md).
#ifndef KIDA_PATHMAP_H
#define KIDA_PATHMAP_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t P;              // pathway tokens
    size_t G;              // model genes
    size_t M;              // memberships, path_ptr[P]
    size_t *path_ptr;      // (P+1) token j owns membership rows path_ptr[j] .. path_ptr[j+1]-1
    int32_t *member_gene;  // (M) gene of each membership row, ascending within a token
    size_t *row_token;     // (M) token of each membership row
    size_t *gene_ptr;      // (G+1) gene g's rows are gene_rows[gene_ptr[g] .. gene_ptr[g+1]-1]
    size_t *gene_rows;     // (M) membership rows grouped by gene, ascending within a gene
} PathwayMap;

// Copies path_ptr and member_gene and builds row_token and the gene -> rows inverse index.
// FATAL on a gene out of [0, G), genes not strictly ascending within a token, a token with no
// genes, or path_ptr not starting at 0 / not non-decreasing.
PathwayMap pathmap_build(size_t P, size_t G, const size_t *path_ptr, const int32_t *member_gene);

// Frees the arrays and zeroes the struct.
void pathmap_free(PathwayMap *m);
#endif
