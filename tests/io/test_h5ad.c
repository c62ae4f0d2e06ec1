// test_h5ad: the h5ad / 10x reader against the bundled data (expected numbers computed once with
// anndata + scipy, see the comments) and against fixtures written here with the HDF5 C API that
// hold one matrix in every encoding and dtype and obs labels in every encoding.
// Exit 0 pass, 1 fail, 99 setup error (bundled data missing).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "io/h5ad.h"
#include "tests/io/h5fix.h"

#include "tests/io/check.h"

static double row_sum(const Csr *m, size_t r) {
    double s = 0;
    for (int64_t k = m->indptr[r]; k < m->indptr[r + 1]; k++) s += m->data[k];
    return s;
}

static double value_at(const Csr *m, size_t r, int32_t col) {
    for (int64_t k = m->indptr[r]; k < m->indptr[r + 1]; k++)
        if (m->indices[k] == col) return m->data[k];
    return 0;
}

// 1 if rows of b equal rows [b->row_start - a->row_start, ...) of a exactly (structure and values).
static int rows_equal(const Csr *a, const Csr *b) {
    size_t off = b->row_start - a->row_start;
    if (b->n_cols != a->n_cols || off + b->n_rows > a->n_rows) return 0;
    for (size_t r = 0; r < b->n_rows; r++) {
        int64_t ka = a->indptr[off + r], kb = b->indptr[r];
        if (a->indptr[off + r + 1] - ka != b->indptr[r + 1] - kb) return 0;
        for (int64_t i = 0; i < b->indptr[r + 1] - kb; i++)
            if (a->indices[ka + i] != b->indices[kb + i] || a->data[ka + i] != b->data[kb + i]) return 0;
    }
    return 1;
}

static int sorted_rows(const Csr *m) {
    for (size_t r = 0; r < m->n_rows; r++)
        for (int64_t k = m->indptr[r] + 1; k < m->indptr[r + 1]; k++)
            if (m->indices[k] <= m->indices[k - 1]) return 0;
    return 1;
}

// Compares a block with the dense fixture matrix rows [row_start, row_start + n_rows).
static int equals_fixture(const Csr *m, const double *ref, size_t nc) {
    if (m->n_cols != nc || !sorted_rows(m)) return 0;
    for (size_t r = 0; r < m->n_rows; r++) {
        size_t nz = 0;
        for (size_t j = 0; j < nc; j++) {
            double want = ref[(m->row_start + r) * nc + j];
            nz += want != 0;
            if (value_at(m, r, (int32_t)j) != want) return 0;
        }
        if ((size_t)(m->indptr[r + 1] - m->indptr[r]) != nz) return 0;
    }
    return 1;
}

static size_t count_code(const int32_t *c, size_t n, int32_t code) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += c[i] == code;
    return k;
}

static int cat_index(char **cats, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(cats[i], name) == 0) return (int)i;
    return -1;
}

// ---- bundled data --------------------------------------------------------------------------

