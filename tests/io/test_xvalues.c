// test_xvalues: what X holds, told from fixture files written here with the HDF5 C API the way
// scanpy leaves them: counts, log1p(normalize_total(counts)) with and without uns['log1p'] (and
// with base 2), the same on a subset of the genes (HVGs: per-cell totals differ), normalised but
// not logged, scaled (negative), non-integer counts; CSR, CSC and dense. Log1p and normalised
// matrices must come back as the exact counts. Exit 0 pass, 1 fail.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "io/xvalues.h"
#include "tests/io/h5fix.h"

#include "tests/io/check.h"

#define NR 60
#define NC 40
#define NSUB 25   // the "HVG" columns: the first NSUB

static double COUNTS[NR * NC];

static uint64_t rng = 88172645463325252ull;
static double uniform(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

// Sparse counts: about 40% zeros, mostly small, a count of 1 in every cell (as real cells have).
static void make_counts(void) {
    for (size_t r = 0; r < NR; r++) {
        for (size_t j = 0; j < NC; j++) {
            double u = uniform();
            COUNTS[r * NC + j] = u < 0.4 ? 0 : floor(1 + 30 * pow(uniform(), 3));
        }
        COUNTS[r * NC + r % NSUB] = 1;
    }
}

// x -> log_base(1 + x * target / total) per row, in float32 as scanpy computes it; base 0: no log.
static void normalise(const double *in, double *out, size_t nc_total, size_t nc_keep, double target, double base) {
    for (size_t r = 0; r < NR; r++) {
        double tot = 0;
        for (size_t j = 0; j < nc_total; j++) tot += in[r * NC + j];
        for (size_t j = 0; j < nc_keep; j++) {
            float y = (float)(in[r * NC + j] * (float)(target / tot));
            out[r * nc_keep + j] = base ? (float)(log1pf(y) / (base == M_E ? 1.0f : logf((float)base))) : y;
        }
    }
}

typedef enum { NO_UNS, UNS_NONE, UNS_BASE2 } Uns;

static void write_file(const char *path, const double *m, size_t nc, int enc, Uns uns) {
    hid_t f = fx_create(path);
    if (enc == 2) fx_dense(f, "X", m, NR, nc, H5T_IEEE_F32LE);
    else fx_sparse(f, "X", m, NR, nc, enc, H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_STD_I64LE, 0, 0);
    if (uns != NO_UNS) {
        hid_t u = fx_group(f, "uns", "dict", "0.1.0");
        hid_t l = fx_group(u, "log1p", "dict", "0.1.0");
        if (uns == UNS_BASE2) {
            hid_t sp = H5Screate(H5S_SCALAR);
            hid_t ds = H5Dcreate2(l, "base", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            double two = 2;
            if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &two) < 0) exit(99);
            H5Dclose(ds);
            H5Sclose(sp);
        }
        H5Gclose(l);
        H5Gclose(u);
    }
    fx_close(f);
}

// Detects path's X; when the kind allows, turns every row back and compares with the counts.
static XValues check_file(const char *path, XValuesKind want, int want_exact, size_t nc) {
    H5ad *h = h5ad_open(path, NULL, 0, NULL);
    XValues v = xvalues_detect(h);
    char desc[512];
    CHECK(v.kind == want, "%s: got %s, want %s", path, xvalues_describe(&v, desc, sizeof desc), xvalues_name(want));
    CHECK(v.cells == NR, "%s: sampled %zu cells, want %d", path, v.cells, NR);
    if (want_exact) {
        Csr m = h5ad_read_rows(h, 0, NR);
        size_t whole = xvalues_to_counts(&v, &m);
        CHECK(whole == NR, "%s: %zu of %d cells came back as whole counts", path, whole, NR);
        size_t bad = 0;
        for (size_t r = 0; r < NR; r++)
            for (int64_t k = m.indptr[r]; k < m.indptr[r + 1]; k++)
                bad += m.data[k] != COUNTS[r * NC + m.indices[k]];
        CHECK(bad == 0, "%s: %zu values differ from the counts", path, bad);
        csr_free(&m);
    }
    h5ad_close(h);
    printf("%-40s %s\n", path + (strrchr(path, '/') ? strrchr(path, '/') - path + 1 : 0), xvalues_describe(&v, desc, sizeof desc));
    return v;
}

