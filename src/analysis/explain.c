// explain: see explain.h. The statistics (ranks, rank-sum tests, BH, Q) need nothing but libm;
// the centralities need igraph (HAVE_IGRAPH) and are skipped, with a warning, without it.
#include "analysis/explain.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/log.h"
#include "core/ranked.h"

#ifdef HAVE_IGRAPH
#include <igraph.h>
#endif

const char *const EXPLAIN_METRIC_NAMES[EXPLAIN_N_METRICS] = {"degree", "betweenness", "eigenvector", "pagerank",
                                                             "closeness"};

ExplainOptions explain_options_default(void) {
    ExplainOptions o = {.group_key = "kida_label", .top_pathways = 10, .genes_per_pathway = 2, .key_genes = 5};
    return o;
}

// ---- ranks -----------------------------------------------------------------------------------

typedef struct {
    double v;
    size_t i;
} ValIdx;

static int cmp_validx(const void *a, const void *b) {
    const ValIdx *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

// Average 1-based ranks of v (n, no NaN) ascending; returns Σ (t³ − t) over tie groups.
static double rank_doubles(const double *v, size_t n, double *rank) {
    ValIdx *s = xmalloc((n ? n : 1) * sizeof(ValIdx));
    for (size_t i = 0; i < n; i++) s[i] = (ValIdx){v[i], i};
    qsort(s, n, sizeof(ValIdx), cmp_validx);
    double ties = 0.0;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && s[b].v == s[a].v) b++;
        double mean_rank = 0.5 * (double)(a + 1 + b);  // mean of a+1 .. b
        for (size_t k = a; k < b; k++) rank[s[k].i] = mean_rank;
        double t = (double)(b - a);
        ties += t * t * t - t;
        a = b;
    }
    free(s);
    return ties;
}

double explain_rank(const float *v, size_t n, double *rank) {
    double *d = xmalloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) d[i] = v[i];
    double ties = rank_doubles(d, n, rank);
    free(d);
    return ties;
}

// ---- rank-sum tests --------------------------------------------------------------------------

void explain_bh(double *padj, const double *p, size_t n) {
    ValIdx *s = xmalloc((n ? n : 1) * sizeof(ValIdx));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(p[i])) padj[i] = NAN;
        else s[m++] = (ValIdx){p[i], i};
    }
    qsort(s, m, sizeof(ValIdx), cmp_validx);
    double run = 1.0;  // running minimum from the largest p down
    for (size_t k = m; k-- > 0;) {
        double a = s[k].v * (double)m / (double)(k + 1);
        if (a < run) run = a;
        padj[s[k].i] = run;
    }
    free(s);
}