static void test_ref(const char *dir, const Dist *d) {
    char path[4096];
    snprintf(path, sizeof path, "%s/pbmc_v2_ref.h5ad", dir);
    H5ad *h = h5ad_open(path, NULL, 0, d);
    CHECK(h5ad_n_obs(h) == 996 && h5ad_n_vars(h) == 33538, "shape %zu x %zu", h5ad_n_obs(h), h5ad_n_vars(h));
    CHECK(strcmp(h5ad_x_encoding(h), "csr_matrix") == 0, "encoding %s", h5ad_x_encoding(h));
    CHECK(strcmp(h5ad_x_dtype(h), "float32") == 0, "dtype %s", h5ad_x_dtype(h));
    Csr all = h5ad_read_rows(h, 0, 996);
    h5ad_require_counts(h, &all);
    CHECK(csr_nnz(&all) == 1102741, "nnz %zu", csr_nnz(&all));
    CHECK(sorted_rows(&all), "rows sorted");
    // Expected values from: a = anndata.read_h5ad(...); a.X.sum(1), a.X.sum(), a.X[0, j]
    // (validation/make_bundled_data.py output read back with anndata 0.8 + scipy, run once).
    CHECK(row_sum(&all, 0) == 6631.0, "row 0 total %g", row_sum(&all, 0));
    CHECK(row_sum(&all, 995) == 5263.0, "row 995 total %g", row_sum(&all, 995));
    double tot = 0;
    for (size_t r = 0; r < 996; r++) tot += row_sum(&all, r);
    CHECK(tot == 3524098.0, "grand total %g", tot);
    CHECK(value_at(&all, 0, 18002) == 225.0, "X[0, MALAT1] %g", value_at(&all, 0, 18002));
    CHECK(value_at(&all, 0, 21149) == 39.0, "X[0, LYZ] %g", value_at(&all, 0, 21149));
    // row subsets equal the full read sliced
    size_t cuts[][2] = {{0, 1}, {1, 499}, {500, 496}, {995, 1}, {10, 0}, {333, 333}};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        Csr b = h5ad_read_rows(h, cuts[i][0], cuts[i][1]);
        CHECK(b.row_start == cuts[i][0] && b.n_rows == cuts[i][1] && rows_equal(&all, &b), "subset [%zu,+%zu)",
              cuts[i][0], cuts[i][1]);
        csr_free(&b);
    }
    char **vn = h5ad_var_names(h);
    CHECK(strcmp(vn[0], "MIR1302-2HG") == 0, "var 0 %s", vn[0]);
    CHECK(strcmp(vn[18002], "MALAT1") == 0 && strcmp(vn[21149], "LYZ") == 0, "var names %s %s", vn[18002], vn[21149]);
    CHECK(strcmp(vn[2997], "TBCE") == 0 && strcmp(vn[2999], "TBCE-1") == 0, "made unique %s %s", vn[2997], vn[2999]);
    char **on = h5ad_obs_names(h, 995, 1);
    CHECK(strcmp(on[0], "TTTGTCACATGTAAGA-1") == 0, "obs 995 %s", on[0]);
    strv_free(on, 1);
    size_t nk = 0;
    char **keys = h5ad_obs_keys(h, &nk);
    CHECK(nk == 2 && strcmp(keys[0], "cell_type") == 0 && strcmp(keys[1], "batch") == 0, "obs keys (%zu)", nk);
    strv_free(keys, nk);
    CHECK(h5ad_has_obs(h, "cell_type") && !h5ad_has_obs(h, "nope") && !h5ad_has_obs(h, "_index"), "has_obs");
    char **cats;
    size_t nc;
    int32_t *codes = h5ad_obs_labels(h, "cell_type", 0, 996, &cats, &nc);
    CHECK(nc == 7, "cell types %zu", nc);
    CHECK(count_code(codes, 996, cat_index(cats, nc, "Monocyte")) == 322, "Monocyte");
    CHECK(count_code(codes, 996, cat_index(cats, nc, "B cell")) == 142, "B cell");
    CHECK(count_code(codes, 996, -1) == 0, "no NA");
    char **cats2;
    size_t nc2;
    int32_t *sub = h5ad_obs_labels(h, "cell_type", 100, 50, &cats2, &nc2);
    CHECK(nc2 == nc && memcmp(sub, codes + 100, 50 * sizeof *sub) == 0, "label subset");
    free(sub);
    strv_free(cats2, nc2);
    free(codes);
    strv_free(cats, nc);
    codes = h5ad_obs_labels(h, "batch", 0, 996, &cats, &nc);
    CHECK(nc == 1 && strcmp(cats[0], "10x 3' v2") == 0 && count_code(codes, 996, 0) == 996, "batch");
    free(codes);
    strv_free(cats, nc);
    size_t cols = 7;
    CHECK(h5ad_obsm(h, "X_pca", 0, 10, &cols) == NULL && cols == 0, "absent obsm");

    // the CellRanger .h5 it was made from gives the same matrix and names
    snprintf(path, sizeof path, "%s/pbmc_v2_10x.h5", dir);
    H5ad *x = h5ad_open(path, NULL, 0, d);
    CHECK(strcmp(h5ad_x_encoding(x), "10x") == 0 && strcmp(h5ad_x_dtype(x), "int32") == 0, "10x %s %s",
          h5ad_x_encoding(x), h5ad_x_dtype(x));
    CHECK(h5ad_n_obs(x) == 996 && h5ad_n_vars(x) == 33538, "10x shape %zu x %zu", h5ad_n_obs(x), h5ad_n_vars(x));
    Csr t = h5ad_read_rows(x, 0, 996);
    CHECK(rows_equal(&all, &t), "10x rows equal h5ad rows");
    Csr t2 = h5ad_read_rows(x, 400, 17);
    CHECK(rows_equal(&all, &t2), "10x subset");
    csr_free(&t2);
    char **xv = h5ad_var_names(x);
    size_t same = 0;
    for (size_t j = 0; j < 33538; j++) same += strcmp(xv[j], vn[j]) == 0;
    CHECK(same == 33538, "10x symbols (made unique) equal h5ad var names: %zu of 33538", same);
    char **xo = h5ad_obs_names(x, 0, 1);
    CHECK(strcmp(xo[0], "AAACCTGAGCGCTCCA-1") == 0, "10x barcode %s", xo[0]);
    strv_free(xo, 1);
    size_t nk10 = 9;
    char **k10 = h5ad_obs_keys(x, &nk10);
    CHECK(nk10 == 0, "10x has no obs columns");
    strv_free(k10, nk10);
    strv_free(xv, 33538);
    csr_free(&t);
    h5ad_close(x);
    H5ad *xi = h5ad_open(path, NULL, 1, d);
    char **ids = h5ad_var_names(xi);
    CHECK(strcmp(ids[0], "ENSG00000243485") == 0, "gene id %s", ids[0]);
    strv_free(ids, 33538);
    h5ad_close(xi);

    strv_free(vn, 33538);
    csr_free(&all);
    h5ad_close(h);
}

