// test_preprocess: scanpy-equivalent preprocessing on small hand-made matrices.
//  - HVG rule on crafted moments (worked by hand): single-gene bins give 1, ties at the cutoff are
//    all kept, a one-bin case (all means equal) gives (d - mean)/std = -1, 0, 1.
//  - prep_fit / prep_transform on a 30 x 40 count matrix built by a formula, against scanpy 1.11.5
//    (the script that printed the expected numbers is at the end of this file).
//  - Rank independence: the same rows split into blocks (one of them empty) give bit-identical
//    statistics (the sums are exact).
//  - FATAL on NaN / negative counts naming the row.
// Exit 0 pass, 1 fail.
#include "core/log.h"
#include "prep/preprocess.h"
#include "tests/prep/prep_testutil.h"

enum { N = 30, P = 40 };

static float count_at(int i, int j) {
    int h = (i * 131 + j * 71 + (i * j) % 17) % 23;
    int v = h < 12 ? 0 : (h - 11) * (j % 5 == 0 ? 4 : 1);
    if (j < 4) v = i % 3 == 0 ? 20 + j : ((i + j) % 4 == 0 ? 1 : 0);
    if (j == 7) v = 0;
    return (float)v;
}

// Rows [r0, r1) of the formula matrix as a CSR block.
static Csr block(int r0, int r1) {
    size_t nnz = 0;
    for (int i = r0; i < r1; i++)
        for (int j = 0; j < P; j++) nnz += count_at(i, j) != 0;
    Csr m = csr_alloc((size_t)(r1 - r0), P, nnz);
    m.row_start = (size_t)r0;
    size_t o = 0;
    for (int i = r0; i < r1; i++) {
        for (int j = 0; j < P; j++)
            if (count_at(i, j) != 0) { m.indices[o] = j; m.data[o++] = count_at(i, j); }
        m.indptr[i - r0 + 1] = (int64_t)o;
    }
    return m;
}

static Dist g_solo = {.rank = 0, .size = 1};   // a single process: no collective is called
static char *g_names[P];

static void fit_bad(void *arg) {
    Csr m = block(0, 5);
    m.row_start = 100;
    m.data[3] = *(float *)arg;   // in row 0 of the block: global row 100
    PrepOptions o = prep_options_default();
    PrepStats s = prep_fit(&m, g_names, &o, &g_solo);
    prep_stats_free(&s);
}

static void transform_bad(void *arg) {
    PrepStats s = {.G = 1, .target_sum = 1e4, .clip = 10};
    float mean = 0, std = 1, zero = 0;
    s.mean = &mean; s.std = &std; s.zero = &zero;
    int32_t map[2] = {0, -1};
    Csr m = csr_alloc(2, 2, 2);
    m.row_start = 7;
    m.indices[0] = 0; m.data[0] = 1;
    m.indices[1] = 1; m.data[1] = *(float *)arg;   // row 1 (global 8): an unmapped column is checked too
    m.indptr[1] = 1; m.indptr[2] = 2;
    Csr out = prep_transform(&s, &m, map);
    csr_free(&out);
}