void explain_wilcoxon(ExplainTest *out, const float *x, size_t n, size_t P, const int32_t *group,
                      size_t n_groups) {
    size_t *incl = xmalloc((n ? n : 1) * sizeof(size_t));
    size_t *n_in = xcalloc(n_groups + 1, sizeof(size_t));
    size_t ni = 0;
    for (size_t i = 0; i < n; i++) {
        if (group[i] < 0) continue;
        if ((size_t)group[i] >= n_groups)
            FATAL("this is a bug in the caller of explain_wilcoxon", "cell %zu is in group %d (got %d, want < %zu)", i,
                  group[i], group[i], n_groups);
        incl[ni++] = i;
        n_in[group[i]]++;
    }
    double *v = xmalloc((ni ? ni : 1) * sizeof(double));     // (ni) one feature over the included cells
    double *rank = xmalloc((ni ? ni : 1) * sizeof(double));  // (ni)
    double *rsum = xmalloc((n_groups + 1) * sizeof(double)); // (n_groups) rank sum per group
    double *vsum = xmalloc((n_groups + 1) * sizeof(double)); // (n_groups) value sum per group
    double N = (double)ni;
    for (size_t p = 0; p < P; p++) {
        double total = 0.0;
        for (size_t k = 0; k < ni; k++) {
            v[k] = x[incl[k] * P + p];
            total += v[k];
        }
        double ties = rank_doubles(v, ni, rank);
        memset(rsum, 0, n_groups * sizeof(double));
        memset(vsum, 0, n_groups * sizeof(double));
        for (size_t k = 0; k < ni; k++) {
            size_t g = (size_t)group[incl[k]];
            rsum[g] += rank[k];
            vsum[g] += v[k];
        }
        double tie_corr = ni > 1 ? 1.0 - ties / (N * N * N - N) : 0.0;
        for (size_t g = 0; g < n_groups; g++) {
            ExplainTest *t = &out[g * P + p];
            double n1 = (double)n_in[g], n2 = N - n1;
            if (n_in[g] < 2 || ni - n_in[g] < 1) {
                *t = (ExplainTest){NAN, NAN, NAN, NAN, NAN, NAN, NAN};
                continue;
            }
            t->mean_in = vsum[g] / n1;
            t->mean_out = (total - vsum[g]) / n2;
            t->logfc = log2((t->mean_in + 1e-9) / (t->mean_out + 1e-9));
            double var = tie_corr * n1 * n2 * (N + 1.0) / 12.0;
            if (var <= 0.0) {  // every included value equal
                t->score = 0.0;
                t->pval = 1.0;
                t->auc = 0.5;
                continue;
            }
            t->score = (rsum[g] - n1 * (N + 1.0) / 2.0) / sqrt(var);
            t->pval = erfc(fabs(t->score) / sqrt(2.0));
            t->auc = (rsum[g] - n1 * (n1 + 1.0) / 2.0) / (n1 * n2);
        }
    }
    double *pv = xmalloc((P ? P : 1) * sizeof(double)), *pa = xmalloc((P ? P : 1) * sizeof(double));
    for (size_t g = 0; g < n_groups; g++) {
        for (size_t p = 0; p < P; p++) pv[p] = out[g * P + p].pval;
        explain_bh(pa, pv, P);
        for (size_t p = 0; p < P; p++) out[g * P + p].padj = pa[p];
    }
    free(pv); free(pa); free(v); free(rank); free(rsum); free(vsum); free(incl); free(n_in);
}

// ---- the Q statistic -------------------------------------------------------------------------

double explain_q_order(const double *r, size_t N) {
    if (N == 0) return 1.0;
    double *s = xmalloc(N * sizeof(double)), *V = xmalloc((N + 1) * sizeof(double));
    for (size_t i = 0; i < N; i++) {  // insertion sort, ascending (N is the metric count)
        double x = r[i];
        size_t j = i;
        for (; j > 0 && s[j - 1] > x; j--) s[j] = s[j - 1];
        s[j] = x;
    }
    V[0] = 1.0;
    for (size_t k = 1; k <= N; k++) {
        double rk = s[N - k], pw = 1.0, fact = 1.0, sum = 0.0;
        for (size_t i = 1; i <= k; i++) {
            pw *= rk;
            fact *= (double)i;
            sum += ((i & 1) ? 1.0 : -1.0) * V[k - i] * pw / fact;
        }
        V[k] = sum;
    }
    double q = V[N];
    for (size_t i = 2; i <= N; i++) q *= (double)i;
    free(s);
    free(V);
    if (q < 0.0) q = 0.0;  // rounding near 0
    if (q > 1.0) q = 1.0;
    return q;
}

void explain_q_statistic(double *q, const double *metric, size_t n, size_t nm) {
    double *col = xmalloc((n ? n : 1) * sizeof(double)), *rank = xmalloc((n ? n : 1) * sizeof(double));
    double *ratio = xmalloc((n ? n : 1) * (nm ? nm : 1) * sizeof(double));  // (n,nm)
    for (size_t k = 0; k < nm; k++) {
        for (size_t i = 0; i < n; i++) {  // rank from the top: ascending rank of −value
            double v = metric[i * nm + k];
            col[i] = isnan(v) ? INFINITY : -v;
        }
        rank_doubles(col, n, rank);
        for (size_t i = 0; i < n; i++) ratio[i * nm + k] = rank[i] / (double)n;
    }
    for (size_t i = 0; i < n; i++) q[i] = explain_q_order(&ratio[i * nm], nm);
    free(col);
    free(rank);
    free(ratio);
}

// ---- similarity graph ------------------------------------------------------------------------

