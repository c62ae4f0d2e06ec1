// pathways: see pathways.h.
#include "prep/pathways.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/strmap.h"

PathwayOptions pathway_options_default(void) {
    return (PathwayOptions){.n_pathways = 300, .min_size = 5, .max_size = 500, .unannotated = 0, .markers = NULL,
                            .marker_p = 0.05};
}

static double log_choose(size_t a, size_t b) {
    return lgamma((double)a + 1) - lgamma((double)b + 1) - lgamma((double)(a - b) + 1);
}

double hypergeom_log_sf(size_t k, size_t N, size_t K, size_t n) {
    if (K > N || n > N) FATAL("a bug in kida", "hypergeom_log_sf: K %zu or n %zu above N %zu", K, n, N);
    size_t lo = n + K > N ? n + K - N : 0, hi = n < K ? n : K;
    if (k <= lo) return 0;
    if (k > hi) return -INFINITY;
    double base = log_choose(N, n), mx = -INFINITY;
    size_t nt = hi - k + 1;
    double *t = xcalloc_for(nt, sizeof *t, "gene set p-value: %zu terms", nt);
    for (size_t i = k; i <= hi; i++) {
        t[i - k] = log_choose(K, i) + log_choose(N - K, n - i) - base;
        if (t[i - k] > mx) mx = t[i - k];
    }
    double s = 0;
    for (size_t i = 0; i < nt; i++) s += exp(t[i] - mx);
    free(t);
    double r = mx + log(s);
    return r > 0 ? 0 : r;
}

typedef struct {
    size_t set;        // index into gs->sets
    size_t k;          // member genes among the model genes
    double logp;
    const char *name;
} PwCand;

static int pw_cmp(const void *a, const void *b) {
    const PwCand *x = a, *y = b;
    if (x->logp < y->logp) return -1;
    if (x->logp > y->logp) return 1;
    return strcmp(x->name, y->name);
}

typedef struct {
    double logp;
    size_t c;  // candidate index (candidates are in overall rank order, so ties keep it)
} TypeRank;

static int tr_cmp(const void *a, const void *b) {
    const TypeRank *x = a, *y = b;
    if (x->logp != y->logp) return x->logp < y->logp ? -1 : 1;
    return (x->c > y->c) - (x->c < y->c);
}

// Puts the candidates chosen for the reference's types (round-robin over the types, each type's
// best remaining set by marker enrichment, p < marker_p, at least 2 markers in the set) first in
// cand, in the order taken, followed by the others in their overall order. Returns how many were
// taken for the types.
static size_t order_by_markers(PwCand *cand, size_t nc, size_t want, const GeneSets *gs, const StrMap *model,
                               const Markers *mk, double marker_p) {
    size_t K = mk->K, G = mk->G, N = model->n;
#define ORDER_WHAT "pathways by markers: %zu types x %zu genes, %zu candidate sets", K, G, nc
    size_t kg = szmul_for(K, G, ORDER_WHAT), knc = szmul_for(K, nc, ORDER_WHAT);
    uint8_t *is_marker = xcalloc_for(kg ? kg : 1, 1, ORDER_WHAT);
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < mk->count[k]; j++) is_marker[k * G + (size_t)mk->gene[k * mk->n + j]] = 1;
    TypeRank *rank = xcalloc_for(knc ? knc : 1, sizeof *rank, ORDER_WHAT);
    size_t *n_rank = xcalloc_for(K ? K : 1, sizeof(size_t), ORDER_WHAT), *hits = xcalloc_for(K ? K : 1, sizeof(size_t), ORDER_WHAT);
    double cut = log(marker_p);
    for (size_t c = 0; c < nc; c++) {
        const GeneSet *s = &gs->sets[cand[c].set];
        memset(hits, 0, K * sizeof(size_t));
        for (size_t j = 0; j < s->n_genes; j++) {
            int64_t g = strmap_get(model, s->genes[j], -1);
            if (g >= 0)
                for (size_t k = 0; k < K; k++) hits[k] += is_marker[k * G + (size_t)g];
        }
        for (size_t k = 0; k < K; k++) {
            if (hits[k] < 2) continue;
            double lp = hypergeom_log_sf(hits[k], N, mk->count[k], cand[c].k);
            if (lp < cut) rank[k * nc + n_rank[k]++] = (TypeRank){lp, c};
        }
    }
    uint8_t *taken = xcalloc_for(nc ? nc : 1, 1, ORDER_WHAT);
    size_t *next = xcalloc_for(K ? K : 1, sizeof(size_t), ORDER_WHAT), n_taken = 0;
    PwCand *out = xcalloc_for(nc ? nc : 1, sizeof *out, ORDER_WHAT);
