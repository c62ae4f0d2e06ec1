// pathmap: see pathmap.h.
#include "model/pathmap.h"

#include <string.h>

#include "core/log.h"

PathwayMap pathmap_build(size_t P, size_t G, const size_t *path_ptr, const int32_t *member_gene) {
    if (P == 0) FATAL("choose at least one pathway token", "pathway map: no tokens (got P = 0, want >= 1)");
    if (path_ptr[0] != 0)
        FATAL("path_ptr must start at 0", "pathway map: bad first offset (got %zu, want 0)", path_ptr[0]);
    PathwayMap m = {.P = P, .G = G, .M = path_ptr[P]};
    for (size_t j = 0; j < P; j++) {
        if (path_ptr[j + 1] <= path_ptr[j])
            FATAL("every pathway token needs at least one member gene among the model genes",
                  "pathway map: token %zu has no genes (got path_ptr[%zu] = %zu, path_ptr[%zu] = %zu)", j, j,
                  path_ptr[j], j + 1, path_ptr[j + 1]);
        for (size_t r = path_ptr[j]; r < path_ptr[j + 1]; r++) {
            int32_t g = member_gene[r];
            if (g < 0 || (size_t)g >= G)
                FATAL("member genes are indices into the model genes",
                      "pathway map: token %zu row %zu gene out of range (got %d, want 0..%zu)", j, r, (int)g,
                      G - 1);
            if (r > path_ptr[j] && g <= member_gene[r - 1])
                FATAL("list each gene once per token, in ascending order",
                      "pathway map: token %zu genes not strictly ascending at row %zu (got %d after %d)", j, r,
                      (int)g, (int)member_gene[r - 1]);
        }
    }
    size_t M = m.M;
#define MAP_WHAT "pathway map of %zu tokens, %zu genes, %zu memberships", P, G, M
    m.path_ptr = xcalloc_for(szadd(P, 1), sizeof(size_t), MAP_WHAT);
    memcpy(m.path_ptr, path_ptr, (P + 1) * sizeof(size_t));
    m.member_gene = xcalloc_for(M, sizeof(int32_t), MAP_WHAT);
    memcpy(m.member_gene, member_gene, M * sizeof(int32_t));
    m.row_token = xcalloc_for(M, sizeof(size_t), MAP_WHAT);
    for (size_t j = 0; j < P; j++)
        for (size_t r = path_ptr[j]; r < path_ptr[j + 1]; r++) m.row_token[r] = j;
    // inverse index by counting sort over genes; rows come out ascending within a gene
    m.gene_ptr = xcalloc_for(szadd(G, 1), sizeof(size_t), MAP_WHAT);
    for (size_t r = 0; r < M; r++) m.gene_ptr[(size_t)member_gene[r] + 1]++;
    for (size_t g = 0; g < G; g++) m.gene_ptr[g + 1] += m.gene_ptr[g];
    size_t *fill = xcalloc_for(G + 1, sizeof(size_t), MAP_WHAT);
    memcpy(fill, m.gene_ptr, (G + 1) * sizeof(size_t));
    m.gene_rows = xcalloc_for(M, sizeof(size_t), MAP_WHAT);
#undef MAP_WHAT
    for (size_t r = 0; r < M; r++) m.gene_rows[fill[member_gene[r]]++] = r;
    free(fill);
    return m;
}

void pathmap_free(PathwayMap *m) {
    free(m->path_ptr);
    free(m->member_gene);
    free(m->row_token);
    free(m->gene_ptr);
    free(m->gene_rows);
    memset(m, 0, sizeof *m);
}