static int cmp_edge(const void *a, const void *b) {
    const size_t *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

size_t explain_similarity_graph(const float *emb, size_t n, size_t C, size_t **edges, double **weight) {
    double *norm = xmalloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t c = 0; c < C; c++) s += (double)emb[i * C + c] * emb[i * C + c];
        norm[i] = sqrt(s);
    }
    size_t K = EXPLAIN_GRAPH_K;
    size_t *cand = xmalloc((n ? n : 1) * K * 2 * sizeof(size_t));  // (≤ nK, 2) directed picks as pairs
    size_t nc = 0;
    size_t best[EXPLAIN_GRAPH_K];
    double bsim[EXPLAIN_GRAPH_K];
    for (size_t i = 0; i < n; i++) {
        if (norm[i] == 0.0) continue;
        size_t nb = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == i || norm[j] == 0.0) continue;
            double dot = 0.0;
            for (size_t c = 0; c < C; c++) dot += (double)emb[i * C + c] * emb[j * C + c];
            double s = dot / (norm[i] * norm[j]);
            if (!(s > 0.0)) continue;
            if (nb == K && s <= bsim[K - 1]) continue;  // not better than the worst kept (ties: earlier j)
            size_t pos = nb < K ? nb++ : K - 1;
            while (pos > 0 && bsim[pos - 1] < s) {
                bsim[pos] = bsim[pos - 1];
                best[pos] = best[pos - 1];
                pos--;
            }
            bsim[pos] = s;
            best[pos] = j;
        }
        for (size_t k = 0; k < nb; k++) {
            cand[2 * nc] = i < best[k] ? i : best[k];
            cand[2 * nc + 1] = i < best[k] ? best[k] : i;
            nc++;
        }
    }
    qsort(cand, nc, 2 * sizeof(size_t), cmp_edge);
    size_t m = 0;
    for (size_t e = 0; e < nc; e++)
        if (m == 0 || cand[2 * e] != cand[2 * (m - 1)] || cand[2 * e + 1] != cand[2 * (m - 1) + 1]) {
            cand[2 * m] = cand[2 * e];
            cand[2 * m + 1] = cand[2 * e + 1];
            m++;
        }
    double *w = xmalloc((m ? m : 1) * sizeof(double));
    for (size_t e = 0; e < m; e++) {
        size_t i = cand[2 * e], j = cand[2 * e + 1];
        double dot = 0.0;
        for (size_t c = 0; c < C; c++) dot += (double)emb[i * C + c] * emb[j * C + c];
        w[e] = dot / (norm[i] * norm[j]);
    }
    free(norm);
    *edges = xrealloc(cand, (m ? m : 1) * 2 * sizeof(size_t));
    *weight = w;
    return m;
}

// ---- centralities (igraph) -------------------------------------------------------------------

#ifdef HAVE_IGRAPH
static void ig_check(igraph_error_t rc, const char *what) {
    if (rc != IGRAPH_SUCCESS)
        FATAL("this is an igraph failure on a valid graph; report it with the gene count", "%s failed: %s", what,
              igraph_strerror(rc));
}

