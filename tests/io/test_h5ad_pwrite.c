// test_h5ad_pwrite: the parallel writer. Run by tests/io/pwrite.sh under mpiexec at 1..4 ranks,
// each rank taking an uneven block of rows (a rank with none at 3 and 4 ranks, rank 0 included
// at 3), so that h5diff can compare every rank count's files with the 1-rank ones:
//   --fixture SRC        (one process) a source .h5ad of NR cells: X CSR with int32 values and
//                        int64 indptr, layers/counts dense float64, raw/X CSR float32 with
//                        raw/var, obsm/spatial (NR x 2, float64), obs names and a column, uns
//   --write SRC OUT      OUT.copy.h5ad: a copy of SRC by rows plus obs and obsm columns of
//                        every kind; OUT.list.h5ad: a new file of SRC's cells twice (2 NR rows):
//                        a generated CSR X, names, a categorical, obsm/spatial copied from both
//   --die SRC OUT R      as --write, but rank R stops with a FATAL before the commit
// Values depend only on the global row, so every split of the rows gives the same files.
// Exit 0 written, 1 FATAL, 99 usage.
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "io/h5ad.h"
#include "mpi/dist.h"
#include "tests/io/h5fix.h"

#define NR 23
#define NC 5

static double cell(size_t i, size_t j) { return (i * 7 + j * 3) % 4 == 0 ? (double)(i + 10 * j + 1) : 0.0; }

static void fixture(const char *path) {
    double m[NR * NC], sp[NR * 2];
    for (size_t i = 0; i < NR; i++) {
        for (size_t j = 0; j < NC; j++) m[i * NC + j] = cell(i, j);
        sp[2 * i] = (double)i * 0.5;
        sp[2 * i + 1] = -(double)i;
    }
    hid_t f = fx_create(path);
    fx_sparse(f, "X", m, NR, NC, FX_CSR, H5T_STD_I32LE, H5T_STD_I32LE, H5T_STD_I64LE, 0, 0);
    hid_t l = fx_group(f, "layers", "dict", "0.1.0");
    fx_dense(l, "counts", m, NR, NC, H5T_IEEE_F64LE);
    H5Gclose(l);
    const char *obs[NR], *var[NC] = {"g0", "g1", "g2", "g3", "g4"}, *cols[] = {"depth"};
    char names[NR][16];
    double depth[NR];
    for (size_t i = 0; i < NR; i++) {
        snprintf(names[i], sizeof names[i], "cell%zu", i);
        obs[i] = names[i];
        depth[i] = (double)(i % 5);
    }
    hid_t r = fx_group(f, "raw", "raw", "0.1.0");
    fx_sparse(r, "X", m, NR, NC, FX_CSR, H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_STD_I32LE, 0, 0);
    H5Gclose(fx_dataframe(r, "var", var, NC, NULL, 0));
    H5Gclose(r);
    hid_t o = fx_dataframe(f, "obs", obs, NR, cols, 1);
    fx_f64(o, "depth", depth, NR, H5T_IEEE_F64LE);
    H5Gclose(o);
    H5Gclose(fx_dataframe(f, "var", var, NC, NULL, 0));
    hid_t om = fx_group(f, "obsm", "dict", "0.1.0");
    fx_dense(om, "spatial", sp, NR, 2, H5T_IEEE_F64LE);
    H5Gclose(om);
    hid_t u = fx_group(f, "uns", "dict", "0.1.0");
    const char *title[] = {"fixture"};
    fx_strings(u, "title", title, 1, 0);
    H5Gclose(u);
    fx_close(f);
}

// This rank's uneven share of n rows (weights per rank count; zero for a rank at 3 and 4 ranks).
static void block(size_t n, const Dist *d, size_t *start, size_t *count) {
    static const int w1[] = {1}, w2[] = {2, 1}, w3[] = {0, 3, 2}, w4[] = {1, 0, 3, 2};
    const int *w = d->size == 1 ? w1 : d->size == 2 ? w2 : d->size == 3 ? w3 : w4;
    if (d->size > 4) FATAL("run at 1 to 4 ranks", "test_h5ad_pwrite: %d ranks", d->size);
    int sum = 0, before = 0;
    for (int r = 0; r < d->size; r++) sum += w[r];
    for (int r = 0; r < d->rank; r++) before += w[r];
    *start = n * (size_t)before / (size_t)sum;
    *count = n * (size_t)(before + w[d->rank]) / (size_t)sum - *start;
}

static char *CATS[3] = {"alpha", "beta", "gamma"};

