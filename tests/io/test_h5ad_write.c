// test_h5ad_write: the .h5ad writer. Without arguments: writes files with every writer call,
// reads them back with the reader (and a few raw HDF5 checks of anndata's encoding attributes),
// copies a file and a 10x .h5 with h5ad_writer_copy_of, overwrites and aborts.
// With arguments it only writes, for tests/io/roundtrip.sh and tests/io/bad_inputs_io.sh:
//   --write PATH [--overwrite]   the standard content (CSR X)     (checked by check_roundtrip.py)
//   --write-dense PATH           the standard content with dense X
//   --copy SRC PATH              copy_of SRC, then add obs pred/conf, obsm X_kida, uns kida/*
//   --annotate SRC PATH          copy_of SRC (any size), then add obs kida_label = classes[i % 3]
//                                (NA every 7th), kida_conf = (i % 10) / 10, obsm X_kida (n x 2) =
//                                (i, -i), uns kida/classes
//   --die-mid PATH               overwrite PATH, then fail mid-write (a FATAL, exit 1)
//   --crash-mid PATH             write PATH, then crash mid-write (SIGSEGV, as libhdf5 can)
// Exit 0 pass, 1 fail, 99 setup error.
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/log.h"
#include "io/h5ad.h"

#include "tests/io/check.h"

// ---- the standard content (validation/check_roundtrip.py builds the same values) ------------
#define NO 6
#define NV 4
static float dense_x(size_t i, size_t j) { return (i + 2 * j) % 3 == 0 ? (float)(i * NV + j) + 0.5f : 0.0f; }
static char *OBS[NO] = {"cell0", "cell1", "cell2", "cell3", "cell4", "cell5"};
static char *VAR[NV] = {"GeneA", "GeneB", "GeneC", "GeneD"};
static const float SCORE[NO] = {0.5f, 1.5f, -2.25f, 0.0f, 3.0f, 1e-3f};
static const int32_t COUNT[NO] = {7, -1, 0, 2147483647, 42, 3};
static const uint8_t FLAG[NO] = {1, 0, 0, 1, 1, 0};
static const int32_t LABEL[NO] = {2, 0, -1, 1, 2, 0};
static char *CATS[3] = {"alpha", "beta", "gamma"};
static char *NOTE[NO] = {"caf\xc3\xa9", "", "x y", "a/b", "\xe2\x9c\x93", "last"};
static char *CLASSES[3] = {"B cell", "T cell", "NK"};

static Csr standard_csr(void) {
    size_t nnz = 0;
    for (size_t i = 0; i < NO; i++)
        for (size_t j = 0; j < NV; j++) nnz += dense_x(i, j) != 0;
    Csr m = csr_alloc(NO, NV, nnz);
    size_t k = 0;
    for (size_t i = 0; i < NO; i++) {
        for (size_t j = 0; j < NV; j++)
            if (dense_x(i, j) != 0) m.indices[k] = (int32_t)j, m.data[k++] = dense_x(i, j);
        m.indptr[i + 1] = (int64_t)k;
    }
    return m;
}

static void write_standard(H5adWriter *w, int dense) {
    if (dense) {
        float x[NO * NV];
        for (size_t i = 0; i < NO; i++)
            for (size_t j = 0; j < NV; j++) x[i * NV + j] = dense_x(i, j);
        h5ad_write_X_dense(w, x, NO, NV);
    } else {
        Csr m = standard_csr();
        h5ad_write_X_csr(w, &m);
        csr_free(&m);
    }
    h5ad_write_obs_names(w, OBS, NO);
    h5ad_write_var_names(w, VAR, NV);
    h5ad_write_obs_f32(w, "score", SCORE, NO);
    h5ad_write_obs_i32(w, "count", COUNT, NO);
    h5ad_write_obs_bool(w, "flag", FLAG, NO);
    h5ad_write_obs_categorical(w, "label", LABEL, NO, CATS, 3);
    h5ad_write_obs_strings(w, "note", NOTE, NO);
    float emb[NO * 2];
    for (size_t i = 0; i < NO * 2; i++) emb[i] = (float)i / 4.0f - 1.0f;
    h5ad_write_obsm_f32(w, "X_emb", emb, NO, 2);
    h5ad_write_uns_string(w, "title", "kida roundtrip");
    h5ad_write_uns_string(w, "kida/version", "0.1");
    h5ad_write_uns_strings(w, "kida/classes", CLASSES, 3);
    h5ad_write_uns_f64(w, "kida/config/lr", 0.001);
    double wts[3] = {1.0, -2.5, 1e300};
    h5ad_write_uns_f64_array(w, "kida/weights", wts, 3);
    int64_t steps[4] = {0, 10, -20, 9007199254740993LL};
    h5ad_write_uns_i64_array(w, "kida/steps", steps, 4);
    float attn[6] = {0.1f, 0.2f, 0.7f, 0.3f, 0.3f, 0.4f};
    h5ad_write_uns_f32_matrix(w, "kida/attn", attn, 2, 3);
}