int explain_centrality(double *metric, size_t n, const size_t *edges, const double *weight, size_t m) {
    for (size_t i = 0; i < n * EXPLAIN_N_METRICS; i++) metric[i] = 0.0;
    if (n == 0) return 1;
    if (m == 0) {  // no edge: nothing is central; PageRank is uniform
        for (size_t i = 0; i < n; i++) metric[i * EXPLAIN_N_METRICS + 3] = 1.0 / (double)n;
        return 1;
    }
    for (size_t e = 0; e < m; e++)
        if (!(weight[e] > 0.0) || edges[2 * e] >= n || edges[2 * e + 1] >= n)
            FATAL("this is a bug in the caller of explain_centrality", "edge %zu: %zu-%zu weight %g (want vertices < %zu, "
                  "weight > 0)", e, edges[2 * e], edges[2 * e + 1], weight[e], n);
    igraph_error_handler_t *old_err = igraph_set_error_handler(igraph_error_handler_ignore);
    igraph_warning_handler_t *old_warn = igraph_set_warning_handler(igraph_warning_handler_ignore);
    igraph_vector_int_t ev;
    ig_check(igraph_vector_int_init(&ev, (igraph_integer_t)(2 * m)), "igraph_vector_int_init");
    for (size_t e = 0; e < 2 * m; e++) VECTOR(ev)[e] = (igraph_integer_t)edges[e];
    igraph_t g;
    ig_check(igraph_create(&g, &ev, (igraph_integer_t)n, IGRAPH_UNDIRECTED), "igraph_create");
    igraph_vector_int_destroy(&ev);
    igraph_vector_t w, len, res;
    ig_check(igraph_vector_init(&w, (igraph_integer_t)m), "igraph_vector_init");
    ig_check(igraph_vector_init(&len, (igraph_integer_t)m), "igraph_vector_init");
    ig_check(igraph_vector_init(&res, (igraph_integer_t)n), "igraph_vector_init");
    for (size_t e = 0; e < m; e++) {
        VECTOR(w)[e] = weight[e];
        VECTOR(len)[e] = 1.0 / weight[e];  // similar genes are close
    }
    igraph_real_t value = 0.0;
    for (size_t k = 0; k < EXPLAIN_N_METRICS; k++) {
        switch (k) {
        case 0:
            ig_check(igraph_strength(&g, &res, igraph_vss_all(), IGRAPH_ALL, IGRAPH_NO_LOOPS, &w), "igraph_strength");
            break;
        case 1:
            ig_check(igraph_betweenness(&g, &res, igraph_vss_all(), IGRAPH_UNDIRECTED, &len), "igraph_betweenness");
            break;
        case 2:
            ig_check(igraph_eigenvector_centrality(&g, &res, &value, IGRAPH_UNDIRECTED, 1, &w, NULL),
                     "igraph_eigenvector_centrality");
            break;
        case 3:
            ig_check(igraph_pagerank(&g, IGRAPH_PAGERANK_ALGO_PRPACK, &res, &value, igraph_vss_all(), IGRAPH_UNDIRECTED,
                                     0.85, &w, NULL),
                     "igraph_pagerank");
            break;
        default:
            ig_check(igraph_closeness(&g, &res, NULL, NULL, igraph_vss_all(), IGRAPH_ALL, &len, 1), "igraph_closeness");
            break;
        }
        for (size_t i = 0; i < n; i++) {
            double v = VECTOR(res)[i];
            metric[i * EXPLAIN_N_METRICS + k] = isfinite(v) ? v : 0.0;  // isolated vertex: closeness NaN
        }
    }
    igraph_vector_destroy(&res);
    igraph_vector_destroy(&len);
    igraph_vector_destroy(&w);
    igraph_destroy(&g);
    igraph_set_warning_handler(old_warn);
    igraph_set_error_handler(old_err);
    return 1;
}
#else
int explain_centrality(double *metric, size_t n, const size_t *edges, const double *weight, size_t m) {
    return 0;
}
#endif

// ---- the analysis ----------------------------------------------------------------------------

typedef struct {
    double q;
    size_t gene, pos;
} NodeOrder;

static int cmp_node(const void *a, const void *b) {
    const NodeOrder *x = a, *y = b;
    if (x->q != y->q) return x->q < y->q ? -1 : 1;
    return (x->gene > y->gene) - (x->gene < y->gene);
}

// Builds the graph of n genes with embeddings emb (n,C), scores and ranks its nodes.
static void net_build(ExplainNet *net, const size_t *genes, const float *emb, size_t n, size_t C, size_t key_genes) {
    memset(net, 0, sizeof *net);
    net->n = n;
    size_t *edges = NULL;
    double *weight = NULL;
    net->m = explain_similarity_graph(emb, n, C, &edges, &weight);
    double *metric = xcalloc((n ? n : 1) * EXPLAIN_N_METRICS, sizeof(double));  // (n,5)
    double *q = xmalloc((n ? n : 1) * sizeof(double));
    net->have_metrics = explain_centrality(metric, n, edges, weight, net->m);
    if (net->have_metrics) explain_q_statistic(q, metric, n, EXPLAIN_N_METRICS);
    else
        for (size_t i = 0; i < n; i++) q[i] = NAN;
    NodeOrder *ord = xmalloc((n ? n : 1) * sizeof(NodeOrder));
    for (size_t i = 0; i < n; i++) ord[i] = (NodeOrder){net->have_metrics ? q[i] : 0.0, genes[i], i};
    qsort(ord, n, sizeof(NodeOrder), cmp_node);
    size_t *newpos = xmalloc((n ? n : 1) * sizeof(size_t));
    net->node = xcalloc(n ? n : 1, sizeof(ExplainNode));
    for (size_t r = 0; r < n; r++) {
        size_t i = ord[r].pos;
        newpos[i] = r;
        ExplainNode *nd = &net->node[r];
        nd->gene = genes[i];
        memcpy(nd->metric, &metric[i * EXPLAIN_N_METRICS], sizeof nd->metric);
        nd->q = q[i];
        nd->rank = r + 1;
        nd->key = net->have_metrics && r < key_genes;
    }
    for (size_t e = 0; e < net->m; e++) {
        size_t a = newpos[edges[2 * e]], b = newpos[edges[2 * e + 1]];
        edges[2 * e] = a < b ? a : b;
        edges[2 * e + 1] = a < b ? b : a;
    }
    net->edges = edges;
    net->weight = weight;
    free(metric); free(q); free(ord); free(newpos);
}