int main(void) {
    char namebuf[P][8];
    for (int j = 0; j < P; j++) { snprintf(namebuf[j], 8, "g%d", j); g_names[j] = namebuf[j]; }

    // --- the HVG rule on crafted moments ---
    {   // 4 genes, each mean in its own bin: norm 1 each (a lone gene), the zero-variance gene NaN;
        // n_top 1 keeps all three tied at 1
        double mean[4] = {0, 1, 100, 10000}, var[4] = {0, 2, 50, 3e7}, dn[4];
        unsigned char hv[4];
        size_t k = prep_hvg_seurat(mean, var, 4, 1, 20, hv, dn);
        CHECK(k == 3 && !hv[0] && hv[1] && hv[2] && hv[3] && isnan(dn[0]) && dn[1] == 1 && dn[2] == 1 && dn[3] == 1,
              "lone genes in their bins: norm 1, ties at the cutoff all kept (%zu chosen)", k);
    }
    {   // all means equal (one bin): dispersions log(1), log(2), log(4) -> mean log 2, std log 2
        double mean[3] = {1, 1, 1}, var[3] = {1, 2, 4}, dn[3];
        unsigned char hv[3];
        size_t k = prep_hvg_seurat(mean, var, 3, 1, 20, hv, dn);
        CHECK(k == 1 && hv[2] && t_close(dn[0], -1, 1e-12, 1e-12) && t_close(dn[1], 0, 0, 1e-12) && t_close(dn[2], 1, 1e-12, 0),
              "one bin: norms -1 0 1 (got %g %g %g)", dn[0], dn[1], dn[2]);
    }

    // --- bad input (checked in a child process) ---
    float nan = NAN, neg = -1, inf = INFINITY;
    t_expect_fatal("fit: NaN count names the global row", fit_bad, &nan,
                   (const char *const[]){"row 100", "nan", "raw counts", NULL});
    t_expect_fatal("fit: negative count", fit_bad, &neg, (const char *const[]){"row 100", "got -1", NULL});
    t_expect_fatal("transform: Inf in an unmapped column", transform_bad, &inf,
                   (const char *const[]){"row 8", "column 1", "inf", NULL});

    // --- fit against scanpy ---
    Csr all = block(0, N);
    PrepOptions opt = prep_options_default();
    CHECK(opt.target_sum == 1e4 && opt.n_top_genes == 3000 && opt.clip == 10, "defaults 1e4, 3000, 10");
    opt.n_top_genes = 10;
    PrepStats s = prep_fit(&all, g_names, &opt, &g_solo);
    const int want_hvg[10] = {3, 5, 14, 15, 18, 23, 25, 26, 28, 39};
    const double want_mean[10] = {3.1211538950602216, 0.24301433563232422, 2.5025206089019774, 3.2752647082010906,
                                  2.5525309562683107, 2.1496107975641885, 3.049612029393514, 2.6404276212056477,
                                  2.102798891067505, 1.0770739237467448};
    const double want_std[10] = {3.1308093021512358, 1.3310443466773345, 2.9480335943145293, 3.5952929758395467,
                                 2.836457451879823, 2.9205579307751135, 3.5678590113707576, 2.9270050469661735,
                                 2.858104294335137, 2.4549795070120437};
    int ok = s.G == 10;
    for (size_t g = 0; ok && g < 10; g++) ok = s.ref_col[g] == want_hvg[g] && !strcmp(s.gene_names[g], g_names[want_hvg[g]]);
    CHECK(ok, "HVGs = scanpy's [3 5 14 15 18 23 25 26 28 39] (G = %zu)", s.G);
    double worst_m = 0, worst_s = 0;
    for (size_t g = 0; ok && g < 10; g++) {
        worst_m = fmax(worst_m, fabs(s.mean[g] - want_mean[g]) / want_mean[g]);
        worst_s = fmax(worst_s, fabs(s.std[g] - want_std[g]) / want_std[g]);
    }
    CHECK(ok && worst_m < 1e-6 && worst_s < 1e-6, "scale mean/std vs scanpy: worst rel err %.2e / %.2e (tol 1e-6)", worst_m,
          worst_s);
    for (size_t g = 0; ok && g < 10; g++) ok = s.zero[g] == (float)fmax(-10, fmin(10, -(double)s.mean[g] / s.std[g]));
    CHECK(ok, "zero = clip(-mean/std)");

    // transform of reference rows 0, 1 (identity map onto the model genes) against scanpy's scaled X
    if (s.G == 10) {
        const double want_x[2][10] = {
            {1.1975355991952545, -0.1825741841276417, -0.8488779143250769, -0.9109868737293306, 0.6650451866422723,
             -0.7360274469863652, -0.8547456667077954, -0.902091926333519, -0.7357320358236493, -0.438730311463028},
            {0.33092303996339356, -0.1825741841276417, 0.5612860793591286, 1.0123662794445896, -0.8999010207527196,
             1.5035363387501184, -0.8547456667077954, -0.902091926333519, 1.0995175160001165, -0.438730311463028}};
        int32_t map[P];
        for (int j = 0; j < P; j++) map[j] = -1;
        for (int g = 0; g < 10; g++) map[want_hvg[g]] = g;
        Csr two = block(0, 2);
        Csr t = prep_transform(&s, &two, map);
        double worst = 0;
        for (size_t r = 0; r < 2; r++) {
            float x[10];
            for (int g = 0; g < 10; g++) x[g] = s.zero[g];
            for (int64_t k = t.indptr[r]; k < t.indptr[r + 1]; k++) x[t.indices[k]] += t.data[k];
            for (int g = 0; g < 10; g++) worst = fmax(worst, fabs(x[g] - want_x[r][g]));
        }
        CHECK(t.n_rows == 2 && t.n_cols == 10 && worst < 1e-5, "transform vs scanpy scale(): worst abs err %.2e (tol 1e-5)",
              worst);
        int stored_ok = 1;   // exactly the nonzero model genes are stored, ascending
        for (size_t r = 0; r < 2; r++) {
            size_t want_n = 0;
            for (int g = 0; g < 10; g++) want_n += count_at((int)r, want_hvg[g]) != 0;
            stored_ok &= (size_t)(t.indptr[r + 1] - t.indptr[r]) == want_n;
            for (int64_t k = t.indptr[r] + 1; k < t.indptr[r + 1]; k++) stored_ok &= t.indices[k] > t.indices[k - 1];
        }
        CHECK(stored_ok, "transform stores the nonzero model genes only, ascending");
        csr_free(&t);
        csr_free(&two);

        // query with columns [g14, gX, g3, g39] -> model [2, -1, 0, 9] (unsorted), an empty row, and a
        // big count in the unmapped column (it still sets the library size)
        const float qv[3][4] = {{5, 7, 0, 2}, {0, 0, 0, 0}, {1, 100, 3, 0}};
        const double want_q[3][10] = {
            {-0.9969160028097592, -0.1825741841276417, 1.9261924665929944, -0.9109868737293306, -0.8999010207527196,
             -0.7360274469863652, -0.8547456667077954, -0.902091926333519, -0.7357320358236493, 2.520614164643079},
            {-0.9969160028097592, -0.1825741841276417, -0.8488779143250769, -0.9109868737293306, -0.8999010207527196,
             -0.7360274469863652, -0.8547456667077954, -0.902091926333519, -0.7357320358236493, -0.438730311463028},
            {0.8134857449761171, -0.1825741841276417, 0.7034435590417162, -0.9109868737293306, -0.8999010207527196,
             -0.7360274469863652, -0.8547456667077954, -0.902091926333519, -0.7357320358236493, -0.438730311463028}};
        Csr q = csr_alloc(3, 4, 12);
        size_t o = 0;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j++)
                if (qv[i][j] != 0) { q.indices[o] = j; q.data[o++] = qv[i][j]; }
            q.indptr[i + 1] = (int64_t)o;
        }
        int32_t qmap[4] = {2, -1, 0, 9};
        Csr qt = prep_transform(&s, &q, qmap);
        worst = 0;
        int asc = 1;
        for (size_t r = 0; r < 3; r++) {
            float x[10];
            for (int g = 0; g < 10; g++) x[g] = s.zero[g];
            for (int64_t k = qt.indptr[r]; k < qt.indptr[r + 1]; k++) {
                x[qt.indices[k]] += qt.data[k];
                if (k > qt.indptr[r]) asc &= qt.indices[k] > qt.indices[k - 1];
            }
            for (int g = 0; g < 10; g++) worst = fmax(worst, fabs(x[g] - want_q[r][g]));
        }
        CHECK(worst < 1e-5 && asc, "query transform (missing genes at zero, unsorted map): worst abs err %.2e", worst);
        CHECK(qt.indptr[1] == 2 && qt.indptr[2] == 2 && qt.indptr[3] == 4, "query nnz per row 2, 0, 2 (unmapped column not stored)");
        csr_free(&qt);

        // two-sided clipping: clip 0.5 -> zero = -0.5 where -mean/std < -0.5; big values at +0.5
        PrepStats c = s;
        float z[10];
        c.clip = 0.5;
        c.zero = z;
        for (int g = 0; g < 10; g++) z[g] = (float)fmax(-0.5, fmin(0.5, -(double)s.mean[g] / s.std[g]));
        qt = prep_transform(&c, &q, qmap);
        float x0 = z[9] + qt.data[1];   // row 0, model gene 9 (scanpy value 2.52 before clipping)
        CHECK(z[0] == -0.5f && x0 == 0.5f, "clip 0.5: zero of gene 0 is -0.5, row 0 gene 9 clipped to +0.5 (got %g)", x0);
        csr_free(&qt);
        csr_free(&q);
    }

    // --- rank independence: the same rows in blocks give bit-identical statistics ---
    int splits[3][5] = {{0, 7, 7, 19, N}, {0, 1, 2, 3, N}, {0, 15, 29, N, N}};
    for (int sp = 0; sp < 3; sp++) {
        Csr b[4];
        const Csr *bp[4];
        for (int k = 0; k < 4; k++) { b[k] = block(splits[sp][k], splits[sp][k + 1]); bp[k] = &b[k]; }
        PrepStats t = prep_fit_blocks(bp, 4, g_names, &opt, &g_solo);
        int same = t.G == s.G;
        for (size_t g = 0; same && g < s.G; g++)
            same = t.ref_col[g] == s.ref_col[g] && !memcmp(&t.mean[g], &s.mean[g], 4) && !memcmp(&t.std[g], &s.std[g], 4) &&
                   !memcmp(&t.zero[g], &s.zero[g], 4);
        CHECK(same, "split %d (rows %d|%d|%d|%d|%d): statistics bit-identical to one block", sp, splits[sp][0],
              splits[sp][1], splits[sp][2], splits[sp][3], splits[sp][4]);
        prep_stats_free(&t);
        for (int k = 0; k < 4; k++) csr_free(&b[k]);
    }
    prep_stats_free(&s);
    csr_free(&all);
    printf("%s\n", t_fail ? "FAIL" : "PASS");
    return t_fail;
}