static void test_query(const char *dir, const Dist *d) {
    char path[4096];
    snprintf(path, sizeof path, "%s/pbmc_v3_query.h5ad", dir);
    H5ad *h = h5ad_open(path, NULL, 0, d);
    CHECK(h5ad_n_obs(h) == 906 && h5ad_n_vars(h) == 14688, "shape %zu x %zu", h5ad_n_obs(h), h5ad_n_vars(h));
    Csr all = h5ad_read_rows(h, 0, 906);
    CHECK(csr_nnz(&all) == 1604642, "nnz %zu", csr_nnz(&all));
    // from anndata + scipy: a.X.sum(1)[500] = 8922, a.X.sum() = 5451564, a.X[:, 'LYZ'].sum() = 13956
    CHECK(row_sum(&all, 500) == 8922.0, "row 500 total %g", row_sum(&all, 500));
    double tot = 0, lyz = 0;
    for (size_t r = 0; r < 906; r++) tot += row_sum(&all, r), lyz += value_at(&all, r, 9277);
    CHECK(tot == 5451564.0 && lyz == 13956.0, "totals %g %g", tot, lyz);
    char **cats;
    size_t nc;
    int32_t *codes = h5ad_obs_labels(h, "cell_type", 0, 906, &cats, &nc);
    CHECK(nc == 6 && count_code(codes, 906, -1) == 83, "query labels %zu cats, %zu NA", nc, count_code(codes, 906, -1));
    CHECK(count_code(codes, 906, cat_index(cats, nc, "CD4 T cell")) == 285, "CD4 T");
    free(codes);
    strv_free(cats, nc);
    char **on = h5ad_obs_names(h, 905, 1);
    CHECK(strcmp(on[0], "TTTGTTGCAATTAGGA-1") == 0, "obs 905 %s", on[0]);
    strv_free(on, 1);
    csr_free(&all);
    h5ad_close(h);
}

// ---- fixtures ------------------------------------------------------------------------------