static void net_free(ExplainNet *net) {
    free(net->node);
    free(net->edges);
    free(net->weight);
    memset(net, 0, sizeof *net);
}


// Chooses the kept pathways of group g and their top genes, then builds both graphs.
static void explain_group(Explain *e, ExplainGroup *gr, size_t g, const ModelSpec *spec, const float *emb_w, size_t C,
                          const double *psum, const double *rownorm, const double *delta) {
    const Pathways *pw = &spec->pw;
    const ExplainOptions *o = &e->opt;
    size_t P = e->P, G = spec->prep.G, per = o->genes_per_pathway;
    Ranked *s = xmalloc(P * sizeof(Ranked));
    size_t ns = 0;
    for (size_t p = 0; p < P; p++)
        if (!isnan(e->test[g * P + p].score)) s[ns++] = (Ranked){e->test[g * P + p].score, p};
    ranked_sort_desc(s, ns);
    gr->n_top = ns < o->top_pathways ? ns : o->top_pathways;
    gr->top = xmalloc((gr->n_top ? gr->n_top : 1) * sizeof(size_t));
    gr->top_gene = xmalloc((gr->n_top * per + 1) * sizeof(size_t));
    gr->top_gene_p = xmalloc((gr->n_top * per + 1) * sizeof(double));
    for (size_t t = 0; t < gr->n_top; t++) gr->top[t] = s[t].i;
    free(s);

    // every membership row's score for this group: s_tj[g] = delta[t,g] ‖W_j[g]‖, else P_j[g]
    size_t M = pw->path_ptr[P];
    const double *dg = delta ? delta + g * G : NULL;
    double *score = xmalloc((M ? M : 1) * sizeof(double));
    for (size_t r = 0; r < M; r++) score[r] = dg ? dg[pw->member_gene[r]] * rownorm[r] : psum[r];

    // top genes of each kept pathway by score (rows ascend by gene, so a tie keeps the lower gene)
    size_t *node_of_gene = xmalloc(G * sizeof(size_t));  // (G) node position or SIZE_MAX
    for (size_t i = 0; i < G; i++) node_of_gene[i] = SIZE_MAX;
    size_t cap = gr->n_top * per + 1, n = 0;
    size_t *genes = xmalloc(cap * sizeof(size_t));
    float *emb = xcalloc(cap * C, sizeof(float));  // (n,C)
    for (size_t t = 0; t < gr->n_top; t++) {
        size_t j = gr->top[t], a = pw->path_ptr[j], b = pw->path_ptr[j + 1];
        for (size_t k = 0; k < per; k++) {
            size_t best = SIZE_MAX;
            for (size_t r = a; r < b; r++) {
                int taken = 0;
                for (size_t kk = 0; kk < k; kk++)
                    if (gr->top_gene[t * per + kk] == (size_t)pw->member_gene[r]) taken = 1;
                if (!taken && (best == SIZE_MAX || score[r] > score[best])) best = r;
            }
            gr->top_gene[t * per + k] = best == SIZE_MAX ? SIZE_MAX : (size_t)pw->member_gene[best];
            gr->top_gene_p[t * per + k] = best == SIZE_MAX ? NAN : score[best];
            if (best == SIZE_MAX) continue;
            size_t gene = (size_t)pw->member_gene[best];
            if (node_of_gene[gene] == SIZE_MAX) {
                node_of_gene[gene] = n;
                genes[n++] = gene;
            }
            float *dst = &emb[node_of_gene[gene] * C];
            for (size_t c = 0; c < C; c++) dst[c] += emb_w[best * C + c];
        }
    }
    net_build(&gr->net, genes, emb, n, C, o->key_genes);
    free(genes);
    free(emb);

    // all genes of the kept pathways, W summed over the kept pathways
    for (size_t i = 0; i < G; i++) node_of_gene[i] = SIZE_MAX;
    n = 0;
    for (size_t t = 0; t < gr->n_top; t++)
        for (size_t r = pw->path_ptr[gr->top[t]]; r < pw->path_ptr[gr->top[t] + 1]; r++)
            if (node_of_gene[pw->member_gene[r]] == SIZE_MAX) node_of_gene[pw->member_gene[r]] = n++;
    genes = xmalloc((n ? n : 1) * sizeof(size_t));
    emb = xcalloc((n ? n : 1) * C, sizeof(float));
    for (size_t t = 0; t < gr->n_top; t++)
        for (size_t r = pw->path_ptr[gr->top[t]]; r < pw->path_ptr[gr->top[t] + 1]; r++) {
            size_t i = node_of_gene[pw->member_gene[r]];
            genes[i] = (size_t)pw->member_gene[r];
            for (size_t c = 0; c < C; c++) emb[i * C + c] += emb_w[r * C + c];
        }
    net_build(&gr->all, genes, emb, n, C, o->key_genes);

    // contributions: every gene of the kept pathways, summed over the kept pathways holding it
    if (dg) {
        Ranked *cs = xcalloc(n ? n : 1, sizeof(Ranked));
        for (size_t i = 0; i < n; i++) cs[i].i = genes[i];
        for (size_t t = 0; t < gr->n_top; t++)
            for (size_t r = pw->path_ptr[gr->top[t]]; r < pw->path_ptr[gr->top[t] + 1]; r++)
                cs[node_of_gene[pw->member_gene[r]]].v += score[r];
        ranked_sort_desc(cs, n);  // ties: lower gene index first
        gr->n_contrib = n;
        gr->contrib_gene = xmalloc((n ? n : 1) * sizeof(size_t));
        gr->contrib = xmalloc((n ? n : 1) * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            gr->contrib_gene[i] = cs[i].i;
            gr->contrib[i] = cs[i].v;
            if (i < o->key_genes && cs[i].v > 0.0) gr->n_contrib_key = i + 1;
        }
        free(cs);
    }
    free(genes);
    free(emb);
    free(node_of_gene);
    free(score);
}

