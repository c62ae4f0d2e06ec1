// test_explain: the statistics and graph scores behind kida explain, against values computed by
// hand or with scipy (quoted beside each number), and explain_run on a tiny synthetic model
// whose answer is known by construction.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/explain.h"
#include "config.h"
#include "core/log.h"

static int failures = 0;

static void check(int ok, const char *what) {
    if (!ok) {
        printf("FAIL: %s\n", what);
        failures++;
    }
}

static void near(double got, double want, double tol, const char *what) {
    int ok = fabs(got - want) <= tol * (1.0 + fabs(want));
    if (!ok) {
        printf("FAIL: %s: got %.10g, want %.10g\n", what, got, want);
        failures++;
    }
}

static void test_ranks(void) {
    // scipy.stats.rankdata([.1,.1,.2,.3,.3,.3,.5,.7,.7,.9]) = [1.5 1.5 3 5 5 5 7 8.5 8.5 10]
    float v[10] = {0.1f, 0.1f, 0.2f, 0.3f, 0.3f, 0.3f, 0.5f, 0.7f, 0.7f, 0.9f};
    double want[10] = {1.5, 1.5, 3, 5, 5, 5, 7, 8.5, 8.5, 10}, r[10];
    double ties = explain_rank(v, 10, r);
    for (int i = 0; i < 10; i++) near(r[i], want[i], 0, "average rank");
    near(ties, 6 + 24 + 6, 0, "tie sum (pairs 6, triple 24, pair 6)");
}

static void test_wilcoxon(void) {
    // no ties: group {1,2,3} vs {4,5,6}: scipy.stats.mannwhitneyu(asymptotic, no continuity)
    // p = 0.049534613435626706; z = (6 - 10.5) / sqrt(9*7/12) = -1.963961012123931
    float x1[6] = {1, 2, 3, 4, 5, 6};
    int32_t g1[6] = {0, 0, 0, 1, 1, 1};
    ExplainTest t[2];
    explain_wilcoxon(t, x1, 6, 1, g1, 2);
    near(t[0].score, -1.963961012123931, 1e-12, "z, no ties");
    near(t[0].pval, 0.049534613435626706, 1e-12, "p, no ties");
    near(t[0].auc, 0.0, 0, "AUC, no ties");
    near(t[1].score, 1.963961012123931, 1e-12, "z of the other group");
    near(t[0].mean_in, 2.0, 1e-12, "mean in");
    near(t[0].mean_out, 5.0, 1e-12, "mean out");
    near(t[0].logfc, log2((2.0 + 1e-9) / (5.0 + 1e-9)), 1e-12, "log2 fold change");

    // ties, three groups, column 0; column 1 is constant; an 11th cell with group -1 is left out.
    // scipy (tie-corrected z from rankdata; p from mannwhitneyu asymptotic, no continuity):
    //   group 0: z -0.8126360553720011 p 0.4164267531561586 AUC 0.3333333333333333
    //   group 1: z -0.4343722427630694 p 0.6640181508844256 AUC 0.4166666666666667
    //   group 2: z  1.2769995155845733 p 0.20160241828250858 AUC 0.7619047619047619
    float v[10] = {0.1f, 0.1f, 0.2f, 0.3f, 0.3f, 0.3f, 0.5f, 0.7f, 0.7f, 0.9f};
    int32_t g[11] = {0, 1, 0, 1, 1, 2, 2, 0, 1, 2, -1};
    float x[22];
    for (int i = 0; i < 10; i++) {
        x[2 * i] = v[i];
        x[2 * i + 1] = 0.25f;
    }
    x[20] = 100.0f;  // left-out cell: must change nothing
    x[21] = -3.0f;
    ExplainTest u[6];
    explain_wilcoxon(u, x, 11, 2, g, 3);
    double z[3] = {-0.8126360553720011, -0.4343722427630694, 1.2769995155845733};
    double p[3] = {0.4164267531561586, 0.6640181508844256, 0.20160241828250858};
    double auc[3] = {0.3333333333333333, 0.4166666666666667, 0.7619047619047619};
    for (int k = 0; k < 3; k++) {
        near(u[k * 2].score, z[k], 1e-12, "z with ties");
        near(u[k * 2].pval, p[k], 1e-12, "p with ties");
        near(u[k * 2].auc, auc[k], 1e-12, "AUC with ties");
        near(u[k * 2 + 1].score, 0.0, 0, "constant feature: z 0");
        near(u[k * 2 + 1].pval, 1.0, 0, "constant feature: p 1");
        // BH over the group's 2 features: padj = min(1, sorted p * 2 / rank), monotone
        double lo = fmin(p[k], 1.0), want = fmin(1.0, lo * 2.0);
        near(u[k * 2].padj, want, 1e-12, "BH of the tested feature");
        near(u[k * 2 + 1].padj, 1.0, 0, "BH of p = 1");
    }
    // a group of one cell is not tested
    int32_t g2[6] = {0, 1, 1, 1, 1, 1};
    explain_wilcoxon(t, x1, 6, 1, g2, 2);
    check(isnan(t[0].score) && isnan(t[0].pval), "one-cell group gives NaN");
    check(!isnan(t[1].score), "its complement is tested");
}