/* Expected values: scanpy 1.11.5 (numpy 2.4.6, pandas 2.3.3), pyenv python3:
import numpy as np, scipy.sparse as sp, anndata as ad, scanpy as sc
n, p = 30, 40
X = np.zeros((n, p), np.float32)
for i in range(n):
    for j in range(p):
        h = (i * 131 + j * 71 + (i * j) % 17) % 23
        v = 0 if h < 12 else (h - 11) * (4 if j % 5 == 0 else 1)
        if j < 4: v = (20 + j) if i % 3 == 0 else (1 if (i + j) % 4 == 0 else 0)
        if j == 7: v = 0
        X[i, j] = v
a = ad.AnnData(sp.csr_matrix(X)); a.var_names = [f"g{j}" for j in range(p)]
sc.pp.normalize_total(a, target_sum=1e4); sc.pp.log1p(a)
sc.pp.highly_variable_genes(a, flavor="seurat", n_top_genes=10)
hv = np.flatnonzero(a.var["highly_variable"].to_numpy())          # -> want_hvg
b = a[:, hv].copy(); sc.pp.scale(b, max_value=10)
mean, std = b.var["mean"].to_numpy(), b.var["std"].to_numpy()      # -> want_mean, want_std
np.asarray(b.X)[:2]                                                # -> want_x
Q = np.array([[5, 7, 0, 2], [0, 0, 0, 0], [1, 100, 3, 0]], np.float32)
qa = ad.AnnData(sp.csr_matrix(Q)); sc.pp.normalize_total(qa, target_sum=1e4); sc.pp.log1p(qa)
L = qa.X.toarray(); xs = np.tile(np.clip(-mean / std, -10, 10), (3, 1))
for c, g in [(0, 2), (2, 0), (3, 9)]: xs[:, g] = np.clip((L[:, c] - mean[g]) / std[g], -10, 10)
xs                                                                 # -> want_q
*/
