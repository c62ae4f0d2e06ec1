// prep_dump: writes kida's preprocessing of a reference and a query to an HDF5 file for the scanpy
// cross-check (validation/scanpy_check.py, run by tests/prep/scanpy_check.sh).
//   prep_dump REF.h5ad QUERY.h5ad OUT.h5 [N_TOP_GENES]
// Rows are sharded over the ranks (any rank count gives the same file). OUT.h5 holds:
//   hvg_mean, hvg_var, hvg_disp_norm (n_vars, float64): the seurat-flavor moments and normalized
//     dispersions of every reference gene (means as scanpy's var["means"]: log1p of the mean)
//   ref_col (G, int32): the HVGs' reference columns; mean, std, zero (G, float32)
//   query_col (G, int32): the query column of each model gene, -1 if missing
//   query_x (n_query, G, float32): the preprocessed query, x̃ = zero + d
// Exit 0 on success; errors are FATAL (exit 1).
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "io/h5ad.h"
#include "io/h5util.h"
#include "mpi/dist.h"
#include "prep/genematch.h"
#include "prep/preprocess.h"

static void write_1d(hid_t f, const char *name, hid_t ftype, hid_t mtype, size_t n, const void *buf, const char *path) {
    hsize_t dims[1] = {n};
    h5u_close(h5u_write_dset(f, name, ftype, mtype, 1, dims, buf, path), path);
}

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    if (argc < 4) FATAL("usage: prep_dump REF.h5ad QUERY.h5ad OUT.h5 [N_TOP_GENES]", "missing arguments (got %d)", argc - 1);
    PrepOptions opt = prep_options_default();
    if (argc > 4) opt.n_top_genes = (size_t)strtoul(argv[4], NULL, 10);

    H5ad *ref = h5ad_open(argv[1], NULL, 0, &d);
    size_t start, count, n_vars = h5ad_n_vars(ref);
    dist_block(h5ad_n_obs(ref), d.rank, d.size, &start, &count);
    Csr rows = h5ad_read_rows(ref, start, count);
    char **var = h5ad_var_names(ref);
    double *hmean = xmalloc(n_vars * sizeof *hmean), *hvar = xmalloc(n_vars * sizeof *hvar);
    double *dnorm = xmalloc(n_vars * sizeof *dnorm);
    prep_hvg_moments(&rows, &opt, &d, hmean, hvar);
    unsigned char *hv = xmalloc(n_vars);
    prep_hvg_seurat(hmean, hvar, n_vars, opt.n_top_genes, 20, hv, dnorm);
    for (size_t c = 0; c < n_vars; c++) hmean[c] = log1p(hmean[c] == 0 ? 1e-12 : hmean[c]);
    double t0 = wall_time();
    PrepStats s = prep_fit(&rows, var, &opt, &d);
    log_info("prep_fit: %.3f s on %d rank(s)", wall_time() - t0, d.size);
    csr_free(&rows);

    H5ad *q = h5ad_open(argv[2], NULL, 0, &d);
    size_t nq = h5ad_n_obs(q), nqv = h5ad_n_vars(q);
    char **qvar = h5ad_var_names(q);
    MatchOptions mo = match_options_default();
    int32_t *map = genes_match(s.gene_names, s.G, qvar, nqv, &mo, argv[2], NULL);
    int32_t *qcol = xmalloc(s.G * sizeof *qcol);
    for (size_t g = 0; g < s.G; g++) qcol[g] = -1;
    for (size_t c = 0; c < nqv; c++)
        if (map[c] >= 0) qcol[map[c]] = (int32_t)c;
    dist_block(nq, d.rank, d.size, &start, &count);
    Csr qrows = h5ad_read_rows(q, start, count);
    Csr t = prep_transform(&s, &qrows, map);
    float *xl = xmalloc(count * s.G * sizeof *xl + 1);
    for (size_t r = 0; r < count; r++) {
        memcpy(xl + r * s.G, s.zero, s.G * sizeof *xl);
        for (int64_t k = t.indptr[r]; k < t.indptr[r + 1]; k++) xl[r * s.G + (size_t)t.indices[k]] += t.data[k];
    }
    float *xq = xmalloc(nq * s.G * sizeof *xq + 1);
    dist_allgatherv_f32(&d, xl, count * s.G, xq, NULL);

    if (d.rank == 0) {
        h5u_init();
        hid_t f = H5Fcreate(argv[3], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        if (f < 0) FATAL("check that the output directory exists and is writable", "cannot create '%s'", argv[3]);
        write_1d(f, "hvg_mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n_vars, hmean, argv[3]);
        write_1d(f, "hvg_var", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n_vars, hvar, argv[3]);
        write_1d(f, "hvg_disp_norm", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n_vars, dnorm, argv[3]);
        write_1d(f, "ref_col", H5T_STD_I32LE, H5T_NATIVE_INT32, s.G, s.ref_col, argv[3]);
        write_1d(f, "mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, s.G, s.mean, argv[3]);
        write_1d(f, "std", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, s.G, s.std, argv[3]);
        write_1d(f, "zero", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, s.G, s.zero, argv[3]);
        write_1d(f, "query_col", H5T_STD_I32LE, H5T_NATIVE_INT32, s.G, qcol, argv[3]);
        hsize_t dims[2] = {nq, s.G};
        h5u_close(h5u_write_dset(f, "query_x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, xq, argv[3]), argv[3]);
        if (H5Fclose(f) < 0) FATAL("check the disk", "cannot close '%s'", argv[3]);
        log_info("wrote %s: %zu HVGs, %zu query rows", argv[3], s.G, nq);
    }
    free(xl); free(xq); free(qcol); free(map); free(hmean); free(hvar); free(dnorm); free(hv);
    csr_free(&t); csr_free(&qrows);
    strv_free(qvar, nqv);
    strv_free(var, n_vars);
    prep_stats_free(&s);
    h5ad_close(q);
    h5ad_close(ref);
    dist_finalize(&d);
    return 0;
}