static void test_bh(void) {
    // by hand (statsmodels fdr_bh semantics): p = .01 .04 .03 .2 NaN .005 -> .025 .05 .05 .2 NaN .025
    double p[6] = {0.01, 0.04, 0.03, 0.2, NAN, 0.005}, want[6] = {0.025, 0.05, 0.05, 0.2, NAN, 0.025}, a[6];
    explain_bh(a, p, 6);
    for (int i = 0; i < 6; i++) {
        if (isnan(want[i])) check(isnan(a[i]), "BH keeps NaN");
        else near(a[i], want[i], 1e-12, "BH");
    }
}

static void test_q(void) {
    double r5[5] = {0.5, 0.5, 0.5, 0.5, 0.5};
    near(explain_q_order(r5, 5), 0.03125, 1e-12, "Q of five ratios 0.5 is 0.5^5");
    double r1[1] = {0.3};
    near(explain_q_order(r1, 1), 0.3, 1e-12, "Q of one ratio is the ratio");
    // N = 2: P(U(1) <= a, U(2) <= b) = 2ab - a^2 = 2*.2*.6 - .04 = .2 (order of r irrelevant)
    double r2[2] = {0.6, 0.2};
    near(explain_q_order(r2, 2), 0.2, 1e-12, "Q of two ratios");
    double ones[5] = {1, 1, 1, 1, 1};
    near(explain_q_order(ones, 5), 1.0, 1e-12, "Q of the last ranks is 1");
    // N = 3, r = (.1,.4,.7) in any order: the recursion written out by hand, V1 = c,
    // V2 = V1 b - b^2/2, V3 = V2 a - V1 a^2/2 + a^3/6, Q = 3! V3 (then checked by Monte Carlo)
    double a = 0.1, b = 0.4, c = 0.7;
    double v1 = c, v2 = v1 * b - b * b / 2, v3 = v2 * a - v1 * a * a / 2 + a * a * a / 6;
    double r3[3] = {0.4, 0.7, 0.1};
    near(explain_q_order(r3, 3), 6 * v3, 1e-12, "Q of three ratios");
    // Monte Carlo cross-check of the same probability (fixed LCG, 2e5 draws, 4 sigma)
    unsigned long long s = 12345;
    size_t hit = 0, draws = 200000;
    for (size_t t = 0; t < draws; t++) {
        double u[3];
        for (int k = 0; k < 3; k++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            u[k] = (double)(s >> 11) / 9007199254740992.0;
        }
        for (int i = 0; i < 3; i++)  // sort
            for (int j = i + 1; j < 3; j++)
                if (u[j] < u[i]) { double x = u[i]; u[i] = u[j]; u[j] = x; }
        hit += u[0] <= a && u[1] <= b && u[2] <= c;
    }
    double mc = (double)hit / (double)draws, q = explain_q_order(r3, 3);
    near(mc, q, 4 * sqrt(q * (1 - q) / (double)draws) / (1 + q), "Q against Monte Carlo");
    // three items x two metrics: item 0 best everywhere, item 2 worst
    double m[6] = {9, 5, 4, 3, 1, 0}, qq[3];
    explain_q_statistic(qq, m, 3, 2);
    near(qq[0], 1.0 / 9, 1e-12, "Q of the best item (1/3)^2");
    near(qq[1], 4.0 / 9, 1e-12, "Q of the middle item (2/3)^2");
    near(qq[2], 1.0, 1e-12, "Q of the worst item");
}