// The copy of src with this rank's rows of new columns.
static void write_copy(const char *src, const char *out, const Dist *d, int die) {
    size_t s, n;
    block(NR, d, &s, &n);
    H5adWriter *w = h5ad_writer_copy_rows_of(out, 1, src, d, n);
    float *f = xmalloc((n + 1) * sizeof *f), *e = xmalloc((n + 1) * 3 * sizeof *e), *big = xmalloc((n + 1) * 4 * sizeof *big);
    int32_t *c = xmalloc((n + 1) * sizeof *c), *iv = xmalloc((n + 1) * sizeof *iv);
    uint8_t *b = xmalloc(n + 1);
    for (size_t k = 0; k < n; k++) {
        size_t i = s + k;
        f[k] = (float)i / 8.0f;
        iv[k] = (int32_t)(i * i) - 100;
        b[k] = i % 3 == 0;
        c[k] = i % 4 == 3 ? -1 : (int32_t)(i % 3);
        for (size_t j = 0; j < 3; j++) e[3 * k + j] = (float)(i * 3 + j);
        for (size_t j = 0; j < 4; j++) big[4 * k + j] = -(float)(i * 4 + j);
    }
    h5ad_write_obs_f32(w, "kida_conf", f, n);
    h5ad_write_obs_i32(w, "kida_count", iv, n);
    h5ad_write_obs_bool(w, "kida_flag", b, n);
    h5ad_write_obs_categorical(w, "kida_label", c, n, CATS, 3);
    h5ad_write_obs_f32(w, "depth", f, n);   // replaces the copied column
    h5ad_write_obsm_f32(w, "X_kida", e, n, 3);
    h5ad_write_obsm_f32_take(w, "kida_proba", &big, n, 4);
    h5ad_write_uns_strings(w, "kida/classes", CATS, 3);
    free(f); free(e); free(c); free(iv); free(b);   // the writer keeps its own copies
    if (die && d->rank == die - 1) FATAL("(expected by the test)", "rank %d stops before the commit", d->rank);
    h5ad_writer_commit(w);
}

// A new file of src's cells twice (rows of a list of two files), X generated by every rank.
static void write_list(const char *src, const char *out, const Dist *d) {
    size_t s, n, N = 2 * NR;
    block(N, d, &s, &n);
    H5adWriter *w = h5ad_writer_create_rows(out, 1, d, n);
    size_t nnz = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < NC; j++) nnz += cell((s + k) % NR, j) != 0;
    Csr x = csr_alloc(n, NC, nnz);
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        for (size_t j = 0; j < NC; j++) {
            double v = cell((s + k) % NR, j);
            if (v != 0) x.indices[at] = (int32_t)j, x.data[at++] = (float)v;
        }
        x.indptr[k + 1] = (int64_t)at;
    }
    h5ad_write_X_csr_take(w, &x);
    char *var[NC] = {"g0", "g1", "g2", "g3", "g4"};
    h5ad_write_var_names(w, var, NC);
    char **names = xmalloc(N * sizeof *names);
    for (size_t i = 0; i < N; i++) {
        names[i] = xmalloc(24);
        snprintf(names[i], 24, "cell%zu-%zu", i % NR, i / NR);
    }
    h5ad_write_obs_names(w, names, d->rank == 0 ? N : 0);
    strv_free(names, N);
    int32_t *c = xmalloc((n + 1) * sizeof *c);
    for (size_t k = 0; k < n; k++) c[k] = (int32_t)((s + k) / NR);
    char *files[2] = {(char *)src, (char *)src};
    h5ad_write_obs_categorical(w, "kida_source", c, n, CATS, 2);
    free(c);
    size_t first[3] = {0, NR, 2 * NR};
    if (!h5ad_write_obsm_copy(w, "spatial", files, first, 2)) FATAL("a bug", "obsm spatial not copied");
    h5ad_writer_commit(w);
}

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    char a[4096], b[4096];
    if (argc == 3 && !strcmp(argv[1], "--fixture")) {
        if (d.rank == 0) fixture(argv[2]);
    } else if ((argc == 4 && !strcmp(argv[1], "--write")) || (argc == 5 && !strcmp(argv[1], "--die"))) {
        snprintf(a, sizeof a, "%s.copy.h5ad", argv[3]);
        snprintf(b, sizeof b, "%s.list.h5ad", argv[3]);
        write_copy(argv[2], a, &d, argc == 5 ? atoi(argv[4]) + 1 : 0);
        write_list(argv[2], b, &d);
    } else {
        if (d.rank == 0) fprintf(stderr, "usage: test_h5ad_pwrite --fixture SRC | --write SRC OUT | --die SRC OUT RANK\n");
        dist_finalize(&d);
        return 99;
    }
    dist_finalize(&d);
    return 0;
}