static void add_prediction(H5adWriter *w) {
    int32_t pred[NO] = {0, 1, 2, 1, 0, -1};
    h5ad_write_obs_categorical(w, "kida_label", pred, NO, CLASSES, 3);
    float conf[NO] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.1f};
    h5ad_write_obs_f32(w, "kida_conf", conf, NO);
    h5ad_write_obs_f32(w, "score", conf, NO);   // replaces the copied column
    float e[NO * 3];
    for (size_t i = 0; i < NO * 3; i++) e[i] = (float)i;
    h5ad_write_obsm_f32(w, "X_kida", e, NO, 3);
    h5ad_write_uns_strings(w, "kida/classes", CLASSES, 3);
    h5ad_write_uns_f64(w, "kida/config/temperature", 0.5);
}

// ---- raw HDF5 checks of the encoding attributes --------------------------------------------

static int attr_is(hid_t f, const char *obj, const char *attr, const char *want) {
    hid_t o = H5Oopen(f, obj, H5P_DEFAULT);
    if (o < 0) return 0;
    int ok = 0;
    if (H5Aexists(o, attr) > 0) {
        hid_t a = H5Aopen(o, attr, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_UTF8);
        char *s = NULL;
        if (H5Aread(a, t, &s) >= 0 && s) ok = strcmp(s, want) == 0, H5free_memory(s);
        H5Tclose(t);
        H5Aclose(a);
    }
    H5Oclose(o);
    return ok;
}

static void check_encodings(const char *path, int dense) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0, "open %s", path);
    if (f < 0) return;
    struct {
        const char *obj, *type, *ver;
    } E[] = {
        {"/", "anndata", "0.1.0"},          {"X", dense ? "array" : "csr_matrix", dense ? "0.2.0" : "0.1.0"},
        {"obs", "dataframe", "0.2.0"},      {"var", "dataframe", "0.2.0"},
        {"obs/_index", "string-array", "0.2.0"}, {"obs/label", "categorical", "0.2.0"},
        {"obs/label/codes", "array", "0.2.0"},   {"obs/label/categories", "string-array", "0.2.0"},
        {"obs/score", "array", "0.2.0"},    {"obs/note", "string-array", "0.2.0"},
        {"obsm", "dict", "0.1.0"},          {"obsm/X_emb", "array", "0.2.0"},
        {"uns", "dict", "0.1.0"},           {"uns/kida", "dict", "0.1.0"},
        {"uns/kida/config", "dict", "0.1.0"}, {"uns/kida/config/lr", "numeric-scalar", "0.2.0"},
        {"uns/title", "string", "0.2.0"},   {"uns/kida/classes", "string-array", "0.2.0"},
        {"uns/kida/steps", "array", "0.2.0"}, {"layers", "dict", "0.1.0"},
    };
    for (size_t i = 0; i < sizeof E / sizeof *E; i++)
        CHECK(attr_is(f, E[i].obj, "encoding-type", E[i].type) && attr_is(f, E[i].obj, "encoding-version", E[i].ver),
              "%s encoding %s %s", E[i].obj, E[i].type, E[i].ver);
    CHECK(attr_is(f, "obs", "_index", "_index"), "obs _index attribute");
    hid_t d = H5Dopen2(f, "uns/kida/config/lr", H5P_DEFAULT);
    double lr = 0;
    CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &lr) >= 0 && lr == 0.001, "uns lr %g", lr);
    H5Dclose(d);
    int64_t st[4] = {0};
    d = H5Dopen2(f, "uns/kida/steps", H5P_DEFAULT);
    CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, st) >= 0 &&
              st[3] == 9007199254740993LL && st[2] == -20,
          "uns steps");
    H5Dclose(d);
    H5Fclose(f);
}

