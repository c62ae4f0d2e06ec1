// io_driver: reads an expression file the way kida's pipeline does, for shell tests of the io
// layer (bad inputs, 1 vs N ranks). Each rank reads its block of rows.
//   io_driver [--layer L] [--gene-ids] [--counts] [--label KEY] [--obsm KEY] [--inspect] FILE
// Prints (rank 0): shape, encoding, dtype, nnz read, sum of values, and label counts.
// Exit 0 on success; input errors are FATAL (exit 1) from the library.
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "io/h5ad.h"
#include "io/inspect.h"
#include "mpi/dist.h"

int main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    const char *layer = NULL, *label = NULL, *obsm = NULL, *file = NULL;
    int gene_ids = 0, counts = 0, insp = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--layer") && i + 1 < argc) layer = argv[++i];
        else if (!strcmp(argv[i], "--label") && i + 1 < argc) label = argv[++i];
        else if (!strcmp(argv[i], "--obsm") && i + 1 < argc) obsm = argv[++i];
        else if (!strcmp(argv[i], "--gene-ids")) gene_ids = 1;
        else if (!strcmp(argv[i], "--counts")) counts = 1;
        else if (!strcmp(argv[i], "--inspect")) insp = 1;
        else if (argv[i][0] != '-') file = argv[i];
        else {
            fprintf(stderr, "io_driver: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: io_driver [--layer L] [--gene-ids] [--counts] [--label KEY] [--obsm KEY] [--inspect] FILE\n");
        return 2;
    }
    if (insp) {
        if (d.rank == 0) inspect_print(file, layer, stdout);
        dist_finalize(&d);
        return 0;
    }
    H5ad *h = h5ad_open(file, layer, gene_ids, &d);
    size_t start, count;
    dist_block(h5ad_n_obs(h), d.rank, d.size, &start, &count);
    Csr m = h5ad_read_rows(h, start, count);
    if (counts) h5ad_require_counts(h, &m);
    double sum[2] = {0, (double)csr_nnz(&m)};
    for (size_t k = 0; k < csr_nnz(&m); k++) sum[0] += m.data[k];
    dist_allreduce_sum_f64(&d, sum, 2);
    if (d.rank == 0) {
        printf("shape %zu %zu\nencoding %s\ndtype %s\nnnz %.0f\nsum %.6f\n", h5ad_n_obs(h), h5ad_n_vars(h),
               h5ad_x_encoding(h), h5ad_x_dtype(h), sum[1], sum[0]);
    }
    if (label) {
        char **cats = NULL;
        size_t nc = 0;
        int32_t *codes = h5ad_obs_labels(h, label, start, count, &cats, &nc);
        double *cnt = xcalloc(nc + 1, sizeof *cnt);
        for (size_t i = 0; i < count; i++) cnt[codes[i] < 0 ? nc : (size_t)codes[i]] += 1;
        dist_allreduce_sum_f64(&d, cnt, nc + 1);
        if (d.rank == 0) {
            for (size_t k = 0; k < nc; k++) printf("label %s %.0f\n", cats[k], cnt[k]);
            printf("label NA %.0f\n", cnt[nc]);
        }
        free(cnt);
        free(codes);
        strv_free(cats, nc);
    }
    if (obsm) {
        size_t cols = 0;
        float *e = h5ad_obsm(h, obsm, start, count, &cols);
        double s = 0;
        for (size_t i = 0; e && i < count * cols; i++) s += e[i];
        dist_allreduce_sum_f64(&d, &s, 1);
        if (d.rank == 0) printf("obsm %s cols %zu sum %.6f\n", obsm, cols, s);
        free(e);
    }
    csr_free(&m);
    h5ad_close(h);
    dist_finalize(&d);
    return 0;
}