#undef ORDER_WHAT
    for (size_t k = 0; k < K; k++) qsort(rank + k * nc, n_rank[k], sizeof *rank, tr_cmp);
    for (int progress = 1; progress && n_taken < want;) {
        progress = 0;
        for (size_t k = 0; k < K && n_taken < want; k++) {
            while (next[k] < n_rank[k] && taken[rank[k * nc + next[k]].c]) next[k]++;
            if (next[k] == n_rank[k]) continue;
            size_t c = rank[k * nc + next[k]++].c;
            taken[c] = 1;
            out[n_taken++] = cand[c];
            progress = 1;
        }
    }
    size_t n_typed = n_taken;
    for (size_t c = 0; c < nc; c++)
        if (!taken[c]) out[n_taken++] = cand[c];
    memcpy(cand, out, nc * sizeof *cand);
    free(out); free(next); free(taken); free(hits); free(n_rank); free(rank); free(is_marker);
    return n_typed;
}

static int i32_cmp(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

Pathways pathways_select(const GeneSets *gs, char *const *model_genes, size_t G, const PathwayOptions *opt) {
    if (G == 0) FATAL("a bug in kida", "pathways_select: no model genes");
    if (opt->n_pathways == 0) FATAL("set --n-pathways >= 1", "no pathway tokens asked for (got --n-pathways 0)");
    // model gene index by name (a repeated name keeps its first gene), and the universe
    StrMap model = strmap_new(G), universe = strmap_new(G + 4 * gs->n_sets);
    for (size_t g = 0; g < G; g++) {
        strmap_put(&model, model_genes[g], (int64_t)g, NULL);
        strmap_put(&universe, model_genes[g], 0, NULL);
    }
    size_t K = model.n;
    for (size_t i = 0; i < gs->n_sets; i++)
        for (size_t j = 0; j < gs->sets[i].n_genes; j++) strmap_put(&universe, gs->sets[i].genes[j], 0, NULL);
    size_t N = universe.n;
    strmap_free(&universe);

    PwCand *cand = xcalloc_for(gs->n_sets ? gs->n_sets : 1, sizeof *cand, "pathways: %zu gene sets", gs->n_sets);
    size_t nc = 0, n_small = 0, n_large = 0;
    for (size_t i = 0; i < gs->n_sets; i++) {
        const GeneSet *s = &gs->sets[i];
        size_t k = 0;
        for (size_t j = 0; j < s->n_genes; j++) k += strmap_get(&model, s->genes[j], -1) >= 0;
        if (s->n_genes > opt->max_size) { n_large++; continue; }
        if (k < opt->min_size) { n_small++; continue; }
        cand[nc++] = (PwCand){.set = i, .k = k, .logp = hypergeom_log_sf(k, N, K, s->n_genes), .name = s->name};
    }
    if (nc == 0)
        FATAL("lower --min-set-size, raise --max-set-size, or give a GMT whose gene names match the reference's "
              "(symbols vs Ensembl IDs, species)",
              "no gene set passes the size filter: %zu sets read, %zu have < %zu model genes, %zu have > %zu genes "
              "(got 0 sets, want >= 1)", gs->n_sets, n_small, opt->min_size, n_large, opt->max_size);
    qsort(cand, nc, sizeof *cand, pw_cmp);
    size_t chosen = nc < opt->n_pathways ? nc : opt->n_pathways;
    size_t n_typed = opt->markers ? order_by_markers(cand, nc, chosen, gs, &model, opt->markers, opt->marker_p) : 0;
    if (chosen < opt->n_pathways)
        log_warn("only %zu gene sets pass the size filter; using all of them (asked for %zu pathways)", nc, opt->n_pathways);

    // membership of the chosen sets; which model genes they cover
    unsigned char *covered = xcalloc_for(G, 1, "pathways: coverage of %zu model genes", G);
    size_t M = 0;
    for (size_t c = 0; c < chosen; c++) M = szadd_for(M, cand[c].k, "pathways: memberships of %zu sets", chosen);
    size_t n_uncov = 0;
    for (size_t c = 0; c < chosen; c++) {
        const GeneSet *s = &gs->sets[cand[c].set];
        for (size_t j = 0; j < s->n_genes; j++) {
            int64_t g = strmap_get(&model, s->genes[j], -1);
            if (g >= 0) covered[g] = 1;
        }
    }
    for (size_t g = 0; g < G; g++) n_uncov += !covered[g];
    int extra = opt->unannotated && n_uncov > 0;
    if (opt->unannotated && n_uncov == 0)
        log_warn("--unannotated: every model gene is in a chosen pathway; no UNANNOTATED token added");

    Pathways p = {.P = chosen + (size_t)extra};
#define PW_WHAT "pathways: %zu tokens, %zu memberships", p.P, M
    p.names = xcalloc_for(p.P, sizeof *p.names, PW_WHAT);
    p.path_ptr = xcalloc_for(szadd(p.P, 1), sizeof *p.path_ptr, PW_WHAT);
    p.member_gene = xcalloc_for(szadd(szadd(M, extra ? n_uncov : 0), 1), sizeof *p.member_gene, PW_WHAT);
    p.pvalue = xcalloc_for(p.P, sizeof *p.pvalue, PW_WHAT);
    p.set_size = xcalloc_for(p.P, sizeof *p.set_size, PW_WHAT);
#undef PW_WHAT
    size_t m = 0;
    p.path_ptr[0] = 0;
    for (size_t c = 0; c < chosen; c++) {
        const GeneSet *s = &gs->sets[cand[c].set];
        size_t first = m;
        for (size_t j = 0; j < s->n_genes; j++) {
            int64_t g = strmap_get(&model, s->genes[j], -1);
            if (g >= 0) p.member_gene[m++] = (int32_t)g;
        }
        qsort(p.member_gene + first, m - first, sizeof *p.member_gene, i32_cmp);
        p.names[c] = xstrdup(s->name);
        p.pvalue[c] = exp(cand[c].logp);
        p.set_size[c] = s->n_genes;
        p.path_ptr[c + 1] = m;
    }
    if (extra) {
        for (size_t g = 0; g < G; g++)
            if (!covered[g]) p.member_gene[m++] = (int32_t)g;
        p.names[chosen] = xstrdup("UNANNOTATED");
        p.pvalue[chosen] = 1;
        p.set_size[chosen] = n_uncov;
        p.path_ptr[chosen + 1] = m;
    }
    log_info("pathways: %zu gene sets read, %zu kept after the size filter (>= %zu model genes, <= %zu genes), "
             "%zu chosen%s; model genes covered %zu/%zu, uncovered %zu (universe %zu genes)",
             gs->n_sets, nc, opt->min_size, opt->max_size, chosen, extra ? " + UNANNOTATED" : "", G - n_uncov, G,
             n_uncov, N);
    if (opt->markers)
        log_info("pathways: %zu chosen for the reference's %zu types by their markers (round-robin), %zu by enrichment "
                 "in the model genes; first '%s'", n_typed, opt->markers->K, chosen - n_typed, p.names[0]);
    else
        log_info("pathways: most enriched '%s' (p = %.3g), last chosen '%s' (p = %.3g)", p.names[0], p.pvalue[0],
                 p.names[chosen - 1], p.pvalue[chosen - 1]);
    free(covered);
    free(cand);
    strmap_free(&model);
    return p;
}

void pathways_free(Pathways *p) {
    for (size_t j = 0; j < p->P && p->names; j++) free(p->names[j]);
    free(p->names);
    free(p->path_ptr);
    free(p->member_gene);
    free(p->pvalue);
    free(p->set_size);
    memset(p, 0, sizeof *p);
}