void explain_run(Explain *e, const ModelSpec *spec, const float *emb_w, size_t C, const float *attn, size_t n,
                 const int32_t *group, char *const *names, size_t n_groups, const double *delta,
                 const ExplainOptions *opt) {
    memset(e, 0, sizeof *e);
    e->opt = *opt;
    e->P = spec->pw.P;
    e->n_groups = n_groups;
    size_t P = e->P, M = spec->pw.path_ptr[P];
    e->test = xmalloc((n_groups * P + 1) * sizeof(ExplainTest));
    explain_wilcoxon(e->test, attn, n, P, group, n_groups);
    double *psum = xmalloc((M ? M : 1) * sizeof(double));     // (M) P_j value of every membership row
    double *rownorm = xmalloc((M ? M : 1) * sizeof(double));  // (M) ‖W_j[g]‖ of every membership row
    for (size_t r = 0; r < M; r++) {
        double s = 0.0, q = 0.0;
        for (size_t c = 0; c < C; c++) s += emb_w[r * C + c], q += (double)emb_w[r * C + c] * emb_w[r * C + c];
        psum[r] = s;
        rownorm[r] = sqrt(q);
    }
    e->group = xcalloc(n_groups ? n_groups : 1, sizeof(ExplainGroup));
    for (size_t i = 0; i < n; i++)
        if (group[i] >= 0) e->group[group[i]].n_cells++;
    size_t n_in_tests = 0;
    for (size_t i = 0; i < n; i++) n_in_tests += group[i] >= 0;
    for (size_t g = 0; g < n_groups; g++) {
        ExplainGroup *gr = &e->group[g];
        gr->name = xstrdup(names[g]);
        gr->tested = gr->n_cells >= 2 && n_in_tests - gr->n_cells >= 1;
        if (gr->tested) explain_group(e, gr, g, spec, emb_w, C, psum, rownorm, delta);
    }
    free(psum);
    free(rownorm);
}

void explain_free(Explain *e) {
    for (size_t g = 0; g < e->n_groups; g++) {
        ExplainGroup *gr = &e->group[g];
        free(gr->name);
        free(gr->top);
        free(gr->top_gene);
        free(gr->top_gene_p);
        free(gr->contrib_gene);
        free(gr->contrib);
        net_free(&gr->net);
        net_free(&gr->all);
    }
    free(e->group);
    free(e->test);
    memset(e, 0, sizeof *e);
}
