// explain: why kida calls each cell type what it does (DESIGN.md step 10, docs/explain.md).
// Per cell type: the pathways whose cls attention sets the type apart (one-vs-rest Wilcoxon
// rank-sum test, as scanpy's rank_genes_groups "wilcoxon"), the top genes of those pathways'
// embedding weights W_j, a cosine-similarity graph of those gene embeddings, five centralities
// of it (igraph) combined by the order-statistics Q statistic into key genes; and the paper's
// all-genes variant (the top pathways' W summed into one gene-embedding matrix).
// Everything here runs on one process (rank 0): the inputs are per-cell summaries.
#ifndef KIDA_EXPLAIN_H
#define KIDA_EXPLAIN_H
#include <stddef.h>
#include <stdint.h>

#include "core/options.h"
#include "mpi/dist.h"
#include "train/modelfile.h"

// ---- statistics (no igraph needed) ---------------------------------------------------------

// One one-vs-rest test of one feature (a pathway's attention) for one group of cells.
typedef struct {
    double score;     // z of the rank sum of the group (scanpy's "scores"); sorts the pathways
    double pval;      // two-sided normal-approximation p, tie-corrected, no continuity correction
    double padj;      // Benjamini–Hochberg over all features of this group
    double auc;       // U / (n_in n_out): chance a group cell attends more than a rest cell
    double logfc;     // log2((mean_in + 1e-9) / (mean_out + 1e-9)) of the raw attention
    double mean_in, mean_out;
} ExplainTest;

// Average ranks (1-based, ties share their mean rank, as scipy.stats.rankdata) of v (n) into
// rank (n). Returns the tie sum Σ (t³ − t) over groups of t equal values.
double explain_rank(const float *v, size_t n, double *rank);

// One-vs-rest Wilcoxon rank-sum tests of every column of x (n,P) for every group, computed as
// scanpy's rank_genes_groups(method="wilcoxon", reference="rest"): ranks over all included
// cells, z = (R_in − n_in (n+1)/2) / sqrt(T n_in n_out (n+1) / 12) with the tie correction
// T = 1 − Σ(t³−t)/(n³−n), p = 2 Φ(−|z|). group (n): the cell's group in [0, n_groups), or
// negative to leave the cell out of every test (neither group nor rest). out (n_groups,P);
// groups with fewer than 2 cells, or with fewer than 1 cell outside, get NaN everywhere. A
// feature constant over the included cells gets score 0, p 1, AUC 0.5.
void explain_wilcoxon(ExplainTest *out, const float *x, size_t n, size_t P, const int32_t *group,
                      size_t n_groups);

// Benjamini–Hochberg adjusted p-values (statsmodels' multipletests "fdr_bh": step-up, made
// monotone, capped at 1) of p (n) into padj (n). NaN entries stay NaN and are not counted.
void explain_bh(double *padj, const double *p, size_t n);

// Stuart et al. (Science 2003) order-statistics Q of N rank ratios r (each in (0,1], any
// order): the probability that N independent uniform ratios, sorted, are all at most the
// sorted r, i.e. Q = N! V_N with V_0 = 1 and V_k = Σ_{i=1..k} (−1)^(i−1) V_(k−i) r_(N−k+1)^i / i!.
// Small Q = consistently near the top of every ranking. Q of N equal ratios a is a^N.
double explain_q_order(const double *r, size_t N);

// The Q statistic of each of n items scored by nm metrics (metric (n,nm), larger = better; NaN
// counts as the smallest): per metric the average rank from the top (1 = best) over n is the
// rank ratio, and q[i] = explain_q_order of item i's nm ratios.
void explain_q_statistic(double *q, const double *metric, size_t n, size_t nm);

// ---- gene similarity graphs ----------------------------------------------------------------

enum { EXPLAIN_N_METRICS = 5, EXPLAIN_GRAPH_K = 10 };
// "degree" (weighted: strength), "betweenness", "eigenvector", "pagerank", "closeness"
extern const char *const EXPLAIN_METRIC_NAMES[EXPLAIN_N_METRICS];

// The similarity graph of the rows of emb (n,C): an undirected edge i–j when the cosine
// similarity s_ij > 0 and j is among the EXPLAIN_GRAPH_K most similar rows of i or i among
// those of j (for n <= K+1 that is every positive pair). Weight = s_ij. Returns the edge count
// m and new arrays *edges (m,2) (i < j, sorted) and *weight (m). All-zero rows get no edge.
size_t explain_similarity_graph(const float *emb, size_t n, size_t C, size_t **edges, double **weight);