static void test_similarity_graph(void) {
    // cosines: ab .7071, ac 0, ad -1, bc .7071, bd -.7071, cd 0 -> edges a-b, b-c only
    float e[8] = {1, 0, 1, 1, 0, 1, -1, 0};
    size_t *edges;
    double *w;
    size_t m = explain_similarity_graph(e, 4, 2, &edges, &w);
    check(m == 2, "two positive pairs");
    if (m == 2) {
        check(edges[0] == 0 && edges[1] == 1 && edges[2] == 1 && edges[3] == 2, "edges a-b, b-c");
        near(w[0], sqrt(0.5), 1e-12, "weight a-b");
        near(w[1], sqrt(0.5), 1e-12, "weight b-c");
    }
    free(edges);
    free(w);
    // 15 nearly parallel vectors: each keeps its 10 most similar, union over both ends
    size_t n = 15;
    float f[30];
    for (size_t i = 0; i < n; i++) {
        f[2 * i] = 1.0f;
        f[2 * i + 1] = 0.05f * (float)i;
    }
    m = explain_similarity_graph(f, n, 2, &edges, &w);
    size_t deg[15] = {0};
    for (size_t k = 0; k < m; k++) {
        deg[edges[2 * k]]++;
        deg[edges[2 * k + 1]]++;
        check(edges[2 * k] < edges[2 * k + 1], "edges ordered i < j");
    }
    for (size_t i = 0; i < n; i++) check(deg[i] >= EXPLAIN_GRAPH_K, "every node keeps at least K neighbours");
    check(m <= n * EXPLAIN_GRAPH_K && m < n * (n - 1) / 2, "kNN rule prunes the complete graph");
    // node 0's 10 nearest are nodes 1..10, so 0-11 is an edge only if 11 picked 0: it did not
    int e011 = 0;
    for (size_t k = 0; k < m; k++) e011 |= edges[2 * k] == 0 && edges[2 * k + 1] == 11;
    check(!e011, "no edge 0-11");
    free(edges);
    free(w);
}

static void test_centrality(void) {
    double met[4 * EXPLAIN_N_METRICS];
    // star: centre 0, leaves 1..3, unit weights
    size_t star[6] = {0, 1, 0, 2, 0, 3};
    double w1[3] = {1, 1, 1};
    if (!explain_centrality(met, 4, star, w1, 3)) {
        printf("skip: no igraph in this build, centralities untested\n");
        return;
    }
    // strength 3 / 1; betweenness 3 (leaf pairs) / 0; eigenvector (sqrt3, 1, 1, 1) scaled: 1, 1/sqrt3;
    // PageRank d = .85: c = .0375 + 2.55 l, l = .0375 + .85 c / 3 -> c = .133125 / .2775;
    // closeness normalised: centre 3/3 = 1, leaf 3/(1+2+2) = .6
    double pc = 0.133125 / 0.2775, pl = (1 - pc) / 3;
    double want_c[5] = {3, 3, 1, pc, 1}, want_l[5] = {1, 0, 1 / sqrt(3.0), pl, 0.6};
    for (int k = 0; k < EXPLAIN_N_METRICS; k++) {
        near(met[k], want_c[k], 1e-6, EXPLAIN_METRIC_NAMES[k]);
        for (int i = 1; i < 4; i++) near(met[i * EXPLAIN_N_METRICS + k], want_l[k], 1e-6, EXPLAIN_METRIC_NAMES[k]);
    }
    // weighted path 0 -1- 1 -.5- 2 (lengths 1 and 2): strength 1, 1.5, .5; betweenness 0, 1, 0;
    // closeness 2/4, 2/3, 2/5; eigenvector of [[0,1,0],[1,0,.5],[0,.5,0]]: lambda sqrt(1.25),
    // (1/lambda, 1, .5/lambda)
    size_t path[4] = {0, 1, 1, 2};
    double w2[2] = {1, 0.5};
    explain_centrality(met, 3, path, w2, 2);
    double lam = sqrt(1.25);
    double want[3][4] = {{1, 0, 1 / lam, 0.5}, {1.5, 1, 1, 2.0 / 3}, {0.5, 0, 0.5 / lam, 0.4}};
    int col[4] = {0, 1, 2, 4};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++) near(met[i * EXPLAIN_N_METRICS + col[k]], want[i][k], 1e-6, EXPLAIN_METRIC_NAMES[col[k]]);
    double sum = met[3] + met[EXPLAIN_N_METRICS + 3] + met[2 * EXPLAIN_N_METRICS + 3];
    near(sum, 1.0, 1e-9, "PageRank sums to 1");
    check(met[EXPLAIN_N_METRICS + 3] > met[3] && met[3] > met[2 * EXPLAIN_N_METRICS + 3], "PageRank follows strength");
    // an isolated vertex: zeros, and no NaN anywhere
    explain_centrality(met, 4, path, w2, 2);
    for (int k = 0; k < EXPLAIN_N_METRICS; k++) check(isfinite(met[3 * EXPLAIN_N_METRICS + k]), "isolated vertex finite");
    near(met[3 * EXPLAIN_N_METRICS + 0], 0, 0, "isolated strength 0");
    near(met[3 * EXPLAIN_N_METRICS + 4], 0, 0, "isolated closeness 0");
}

