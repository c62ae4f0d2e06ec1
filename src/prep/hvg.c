// hvg: scanpy's highly_variable_genes(flavor="seurat", n_top_genes) on per-gene moments.
// Mirrors scanpy 1.11 (_highly_variable_genes_single_batch) and the pandas routines it uses, step
// by step, so that the chosen genes agree except where two normalized dispersions at the cutoff
// differ in the last bits:
//   mean[mean == 0] = 1e-12; dispersion = var / mean; dispersion[== 0] = NaN; log(dispersion);
//   mean = log1p(mean)
//   pandas.cut(mean, 20): np.linspace(min, max, 21) edges, the first lowered by 0.1% of the range,
//   right-closed intervals (min == max: both ends moved by 0.1% first)
//   per bin: pandas groupby mean (Kahan-compensated sum) and std (Welford, ddof=1), skipping NaN;
//   a bin whose std is NaN (one non-NaN gene) gets avg = 0, dev = its mean, so a lone gene's
//   normalized dispersion is exactly 1
//   chosen: nan_to_num(norm, nan=-inf) >= the n_top-th highest non-NaN norm (ties all kept)
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "core/log.h"
#include "prep/preprocess.h"

static int hvg_cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

size_t prep_hvg_seurat(const double *mean, const double *var, size_t n, size_t n_top, size_t n_bins,
                       unsigned char *is_hvg, double *disp_norm_out) {
    if (n == 0 || n_bins == 0) FATAL("a bug in kida", "prep_hvg_seurat: %zu genes, %zu bins", n, n_bins);
#define HVG_WHAT "highly variable genes: dispersions of %zu genes in %zu bins", n, n_bins
    double *lmean = xcalloc_for(n, sizeof *lmean, HVG_WHAT), *disp = xcalloc_for(n, sizeof *disp, HVG_WHAT);
    double *norm = disp_norm_out ? disp_norm_out : xcalloc_for(n, sizeof *norm, HVG_WHAT);
    for (size_t g = 0; g < n; g++) {
        double m = mean[g] == 0 ? 1e-12 : mean[g];
        double d = var[g] / m;
        disp[g] = d == 0 ? NAN : log(d);   // log of a negative (round-off) variance is NaN too
        lmean[g] = log1p(m);
    }
    // pandas.cut(lmean, bins=n_bins), right-closed
    double mn = lmean[0], mx = lmean[0];
    for (size_t g = 1; g < n; g++) {
        if (lmean[g] < mn) mn = lmean[g];
        if (lmean[g] > mx) mx = lmean[g];
    }
    double *edge = xcalloc_for(szadd(n_bins, 1), sizeof *edge, HVG_WHAT);
    int same = mn == mx;
    if (same) {
        mn -= mn != 0 ? 0.001 * fabs(mn) : 0.001;
        mx += mx != 0 ? 0.001 * fabs(mx) : 0.001;
    }
    double step = (mx - mn) / (double)n_bins;   // np.linspace: i * step + start, last = stop
    for (size_t i = 0; i <= n_bins; i++) {
        volatile double t = (double)i * step;   // two roundings, as numpy (no fused multiply-add)
        edge[i] = t + mn;
    }
    edge[n_bins] = mx;
    if (!same) edge[0] -= (mx - mn) * 0.001;
    size_t *bin = xcalloc_for(n, sizeof *bin, HVG_WHAT);
    for (size_t g = 0; g < n; g++) {
        // searchsorted(edge, x, side="left") - 1: the first edge >= x closes the bin
        size_t lo = 0, hi = n_bins + 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (edge[mid] < lmean[g]) lo = mid + 1; else hi = mid;
        }
        bin[g] = lo - 1;   // lo >= 1: edge[0] < every mean <= edge[n_bins]
    }
    // per-bin mean (Kahan) and variance (Welford), in gene order, NaN skipped
    double *sum = xcalloc_for(n_bins, sizeof *sum, HVG_WHAT), *comp = xcalloc_for(n_bins, sizeof *comp, HVG_WHAT);
    double *wmean = xcalloc_for(n_bins, sizeof *wmean, HVG_WHAT), *m2 = xcalloc_for(n_bins, sizeof *m2, HVG_WHAT);
    size_t *cnt = xcalloc_for(n_bins, sizeof *cnt, HVG_WHAT);
    for (size_t g = 0; g < n; g++) {
        double v = disp[g];
        if (isnan(v)) continue;
        size_t b = bin[g];
        cnt[b]++;
        volatile double y = v - comp[b];
        volatile double t = sum[b] + y;
        comp[b] = (t - sum[b]) - y;
        if (isnan(comp[b])) comp[b] = 0;
        sum[b] = t;
        double old = wmean[b];
        wmean[b] += (v - old) / (double)cnt[b];
        m2[b] += (v - wmean[b]) * (v - old);
    }
    double *avg = xcalloc_for(n_bins, sizeof *avg, HVG_WHAT), *dev = xcalloc_for(n_bins, sizeof *dev, HVG_WHAT);
    for (size_t b = 0; b < n_bins; b++) {
        avg[b] = cnt[b] ? sum[b] / (double)cnt[b] : NAN;
        dev[b] = cnt[b] > 1 ? sqrt(m2[b] / (double)(cnt[b] - 1)) : NAN;
        if (isnan(dev[b])) {   // scanpy: a single gene in the bin -> normalized dispersion 1
            dev[b] = avg[b];
            avg[b] = 0;
        }
    }
    size_t n_valid = 0;
    double *sorted = xcalloc_for(n, sizeof *sorted, HVG_WHAT);
#undef HVG_WHAT
    for (size_t g = 0; g < n; g++) {
        norm[g] = (disp[g] - avg[bin[g]]) / dev[bin[g]];
        if (!isnan(norm[g])) sorted[n_valid++] = norm[g];
    }
    if (n_valid == 0)
        FATAL("the reference needs cells with varying expression; check that X holds counts",
              "no gene has a finite normalized dispersion (got 0 of %zu genes)", n);
    if (n_top > n) n_top = n;
    if (n_top > n_valid) {
        log_warn("highly variable genes: %zu asked, only %zu genes have a normalized dispersion; keeping those",
                 n_top, n_valid);
        n_top = n_valid;
    }
    qsort(sorted, n_valid, sizeof *sorted, hvg_cmp_desc);
    double cut = sorted[n_top - 1];
    size_t chosen = 0;
    for (size_t g = 0; g < n; g++) {
        double v = norm[g];   // np.nan_to_num(norm, nan=-inf)
        if (isnan(v)) v = -INFINITY;
        else if (v == INFINITY) v = DBL_MAX;
        else if (v == -INFINITY) v = -DBL_MAX;
        is_hvg[g] = v >= cut;
        chosen += is_hvg[g];
    }
    free(lmean); free(disp); free(edge); free(bin); free(sum); free(comp); free(wmean); free(m2);
    free(cnt); free(avg); free(dev); free(sorted);
    if (!disp_norm_out) free(norm);
    return chosen;
}