// Five centralities of an undirected weighted graph (n vertices, m edges (m,2), weights (m) > 0)
// into metric (n, EXPLAIN_N_METRICS), in EXPLAIN_METRIC_NAMES order, with igraph:
// strength (Σ weights); betweenness and closeness over path lengths 1/weight (closeness
// normalised, over the vertices each one reaches; 0 for an isolated vertex); eigenvector
// centrality with weights (largest = 1); PageRank with weights, damping 0.85 (sums to 1).
// Returns 1, or 0 when this build has no igraph (metric is then left untouched).
int explain_centrality(double *metric, size_t n, const size_t *edges, const double *weight, size_t m);

// ---- the analysis --------------------------------------------------------------------------

typedef struct {
    const char *group_key;     // obs column whose groups are explained ("kida_label")
    size_t top_pathways;       // pathways kept per group (10)
    size_t genes_per_pathway;  // genes taken from each kept pathway (2)
    size_t key_genes;          // genes with the smallest Q reported as key genes (5)
} ExplainOptions;

// Defaults: group_key "kida_label", 10 pathways, 2 genes per pathway, 5 key genes.
ExplainOptions explain_options_default(void);

// One node of a gene graph.
typedef struct {
    size_t gene;                            // model gene index
    double metric[EXPLAIN_N_METRICS];       // EXPLAIN_METRIC_NAMES order
    double q;                               // Q statistic (smaller = more central)
    size_t rank;                            // 1 = smallest Q
    int key;                                // 1 for the key_genes smallest Q
} ExplainNode;

// A gene graph: nodes sorted by rank, edges over node positions in that order.
typedef struct {
    size_t n, m;
    ExplainNode *node;                      // (n)
    size_t *edges;                          // (m,2)
    double *weight;                         // (m) cosine similarity
    int have_metrics;                       // 0 when built without igraph
} ExplainNet;

typedef struct {
    char *name;
    size_t n_cells;
    int tested;                             // 0: too few cells in or out of the group
    size_t n_top;                           // kept pathways (<= top_pathways)
    size_t *top;                            // (n_top) pathway ids, best first
    size_t *top_gene;                       // (n_top, genes_per_pathway) model genes, SIZE_MAX = none
    double *top_gene_p;                     // (n_top, genes_per_pathway) that gene's score in the pathway
    size_t n_contrib;                       // genes of the kept pathways with a contribution (0 without delta)
    size_t *contrib_gene;                   // (n_contrib) those genes, largest contribution first
    double *contrib;                        // (n_contrib) their contributions
    size_t n_contrib_key;                   // the first n_contrib_key are the key genes (<= key_genes, > 0)
    ExplainNet net;                         // top genes of the kept pathways
    ExplainNet all;                         // all genes of the kept pathways, W summed
} ExplainGroup;

typedef struct {
    ExplainOptions opt;
    size_t P, n_groups;
    ExplainTest *test;                      // (n_groups,P)
    ExplainGroup *group;                    // (n_groups)
} Explain;

// Runs the whole analysis. spec: the model's pathways and genes; emb_w (M,C): the embedding
// weights (memberships ordered as spec->pw); attn (n,P): each cell's cls → pathway attention;
// group (n): the cell's group in [0, n_groups) or negative (left out); names (n_groups);
// delta (n_groups, G): per group, the mean model input x̃_g of its cells minus that of the rest,
// or NULL.
// A gene's score in pathway j for group t is its share of how the group's token j differs from
// the rest's: s_tj[g] = delta[t,g] · ‖W_j[g]‖ (token j = Σ_g x̃_g W_j[g] + b_j); without delta,
// the paper's type-independent P_j[g] = Σ_c W_j[g,c]. A kept pathway contributes its
// genes_per_pathway best-scoring genes (ties: lower gene index); a gene taken from several kept
// pathways is one node whose embedding is the sum of its rows. The all-genes graph has one node
// per gene of any kept pathway with embedding Σ_{kept j containing g} W_j[g]. With delta, a
// gene's contribution is Σ_{kept j containing g} s_tj[g], and the key_genes largest positive
// contributions are the group's key genes by contribution.
void explain_run(Explain *e, const ModelSpec *spec, const float *emb_w, size_t C, const float *attn,
                 size_t n, const int32_t *group, char *const *names, size_t n_groups, const double *delta,
                 const ExplainOptions *opt);
void explain_free(Explain *e);

// `kida explain --model MODEL.h5 --pred OUT.h5ad [--out PREFIX]`: rank 0 reads the model
// (student weights when present, else teacher) and the annotated file, runs explain_run on the
// predicted labels and writes PREFIX.pathways.tsv, PREFIX.genes.tsv, PREFIX.edges.tsv,
// PREFIX.json and PREFIX.h5ad (a copy of the annotated file with uns["kida_explain"]).
int cmd_explain(const Config *c, const Dist *d);

// `kida report OUT.h5ad --out FOLDER` (src/cmd/report.c): runs validation/report.py on rank 0
// with python3 (or $KIDA_PYTHON); FATAL with an install hint when Python or its packages are
// missing.
int cmd_report(const Config *c, const Dist *d);
#endif