static void check_labels(H5ad *h, const char *key, size_t want_nc, const char *const *want_cats, const int32_t *want) {
    char **cats;
    size_t nc;
    int32_t *codes = h5ad_obs_labels(h, key, 0, FIX_ROWS, &cats, &nc);
    int ok = nc == want_nc;
    for (size_t k = 0; ok && k < nc; k++) ok = strcmp(cats[k], want_cats[k]) == 0;
    for (size_t i = 0; ok && i < FIX_ROWS; i++) ok = codes[i] == want[i];
    CHECK(ok, "labels of obs '%s' (%zu categories)", key, nc);
    free(codes);
    strv_free(cats, nc);
    codes = h5ad_obs_labels(h, key, 2, 3, &cats, &nc);
    CHECK(memcmp(codes, want + 2, 3 * sizeof *codes) == 0 && nc == want_nc, "label rows [2,5) of '%s'", key);
    free(codes);
    strv_free(cats, nc);
}

static void test_fixture(const Dist *d) {
    char path[256];
    snprintf(path, sizeof path, "test_h5ad_fixture.%ld.h5ad", (long)getpid());
    fx_rich_file(path);
    struct {
        const char *layer, *enc, *dtype;
        size_t nc;
        const double *m;
    } L[] = {
        {NULL, "csr_matrix", "float32", FIX_COLS, FIX_M},
        {"csc64", "csc_matrix", "float64", FIX_COLS, FIX_M},
        {"csc_rev", "csc_matrix", "int16", FIX_COLS, FIX_M},
        {"old_i64", "csr_matrix", "int64", FIX_COLS, FIX_M},
        {"csr_rev_i32", "csr_matrix", "int32", FIX_COLS, FIX_M},
        {"old_csc_u16", "csc_matrix", "uint16", FIX_COLS, FIX_M},
        {"dense_i32", "array", "int32", FIX_COLS, FIX_M},
        {"dense_f64", "array", "float64", FIX_COLS, FIX_M},
        {"dense_i64", "array", "int64", FIX_COLS, FIX_M},
        {"raw", "csr_matrix", "float32", FIX_COLS + 1, FIX_RAW},
    };
    for (size_t i = 0; i < sizeof L / sizeof *L; i++) {
        const char *name = L[i].layer ? L[i].layer : "X";
        H5ad *h = h5ad_open(path, L[i].layer, 0, d);
        CHECK(h5ad_n_obs(h) == FIX_ROWS && h5ad_n_vars(h) == L[i].nc, "%s shape", name);
        CHECK(strcmp(h5ad_x_encoding(h), L[i].enc) == 0, "%s encoding %s", name, h5ad_x_encoding(h));
        CHECK(strcmp(h5ad_x_dtype(h), L[i].dtype) == 0, "%s dtype %s", name, h5ad_x_dtype(h));
        Csr all = h5ad_read_rows(h, 0, FIX_ROWS);
        CHECK(equals_fixture(&all, L[i].m, L[i].nc), "%s: all rows equal the fixture", name);
        h5ad_require_counts(h, &all);
        size_t cuts[][2] = {{2, 3}, {1, 1}, {6, 1}, {0, 0}, {7, 0}, {0, 2}};
        for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
            Csr b = h5ad_read_rows(h, cuts[k][0], cuts[k][1]);
            CHECK(b.n_rows == cuts[k][1] && equals_fixture(&b, L[i].m, L[i].nc) && rows_equal(&all, &b),
                  "%s rows [%zu,+%zu)", name, cuts[k][0], cuts[k][1]);
            csr_free(&b);
        }
        char **vn = h5ad_var_names(h);
        CHECK(strcmp(vn[0], L[i].layer && !strcmp(L[i].layer, "raw") ? "r0" : "g0") == 0 &&
                  strcmp(vn[L[i].nc - 1], L[i].layer && !strcmp(L[i].layer, "raw") ? "extra" : "g4") == 0,
              "%s var names %s ... %s", name, vn[0], vn[L[i].nc - 1]);
        strv_free(vn, L[i].nc);
        csr_free(&all);
        h5ad_close(h);
    }
    H5ad *h = h5ad_open(path, NULL, 0, d);
    char **on = h5ad_obs_names(h, 5, 2);
    CHECK(strcmp(on[0], "c5") == 0 && strcmp(on[1], "c6") == 0, "obs names %s %s", on[0], on[1]);
    strv_free(on, 2);
    size_t nk;
    char **keys = h5ad_obs_keys(h, &nk);
    CHECK(nk == 10 && strcmp(keys[0], "cat_new") == 0 && strcmp(keys[9], "fixed") == 0, "obs keys %zu", nk);
    strv_free(keys, nk);
    static const char *abc[] = {"A", "B", "C"}, *xy[] = {"x", "yy"}, *pqr[] = {"p", "q", "r"}, *ab[] = {"a", "b", "c"},
                      *ft[] = {"False", "True"}, *nums[] = {"1", "2", "3", "10"}, *fls[] = {"0.5", "1.5"},
                      *nul[] = {"5", "6", "7"}, *tu[] = {"T", "U"}, *ks[] = {"k", "kk", "kkk"};
    check_labels(h, "cat_new", 3, abc, (int32_t[]){0, 1, -1, 2, 0, 1, 2});
    check_labels(h, "cat_old", 2, xy, (int32_t[]){1, 1, 0, -1, 0, 1, 0});
    check_labels(h, "cat_06", 3, pqr, (int32_t[]){2, 2, 1, 0, 0, 1, 2});
    check_labels(h, "str", 3, ab, (int32_t[]){1, 0, -1, -1, 1, 2, -1});
    check_labels(h, "flag", 2, ft, (int32_t[]){1, 0, 1, 1, 0, 0, 1});
    check_labels(h, "num", 4, nums, (int32_t[]){3, 1, 2, 3, 1, 0, 2});   // numeric order, not text order
    check_labels(h, "fl", 2, fls, (int32_t[]){0, -1, 1, 0, 0, -1, 1});
    check_labels(h, "nullable", 3, nul, (int32_t[]){0, 1, 0, -1, 2, -1, 1});
    check_labels(h, "cat_nan", 2, tu, (int32_t[]){0, -1, 0, -1, 1, 1, 0});   // category "nan" is missing
    check_labels(h, "fixed", 3, ks, (int32_t[]){0, 1, 0, 2, 0, 1, 0});
    size_t cols = 0;
    float *e = h5ad_obsm(h, "X_emb", 2, 3, &cols);
    int ok = e && cols == 3;
    for (size_t i = 0; ok && i < 9; i++) ok = e[i] == (float)(0.25 * (double)(6 + i) - 1);
    CHECK(ok, "obsm X_emb rows [2,5)");
    free(e);
    size_t nom;
    char **om = h5ad_obsm_keys(h, &nom);
    CHECK(nom == 1 && strcmp(om[0], "X_emb") == 0, "obsm keys %zu", nom);
    strv_free(om, nom);
    h5ad_close(h);
    remove(path);
}