// A model with 3 pathways over 6 genes, width 2, and 12 cells: group 0 (cells 0-5) attends
// pathway 1, group 1 (cells 6-11) pathway 2, pathway 0 alike in both.
// Pathway 1 = genes {1,2,3} with P_j (row sums) 0.5, 3, 2 -> top genes 2 then 3.
enum { TINY_N = 12 };
static char *tiny_genes[6] = {"G0", "G1", "G2", "G3", "G4", "G5"}, *tiny_names[3] = {"PW0", "PW1", "PW2"};
static size_t tiny_ptr[4] = {0, 2, 5, 8};
static int32_t tiny_member[8] = {0, 1, 1, 2, 3, 3, 4, 5};
static const float tiny_w[16] = {1, 0, 0, 1,                 // PW0: G0 (1), G1 (1)
                                 0.25f, 0.25f, 1, 2, 1, 1,   // PW1: G1 (.5), G2 (3), G3 (2)
                                 -1, 0, 2, 2, 0.5f, 0};      // PW2: G3 (-1), G4 (4), G5 (.5)

static void tiny_model(ModelSpec *spec, float attn[TINY_N * 3], int32_t grp[TINY_N]) {
    memset(spec, 0, sizeof *spec);
    spec->pw.P = 3;
    spec->pw.names = tiny_names;
    spec->pw.path_ptr = tiny_ptr;
    spec->pw.member_gene = tiny_member;
    spec->prep.G = 6;
    spec->prep.gene_names = tiny_genes;
    for (size_t i = 0; i < TINY_N; i++) {
        grp[i] = i < 6 ? 0 : 1;
        float jitter = 0.001f * (float)i;
        attn[i * 3 + 0] = 0.2f + 0.001f * (float)(i % 3);  // the same in both groups
        attn[i * 3 + 1] = grp[i] == 0 ? 0.6f - jitter : 0.1f + jitter;
        attn[i * 3 + 2] = grp[i] == 1 ? 0.7f - jitter : 0.2f - jitter;
    }
}