// ---- reading back --------------------------------------------------------------------------

static void check_standard(const char *path, int dense, int copied, const Dist *dist) {
    H5ad *h = h5ad_open(path, NULL, 0, dist);
    CHECK(h5ad_n_obs(h) == NO && h5ad_n_vars(h) == NV, "shape %zu x %zu", h5ad_n_obs(h), h5ad_n_vars(h));
    CHECK(strcmp(h5ad_x_encoding(h), dense ? "array" : "csr_matrix") == 0, "encoding %s", h5ad_x_encoding(h));
    Csr m = h5ad_read_rows(h, 0, NO), want = standard_csr();
    int ok = csr_nnz(&m) == csr_nnz(&want);
    for (size_t k = 0; ok && k < csr_nnz(&m); k++) ok = m.indices[k] == want.indices[k] && m.data[k] == want.data[k];
    for (size_t i = 0; ok && i <= NO; i++) ok = m.indptr[i] == want.indptr[i];
    CHECK(ok, "X read back equals X written");
    csr_free(&m);
    csr_free(&want);
    char **vn = h5ad_var_names(h), **on = h5ad_obs_names(h, 0, NO);
    ok = 1;
    for (size_t j = 0; j < NV; j++) ok &= strcmp(vn[j], VAR[j]) == 0;
    for (size_t i = 0; i < NO; i++) ok &= strcmp(on[i], OBS[i]) == 0;
    CHECK(ok, "names read back");
    strv_free(vn, NV);
    strv_free(on, NO);
    size_t nk;
    char **keys = h5ad_obs_keys(h, &nk);
    static const char *order[] = {"score", "count", "flag", "label", "note", "kida_label", "kida_conf"};
    size_t want_nk = copied ? 7 : 5;
    ok = nk == want_nk;
    for (size_t i = 0; ok && i < nk; i++) ok = strcmp(keys[i], order[i]) == 0;
    CHECK(ok, "obs column-order (%zu keys)", nk);
    strv_free(keys, nk);
    char **cats;
    size_t nc;
    int32_t *codes = h5ad_obs_labels(h, "label", 0, NO, &cats, &nc);
    CHECK(nc == 3 && !strcmp(cats[2], "gamma") && !memcmp(codes, LABEL, sizeof LABEL), "categorical label");
    free(codes);
    strv_free(cats, nc);
    codes = h5ad_obs_labels(h, "flag", 0, NO, &cats, &nc);
    ok = nc == 2 && !strcmp(cats[0], "False") && !strcmp(cats[1], "True");
    for (size_t i = 0; ok && i < NO; i++) ok = codes[i] == FLAG[i];
    CHECK(ok, "bool flag");
    free(codes);
    strv_free(cats, nc);
    codes = h5ad_obs_labels(h, "note", 0, NO, &cats, &nc);
    CHECK(nc == 5 && codes[1] == -1 && !strcmp(cats[codes[0]], "caf\xc3\xa9") && !strcmp(cats[codes[4]], "\xe2\x9c\x93"),
          "utf-8 strings");
    free(codes);
    strv_free(cats, nc);
    codes = h5ad_obs_labels(h, "count", 0, NO, &cats, &nc);
    CHECK(nc == 6 && !strcmp(cats[codes[3]], "2147483647") && !strcmp(cats[0], "-1"), "int32 column");
    free(codes);
    strv_free(cats, nc);
    size_t cols;
    float *e = h5ad_obsm(h, "X_emb", 1, 2, &cols);
    CHECK(e && cols == 2 && e[0] == 2.0f / 4.0f - 1.0f && e[3] == 5.0f / 4.0f - 1.0f, "obsm X_emb");
    free(e);
    if (copied) {
        codes = h5ad_obs_labels(h, "kida_label", 0, NO, &cats, &nc);
        CHECK(nc == 3 && codes[5] == -1 && codes[2] == 2 && !strcmp(cats[0], "B cell"), "added categorical");
        free(codes);
        strv_free(cats, nc);
        e = h5ad_obsm(h, "X_kida", 0, NO, &cols);
        CHECK(e && cols == 3 && e[17] == 17.0f, "added obsm");
        free(e);
        codes = h5ad_obs_labels(h, "score", 0, NO, &cats, &nc);
        CHECK(nc == 6 && !strcmp(cats[codes[0]], "0.9"), "replaced obs column score (%s)", cats[codes[0]]);
        free(codes);
        strv_free(cats, nc);
    }
    h5ad_close(h);
}