static void test_make_unique(void) {
    // expected from anndata.utils.make_index_unique(pd.Index(['a','a','b','a-1','a','b']))
    static const char *in[] = {"a", "a", "b", "a-1", "a", "b"}, *want[] = {"a", "a-2", "b", "a-1", "a-3", "b-1"};
    char *v[6];
    for (int i = 0; i < 6; i++) v[i] = xstrdup(in[i]);
    h5ad_make_unique(v, 6);
    int ok = 1;
    for (int i = 0; i < 6; i++) ok &= strcmp(v[i], want[i]) == 0;
    CHECK(ok, "make_unique: %s %s %s %s %s %s", v[0], v[1], v[2], v[3], v[4], v[5]);
    for (int i = 0; i < 6; i++) free(v[i]);
}

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    const char *dir = getenv("KIDA_DATADIR");
    if (!dir) dir = KIDA_SRCDIR "/data";
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/pbmc_v2_ref.h5ad", dir);
    if (access(probe, R_OK) != 0) {
        fprintf(stderr, "test_h5ad: bundled data not found at %s (set KIDA_DATADIR)\n", probe);
        return 99;
    }
    test_make_unique();
    test_fixture(&d);
    test_ref(dir, &d);
    test_query(dir, &d);
    printf("test_h5ad: %d passed, %d failed\n", n_pass, n_fail);
    dist_finalize(&d);
    return n_fail ? 1 : 0;
}