static void test_run(void) {
    ModelSpec spec;
    float attn[TINY_N * 3];
    int32_t grp[TINY_N];
    tiny_model(&spec, attn, grp);
    size_t n = TINY_N;
    const float *w = tiny_w;
    char *gnames[2] = {"A", "B"};
    ExplainOptions o = explain_options_default();
    o.top_pathways = 2;
    Explain e;
    explain_run(&e, &spec, w, 2, attn, n, grp, gnames, 2, NULL, &o);
    check(e.group[0].tested && e.group[1].tested, "both groups tested");
    check(e.group[0].n_top == 2 && e.group[0].top[0] == 1, "group A's top pathway is PW1");
    check(e.group[1].top[0] == 2, "group B's top pathway is PW2");
    check(e.group[0].top_gene[0] == 2 && e.group[0].top_gene[1] == 3, "PW1's top genes are G2 then G3");
    near(e.group[0].top_gene_p[0], 3.0, 1e-6, "P_j of G2");
    check(e.group[1].top_gene[0] == 4 && e.group[1].top_gene[1] == 5, "PW2's top genes are G4 then G5");
    near(e.test[1].auc, 1.0, 1e-12, "group A separates perfectly on PW1");
    // group A keeps PW1 and (second best) PW0 or PW2: its top2 graph has the distinct genes
    size_t want_nodes = 0;
    int seen[6] = {0};
    for (size_t t = 0; t < e.group[0].n_top; t++)
        for (size_t k = 0; k < 2; k++) {
            size_t gg = e.group[0].top_gene[t * 2 + k];
            if (gg != SIZE_MAX && !seen[gg]) { seen[gg] = 1; want_nodes++; }
        }
    check(e.group[0].net.n == want_nodes, "one node per distinct gene");
    size_t all_want = (e.group[0].top[1] == 0) ? 4 : 5;  // PW1 ∪ PW0 = {0,1,2,3}; PW1 ∪ PW2 = {1..5}
    check(e.group[0].all.n == all_want, "all-genes graph covers the kept pathways' genes");
    if (e.group[0].net.have_metrics) {
        size_t nkey = 0;
        for (size_t i = 0; i < e.group[0].net.n; i++) {
            nkey += e.group[0].net.node[i].key;
            check(e.group[0].net.node[i].rank == i + 1, "nodes sorted by rank");
            if (i) check(e.group[0].net.node[i].q >= e.group[0].net.node[i - 1].q, "Q ascending");
        }
        check(nkey == (want_nodes < 5 ? want_nodes : 5), "key genes are the 5 smallest Q");
    }
    explain_free(&e);
}

// The same model with the expression side: group A's genes differ from the rest's by delta.
// PW1's scores for A are delta · ‖W_j[g]‖ = G1 2·0.354, G2 0.1·2.236, G3 1·1.414: top genes G3,
// then G1 (P_j would give G2, G3). Contributions are checked against a sum over the kept pathways
// done here, key genes are the positive ones, largest first, at most 5.
static void test_run_delta(void) {
    ModelSpec spec;
    float attn[TINY_N * 3];
    int32_t grp[TINY_N];
    tiny_model(&spec, attn, grp);
    size_t n = TINY_N, *ptr = tiny_ptr;
    const int32_t *member = tiny_member;
    const float *w = tiny_w;
    double delta[12] = {-0.5, 2, 0.1, 1, 3, 0,    // group A minus the rest
                        0.5, -2, -0.1, -1, -3, 0};  // group B: the opposite
    char *gnames[2] = {"A", "B"};
    ExplainOptions o = explain_options_default();
    o.top_pathways = 2;
    Explain e;
    explain_run(&e, &spec, w, 2, attn, n, grp, gnames, 2, delta, &o);
    const ExplainGroup *a = &e.group[0];
    check(a->top[0] == 1, "delta: group A's top pathway is still PW1 (attention decides pathways)");
    check(a->top_gene[0] == 3 && a->top_gene[1] == 1, "delta: PW1's top genes for A are G3 then G1");
    near(a->top_gene_p[0], 1.0 * sqrt(2.0), 1e-6, "delta: G3's score in PW1 = 1 * |(1,1)|");
    double want[6] = {0};
    for (size_t t = 0; t < a->n_top; t++)
        for (size_t r = ptr[a->top[t]]; r < ptr[a->top[t] + 1]; r++)
            want[member[r]] += delta[member[r]] * sqrt((double)w[2 * r] * w[2 * r] + (double)w[2 * r + 1] * w[2 * r + 1]);
    size_t n_pos = 0;
    for (size_t i = 0; i < a->n_contrib; i++) {
        near(a->contrib[i], want[a->contrib_gene[i]], 1e-9, "delta: contribution = sum over the kept pathways");
        if (i) check(a->contrib[i] <= a->contrib[i - 1], "delta: contributions descend");
        n_pos += a->contrib[i] > 0.0;
    }
    check(a->n_contrib == a->all.n, "delta: every gene of the kept pathways has a contribution");
    check(a->n_contrib_key == (n_pos < 5 ? n_pos : 5), "delta: key genes = the positive contributions, at most 5");
    check(a->contrib_gene[0] == 1 || a->contrib_gene[0] == 4, "delta: G1 (PW0 kept) or G4 (PW2 kept) first");
    explain_free(&e);
}

int main(void) {
    test_ranks();
    test_wilcoxon();
    test_bh();
    test_q();
    test_similarity_graph();
    test_centrality();
    test_run();
    test_run_delta();
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok: explain statistics, graph scores and the synthetic run\n");
    return 0;
}
