// test_pathways: the hypergeometric tail against scipy, and pathway selection: size filters,
// ranking by p with ties broken by name, ascending membership, the UNANNOTATED token, FATAL when
// nothing passes. Exit 0 pass, 1 fail.
#include "prep/pathways.h"
#include "tests/prep/prep_testutil.h"

static char *model[10] = {"M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9"};

static void select_none(void *arg) {
    PathwayOptions o = pathway_options_default();
    o.min_size = 50;
    Pathways p = pathways_select(arg, model, 10, &o);
    pathways_free(&p);
}

int main(void) {
    t_mkdir();
    // P(X >= k), X ~ Hypergeom(N, K, n). Expected values from scipy 1.17.1:
    //   scipy.stats.hypergeom.sf(k - 1, N, K, n) and .logsf(k - 1, N, K, n)
    struct { size_t k, N, K, n; double p, logp; } hg[] = {
        {6, 30, 10, 10, 0.03870861771911247, -3.2516930236555033},
        {5, 30, 10, 10, 0.16874709498397653, -1.7793541642874442},
        {50, 20000, 3000, 200, 0.00014005200034130854, -8.873496773330412},
        {120, 20000, 3000, 200, 1.1429351884871942e-48, -110.39048478349366},
        {3, 100, 10, 5, 0.00663791289711761, -5.014957687626785},
        {1, 100, 10, 5, 0.4162476330738481, -0.8764749240127239},
        {5, 25, 10, 20, 1.0, 0.0},   // k at the bottom of the support: P = 1
    };
    for (size_t i = 0; i < sizeof hg / sizeof hg[0]; i++) {
        double lp = hypergeom_log_sf(hg[i].k, hg[i].N, hg[i].K, hg[i].n);
        CHECK(t_close(exp(lp), hg[i].p, 1e-9, 0) && t_close(lp, hg[i].logp, 1e-9, 1e-12),
              "hypergeom sf k=%zu N=%zu K=%zu n=%zu: got %.12g (log %.12g), scipy %.12g", hg[i].k, hg[i].N, hg[i].K,
              hg[i].n, exp(lp), lp, hg[i].p);
    }
    CHECK(hypergeom_log_sf(11, 30, 10, 10) == -INFINITY, "k above the support: log p = -inf");

    // Universe: M0..M9 (the model, K = 10) and X1..X20 -> N = 30.
    t_write("t.gmt",
            "A_S1\td\tX1\tM5\tM0\tX2\tM3\tM1\tX3\tM4\tM2\tX4\n"                  // n 10, k 6: p .0387
            "C_S2\td\tM0\tM1\tM2\tM3\tM4\tX5\tX6\tX7\tX8\tX9\n"                  // n 10, k 5: p .1687
            "B_S3\td\tM9\tM8\tM7\tM6\tM5\tX10\tX11\tX12\tX13\tX14\n"             // same p as C_S2
            "SMALL\td\tM0\tM1\tM2\tX20\n"                                        // k 3 < min_size 5
            "BIG\td\tM0\tM1\tM2\tM3\tM4\tM5\tM6\tM7\tM8\tM9\tX1\tX2\tX3\tX4\tX5\tX6\tX7\tX8\tX9\tX10"
            "\tX11\tX12\tX13\tX14\tX15\tX16\tX17\tX18\tX19\n");                  // n 29 > max_size 25
    char *paths[1] = {(char *)t_path("t.gmt")};
    GeneSets gs = gmt_read(paths, 1);
    PathwayOptions o = pathway_options_default();
    CHECK(o.n_pathways == 300 && o.min_size == 5 && o.max_size == 500 && !o.unannotated, "defaults 300, 5..500");
    o.max_size = 25;
    o.n_pathways = 2;
    o.unannotated = 1;
    Pathways p = pathways_select(&gs, model, 10, &o);
    CHECK(p.P == 2, "two chosen, every model gene covered: no UNANNOTATED token (P = %zu)", p.P);
    if (p.P == 2) {
        CHECK(!strcmp(p.names[0], "A_S1") && !strcmp(p.names[1], "B_S3"), "rank: A_S1, then B_S3 (ties with C_S2, by name)");
        CHECK(t_close(p.pvalue[0], 0.03870861771911247, 1e-9, 0) && t_close(p.pvalue[1], 0.16874709498397653, 1e-9, 0),
              "p values %.10g %.10g", p.pvalue[0], p.pvalue[1]);
        CHECK(p.path_ptr[0] == 0 && p.path_ptr[1] == 6 && p.path_ptr[2] == 11, "path_ptr 0 6 11");
        int asc = 1;
        for (size_t i = 0; i < 6; i++) asc &= p.member_gene[i] == (int32_t)i;
        for (size_t i = 0; i < 5; i++) asc &= p.member_gene[6 + i] == (int32_t)(5 + i);
        CHECK(asc, "members ascending: A_S1 = 0..5, B_S3 = 5..9");
        CHECK(p.set_size[0] == 10 && p.set_size[1] == 10, "set sizes 10 10");
    }
    pathways_free(&p);
    o.n_pathways = 1;
    p = pathways_select(&gs, model, 10, &o);
    CHECK(p.P == 2 && !strcmp(p.names[1], "UNANNOTATED") && p.path_ptr[2] - p.path_ptr[1] == 4 &&
              p.member_gene[6] == 6 && p.member_gene[9] == 9 && p.pvalue[1] == 1 && p.set_size[1] == 4,
          "one chosen + UNANNOTATED over M6..M9");
    pathways_free(&p);
    o.unannotated = 0;
    o.n_pathways = 300;   // more than pass: all 3 kept
    p = pathways_select(&gs, model, 10, &o);
    CHECK(p.P == 3 && !strcmp(p.names[2], "C_S2"), "n_pathways above the candidates: all 3 kept");
    pathways_free(&p);
    o.max_size = 500;     // BIG passes now: n 29, k 10 -> P(X >= 10) = 1 - 10/30 (the one gene left out is
                          // not a model gene); scipy hypergeom.sf(9, 30, 10, 29) = 0.6666666666666667
    p = pathways_select(&gs, model, 10, &o);
    CHECK(p.P == 4 && !strcmp(p.names[3], "BIG") && t_close(p.pvalue[3], 0.6666666666666667, 1e-9, 0),
          "BIG passes with max_size 500 and ranks last (p = %.12g, want 2/3)", p.P == 4 ? p.pvalue[3] : -1);
    pathways_free(&p);
    t_expect_fatal("no set passes the filter", select_none, &gs,
                   (const char *const[]){"no gene set passes", "--min-set-size", NULL});
    gmt_free(&gs);
    t_cleanup();
    printf("%s\n", t_fail ? "FAIL" : "PASS");
    return t_fail;
}