static void in_process(const Dist *d) {
    char a[256], b[256], c[256], t[256];
    long pid = (long)getpid();
    snprintf(a, sizeof a, "tw_a.%ld.h5ad", pid);
    snprintf(b, sizeof b, "tw_b.%ld.h5ad", pid);
    snprintf(c, sizeof c, "tw_c.%ld.h5ad", pid);
    snprintf(t, sizeof t, "tw_t.%ld.h5ad", pid);

    H5adWriter *w = h5ad_writer_create(a, 0);
    write_standard(w, 0);
    char *tmp = atomic_tmp_path(a);
    CHECK(path_exists(tmp) && !path_exists(a), "writes go to the temporary %s until commit", tmp);
    h5ad_writer_commit(w);
    CHECK(path_exists(a) && !path_exists(tmp), "commit renames the temporary into place");
    free(tmp);
    check_standard(a, 0, 0, d);
    check_encodings(a, 0);

    w = h5ad_writer_create(b, 0);
    write_standard(w, 1);
    h5ad_writer_commit(w);
    check_standard(b, 1, 0, d);
    check_encodings(b, 1);

    // copy of a, with predictions added; then overwrite b with it
    w = h5ad_writer_copy_of(c, 0, a);
    add_prediction(w);
    h5ad_writer_commit(w);
    check_standard(c, 0, 1, d);
    w = h5ad_writer_copy_of(b, 1, a);
    add_prediction(w);
    h5ad_writer_commit(w);
    check_standard(b, 0, 1, d);

    // abort removes the temporary and leaves nothing at the path
    w = h5ad_writer_create(t, 0);
    write_standard(w, 0);
    char *tt = atomic_tmp_path(t);
    h5ad_writer_abort(w);
    CHECK(!path_exists(t) && !path_exists(tt), "abort leaves no file");
    free(tt);

    // a file without names: default "0".."n-1" indices are written at commit
    w = h5ad_writer_create(t, 0);
    float x[2 * 3] = {1, 0, 2, 0, 0, 3};
    h5ad_write_X_dense(w, x, 2, 3);
    h5ad_writer_commit(w);
    H5ad *h = h5ad_open(t, NULL, 0, d);
    char **on = h5ad_obs_names(h, 0, 2), **vn = h5ad_var_names(h);
    CHECK(!strcmp(on[1], "1") && !strcmp(vn[2], "2"), "default names %s %s", on[1], vn[2]);
    strv_free(on, 2);
    strv_free(vn, 3);
    h5ad_close(h);

    // copy of a 10x .h5: converted to an AnnData layout
    const char *dir = getenv("KIDA_DATADIR");
    char tenx[4096];
    snprintf(tenx, sizeof tenx, "%s/pbmc_v2_10x.h5", dir ? dir : KIDA_SRCDIR "/data");
    if (access(tenx, R_OK) == 0) {
        w = h5ad_writer_copy_of(t, 1, tenx);
        int32_t *pred = xcalloc(996, sizeof *pred);
        h5ad_write_obs_categorical(w, "kida_label", pred, 996, CLASSES, 3);
        free(pred);
        h5ad_writer_commit(w);
        H5ad *src = h5ad_open(tenx, NULL, 0, d), *cp = h5ad_open(t, NULL, 0, d);
        CHECK(h5ad_n_obs(cp) == 996 && h5ad_n_vars(cp) == 33538 && !strcmp(h5ad_x_encoding(cp), "csr_matrix"),
              "10x copy shape");
        Csr r1 = h5ad_read_rows(src, 990, 6), r2 = h5ad_read_rows(cp, 990, 6);
        int ok = csr_nnz(&r1) == csr_nnz(&r2);
        for (size_t k = 0; ok && k < csr_nnz(&r1); k++) ok = r1.indices[k] == r2.indices[k] && r1.data[k] == r2.data[k];
        CHECK(ok, "10x copy rows equal");
        char **v1 = h5ad_var_names(src), **v2 = h5ad_var_names(cp);
        CHECK(!strcmp(v1[2999], v2[2999]) && !strcmp(v2[2999], "TBCE-1"), "10x copy var names");
        strv_free(v1, 33538);
        strv_free(v2, 33538);
        char **gc;
        size_t ng;
        int32_t *gcodes = h5ad_obs_labels(cp, "kida_label", 0, 1, &gc, &ng);
        CHECK(ng == 3 && gcodes[0] == 0, "10x copy obs");
        free(gcodes);
        strv_free(gc, ng);
        csr_free(&r1);
        csr_free(&r2);
        h5ad_close(src);
        h5ad_close(cp);
    } else fprintf(stderr, "note: %s missing, 10x copy not tested\n", tenx);

    remove(a);
    remove(b);
    remove(c);
    remove(t);
}

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    int rc = 0;
    if (argc >= 3 && (!strcmp(argv[1], "--write") || !strcmp(argv[1], "--write-dense"))) {
        int overwrite = argc >= 4 && !strcmp(argv[3], "--overwrite");
        H5adWriter *w = h5ad_writer_create(argv[2], overwrite);
        write_standard(w, !strcmp(argv[1], "--write-dense"));
        h5ad_writer_commit(w);
    } else if (argc >= 4 && !strcmp(argv[1], "--copy")) {
        H5adWriter *w = h5ad_writer_copy_of(argv[3], 0, argv[2]);
        add_prediction(w);
        h5ad_writer_commit(w);
    } else if (argc >= 4 && !strcmp(argv[1], "--annotate")) {
        H5ad *h = h5ad_open(argv[2], NULL, 0, &d);
        size_t n = h5ad_n_obs(h);
        h5ad_close(h);
        H5adWriter *w = h5ad_writer_copy_of(argv[3], 0, argv[2]);
        int32_t *lab = xmalloc(n * sizeof *lab);
        float *conf = xmalloc(n * sizeof *conf), *e = xmalloc(2 * n * sizeof *e);
        for (size_t i = 0; i < n; i++) {
            lab[i] = i % 7 == 0 ? -1 : (int32_t)(i % 3);
            conf[i] = (float)(i % 10) / 10.0f;
            e[2 * i] = (float)i;
            e[2 * i + 1] = -(float)i;
        }
        h5ad_write_obs_categorical(w, "kida_label", lab, n, CLASSES, 3);
        h5ad_write_obs_f32(w, "kida_conf", conf, n);
        h5ad_write_obsm_f32(w, "X_kida", e, n, 2);
        h5ad_write_uns_strings(w, "kida/classes", CLASSES, 3);
        h5ad_writer_commit(w);
        free(lab);
        free(conf);
        free(e);
    } else if (argc >= 3 && !strcmp(argv[1], "--die-mid")) {
        H5adWriter *w = h5ad_writer_create(argv[2], 1);
        write_standard(w, 0);
        float bad[NO + 1] = {0};
        h5ad_write_obs_f32(w, "too_long", bad, NO + 1);   // FATAL: length differs from X
        h5ad_writer_commit(w);
    } else if (argc >= 3 && !strcmp(argv[1], "--crash-mid")) {
        H5adWriter *w = h5ad_writer_create(argv[2], 1);
        write_standard(w, 0);
        raise(SIGSEGV);
        h5ad_writer_commit(w);
    } else if (argc == 1) {
        in_process(&d);
        printf("test_h5ad_write: %d passed, %d failed\n", n_pass, n_fail);
        rc = n_fail ? 1 : 0;
    } else {
        fprintf(stderr, "usage: test_h5ad_write [--write|--write-dense PATH [--overwrite] | --copy SRC PATH | --annotate SRC PATH | "
                        "--die-mid PATH | --crash-mid PATH]\n");
        rc = 99;
    }
    dist_finalize(&d);
    return rc;
}