// More cells than XVALUES_SAMPLE: 8 blocks of 256 spread over the file are read; a scaled value in
// the last cell only (sampled: the last block ends at the last cell) is found.
static void test_sampled(const char *dir) {
    enum { BR = 3000, BC = 12 };
    static double big[BR * BC];
    for (size_t r = 0; r < BR; r++) {
        double tot = 0, c[BC];
        for (size_t j = 0; j < BC; j++) tot += c[j] = 1 + (double)((r * 7 + j * j * 3 + r * j) % 9);
        for (size_t j = 0; j < BC; j++) big[r * BC + j] = (float)log1pf((float)(c[j] * (float)(1e4 / tot)));
    }
    char p[256];
    snprintf(p, sizeof p, "%s/big_log1p.h5ad", dir);
    hid_t f = fx_create(p);
    fx_sparse(f, "X", big, BR, BC, FX_CSR, H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_STD_I64LE, 0, 0);
    fx_close(f);
    H5ad *h = h5ad_open(p, NULL, 0, NULL);
    XValues v = xvalues_detect(h);
    h5ad_close(h);
    CHECK(v.kind == XV_LOG1P && v.cells == XVALUES_SAMPLE, "%s: kind %s, %zu cells sampled (want log1p, %d)", p,
          xvalues_name(v.kind), v.cells, XVALUES_SAMPLE);
    big[BR * BC - 1] = -0.5;
    snprintf(p, sizeof p, "%s/big_scaled_last.h5ad", dir);
    f = fx_create(p);
    fx_sparse(f, "X", big, BR, BC, FX_CSR, H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_STD_I64LE, 0, 0);
    fx_close(f);
    h = h5ad_open(p, NULL, 0, NULL);
    v = xvalues_detect(h);
    h5ad_close(h);
    CHECK(v.kind == XV_SCALED && v.neg_row == BR - 1, "%s: kind %s, negative row %zu (want scaled, %d)", p,
          xvalues_name(v.kind), v.neg_row, BR - 1);
}

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    char dir[] = "/tmp/kida-xvalues.XXXXXX";
    if (!mkdtemp(dir)) return 99;
    make_counts();
    static double lg[NR * NC], sub[NR * NSUB], lin[NR * NC], lg2[NR * NC], scaled[NR * NC], frac[NR * NC];
    normalise(COUNTS, lg, NC, NC, 1e4, M_E);
    normalise(COUNTS, sub, NC, NSUB, 1e4, M_E);
    normalise(COUNTS, lin, NC, NC, 1e4, 0);
    normalise(COUNTS, lg2, NC, NC, 1e4, 2);
    for (size_t i = 0; i < NR * NC; i++) {
        scaled[i] = lg[i] ? (lg[i] - 6.0) / 2.0 : -1.0;   // sc.pp.scale: dense, centred
        frac[i] = COUNTS[i] ? COUNTS[i] + 0.1 + 0.8 * uniform() : 0;   // EM-style fractional counts
    }
    for (int enc = 0; enc < 3; enc++) {   // CSR, CSC, dense
        const char *e = enc == 0 ? "csr" : enc == 1 ? "csc" : "dense";
        char p[256];
        snprintf(p, sizeof p, "%s/counts_%s.h5ad", dir, e);
        write_file(p, COUNTS, NC, enc, NO_UNS);
        check_file(p, XV_COUNTS, 0, NC);
        snprintf(p, sizeof p, "%s/log1p_%s.h5ad", dir, e);
        write_file(p, lg, NC, enc, UNS_NONE);
        XValues v = check_file(p, XV_LOG1P, 1, NC);
        CHECK(v.uns_log1p && v.totals_equal && fabs(v.total - 1e4) < 1, "%s: uns %d, totals equal %d, total %g", p,
              v.uns_log1p, v.totals_equal, v.total);
    }
    char p[256];
    snprintf(p, sizeof p, "%s/log1p_no_uns.h5ad", dir);   // uns dropped (e.g. written by another tool)
    write_file(p, lg, NC, 0, NO_UNS);
    XValues v = check_file(p, XV_LOG1P, 1, NC);
    CHECK(!v.uns_log1p && v.unit_share == 1.0, "%s: unit share %g", p, v.unit_share);
    snprintf(p, sizeof p, "%s/log1p_hvg_no_uns.h5ad", dir);   // a subset of the genes: totals differ
    write_file(p, sub, NSUB, 0, NO_UNS);
    v = check_file(p, XV_LOG1P, 1, NSUB);
    CHECK(!v.totals_equal, "%s: totals of a gene subset reported equal", p);
    snprintf(p, sizeof p, "%s/log2.h5ad", dir);
    write_file(p, lg2, NC, 0, UNS_BASE2);
    v = check_file(p, XV_LOG1P, 1, NC);
    CHECK(v.log_base == 2, "%s: base %g, want 2", p, v.log_base);
    snprintf(p, sizeof p, "%s/normalised.h5ad", dir);
    write_file(p, lin, NC, 0, NO_UNS);
    check_file(p, XV_NORMALISED, 1, NC);
    snprintf(p, sizeof p, "%s/scaled.h5ad", dir);
    write_file(p, scaled, NC, 0, UNS_NONE);
    v = check_file(p, XV_SCALED, 0, NC);
    CHECK(v.neg_val < 0, "%s: no negative value reported", p);
    snprintf(p, sizeof p, "%s/fractional.h5ad", dir);
    write_file(p, frac, NC, 0, NO_UNS);
    check_file(p, XV_FRACTIONAL, 0, NC);
    test_sampled(dir);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    printf("test_xvalues: %d passed, %d failed\n", n_pass, n_fail);
    dist_finalize(&d);
    return n_fail ? 1 : 0;
}
