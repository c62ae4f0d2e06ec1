// xvalues: see xvalues.h. The tests, on each sampled cell (its stored values y, after expm1 for
// the log1p test):
//   totals  every cell's sum of y within 1% of the median: normalize_total was applied to the
//           genes the file holds (scanpy, CellTypist: 1e4 after expm1);
//   unit    y / min(y) is a whole number for every value up to UNIT_MAX times the smallest: the
//           cell's size factor divides out, leaving its counts (the smallest count of a cell with
//           a few genes is almost always 1). This one also holds for an HVG subset of genes.
#include "io/xvalues.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "io/h5ad_impl.h"
#include "io/h5util.h"

#define UNIT_MAX 1000.0      // ratios tested against whole numbers up to this
#define UNIT_MIN_VALUES 5    // cells with fewer stored values say nothing about a unit
#define LOG_MAX 40.0         // log1p values never exceed this (e^40 ~ 2e17): above, not log data
#define BLOCKS 8

static double unlog(float x, double ln_base) { return ln_base > 0 ? expm1((double)x * ln_base) : (double)x; }

// Row k of m un-logged (ln_base 0: as stored): its sum, and whether every value is a whole
// multiple of the smallest (*unit gets the smallest; only rows with UNIT_MIN_VALUES values pass).
static int row_unit(const Csr *m, size_t r, double ln_base, double *sum, double *unit) {
    double s = 0, lo = INFINITY;
    size_t n = 0;
    for (int64_t k = m->indptr[r]; k < m->indptr[r + 1]; k++) {
        double y = unlog(m->data[k], ln_base);
        if (y <= 0) continue;
        s += y;
        n++;
        if (y < lo) lo = y;
    }
    *sum = s;
    *unit = n ? lo : 0;
    if (n < UNIT_MIN_VALUES) return 0;
    for (int64_t k = m->indptr[r]; k < m->indptr[r + 1]; k++) {
        double y = unlog(m->data[k], ln_base);
        if (y <= 0) continue;
        double q = y / lo;
        if (q > UNIT_MAX) continue;
        // float32 storage and the writer's float32 arithmetic: errors grow with the ratio
        if (fabs(q - rint(q)) > 2e-3 + 2e-5 * q) return 0;
    }
    return 1;
}

typedef struct {
    double *sums;
    size_t n_sums, n_tested, n_unit;
} Evidence;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void evidence_add(Evidence *e, const Csr *m, double ln_base) {
    e->sums = xrealloc(e->sums, (e->n_sums + m->n_rows + 1) * sizeof(double));
    for (size_t r = 0; r < m->n_rows; r++) {
        if (m->indptr[r + 1] == m->indptr[r]) continue;
        double s, u;
        int whole = row_unit(m, r, ln_base, &s, &u);
        if (s > 0) e->sums[e->n_sums++] = s;
        e->n_tested += m->indptr[r + 1] - m->indptr[r] >= UNIT_MIN_VALUES;
        e->n_unit += whole;
    }
}

// Median total, whether all totals are within 1% of it, the share of unit cells.
static void evidence_sum_up(Evidence *e, double *total, int *equal, double *share) {
    *total = 0;
    *equal = 0;
    *share = e->n_tested ? (double)e->n_unit / (double)e->n_tested : 0;
    if (e->n_sums) {
        qsort(e->sums, e->n_sums, sizeof(double), cmp_double);
        double med = e->sums[e->n_sums / 2];
        *total = med;
        *equal = e->n_sums >= 2 && fabs(e->sums[0] / med - 1) <= 0.01 && fabs(e->sums[e->n_sums - 1] / med - 1) <= 0.01;
    }
    free(e->sums);
    memset(e, 0, sizeof *e);
}

// uns/log1p present; its "base" when it is a number (scanpy writes None, or the base given).
static int uns_log1p(H5ad *h, double *base) {
    *base = M_E;
    if (h->kind == XK_10X || !h5u_exists(h->file, "uns/log1p")) return 0;
    if (h5u_obj_type(h->file, "uns/log1p/base") == H5O_TYPE_DATASET) {
        hid_t ds = h5u_open_dset(h->file, "uns/log1p/base", h->path, "re-write the file with anndata");
        H5T_class_t c = h5u_dtype_class(ds);
        hsize_t dims[8];
        int r = h5u_dset_dims(ds, dims, h->path, "uns/log1p/base");
        if ((c == H5T_FLOAT || c == H5T_INTEGER) && r == 0) {
            double b = 0;
            if (H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &b) >= 0 && isfinite(b) && b > 1) *base = b;
        }
        H5Dclose(ds);
    }
    return 1;
}

XValues xvalues_detect(H5ad *h) {
    XValues v = {.kind = XV_COUNTS, .log_base = M_E};
    v.uns_log1p = uns_log1p(h, &v.log_base);
    size_t N = h5ad_n_obs(h), blocks = N <= XVALUES_SAMPLE || h->kind == XK_CSC ? 1 : BLOCKS;
    size_t len = (N <= XVALUES_SAMPLE ? N : XVALUES_SAMPLE) / blocks;
    Csr *part = xcalloc(blocks, sizeof(Csr));
    int whole = 1, negative = 0;
    for (size_t b = 0; b < blocks; b++) {
        size_t start = blocks == 1 ? 0 : b * (N - len) / (blocks - 1);
        part[b] = h5ad_read_rows(h, start, len);
        const Csr *m = &part[b];
        for (size_t r = 0; r < m->n_rows; r++) {
            v.cells += m->indptr[r + 1] > m->indptr[r];
            for (int64_t k = m->indptr[r]; k < m->indptr[r + 1]; k++) {
                double x = m->data[k];
                if (x > v.max) v.max = x;
                if (x != rint(x)) whole = 0;
                if (x < 0 && !negative) {
                    negative = 1;
                    v.neg_row = m->row_start + r;
                    v.neg_col = m->indices[k];
                    v.neg_val = x;
                }
            }
        }
        v.values += csr_nnz(m);
    }
    if (negative) v.kind = XV_SCALED;
    else if (!whole) {
        double ln_base = log(v.log_base), t_log = 0, t_lin = 0, s_log = 0, s_lin = 0;
        int eq_log = 0, eq_lin = 0;
        Evidence e = {0};
        if (v.max * ln_base <= LOG_MAX) {
            for (size_t b = 0; b < blocks; b++) evidence_add(&e, &part[b], ln_base);
            evidence_sum_up(&e, &t_log, &eq_log, &s_log);
        }
        for (size_t b = 0; b < blocks; b++) evidence_add(&e, &part[b], 0);
        evidence_sum_up(&e, &t_lin, &eq_lin, &s_lin);
        int log_ev = eq_log || s_log >= 0.9, lin_ev = eq_lin || s_lin >= 0.9;
        if (log_ev && lin_ev) log_ev = s_log >= s_lin, lin_ev = !log_ev;   // both: the one that recovers counts
        if (v.uns_log1p || (log_ev && !lin_ev)) {
            v.kind = XV_LOG1P;
            v.total = t_log, v.totals_equal = eq_log, v.unit_share = s_log;
        } else if (lin_ev) {
            v.kind = XV_NORMALISED;
            v.total = t_lin, v.totals_equal = eq_lin, v.unit_share = s_lin;
        } else v.kind = XV_FRACTIONAL;
    }
    for (size_t b = 0; b < blocks; b++) csr_free(&part[b]);
    free(part);
    return v;
}

const char *xvalues_name(XValuesKind k) {
    switch (k) {
    case XV_COUNTS: return "integer counts";
    case XV_FRACTIONAL: return "non-integer counts";
    case XV_NORMALISED: return "normalised values (not logged)";
    case XV_LOG1P: return "log1p-normalised values";
    default: return "scaled values";
    }
}

const char *xvalues_describe(const XValues *v, char *buf, size_t n) {
    const char *name = xvalues_name(v->kind);
    switch (v->kind) {
    case XV_SCALED:
        snprintf(buf, n, "%s (negative, e.g. %g at row %zu, column %lld)", name, v->neg_val, v->neg_row, v->neg_col);
        break;
    case XV_FRACTIONAL:
        snprintf(buf, n, "%s (not whole numbers, no per-cell normalisation found; largest %g)", name, v->max);
        break;
    case XV_NORMALISED:
    case XV_LOG1P: {
        char why[256] = "";
        size_t used = 0;
        if (v->uns_log1p) used += (size_t)snprintf(why + used, sizeof why - used, "uns['log1p']; ");
        if (v->kind == XV_LOG1P && fabs(v->log_base - M_E) > 1e-12)
            used += (size_t)snprintf(why + used, sizeof why - used, "base %g; ", v->log_base);
        if (v->totals_equal)
            snprintf(why + used, sizeof why - used, "per-cell totals %.6g%s", v->total, v->kind == XV_LOG1P ? " after expm1" : "");
        else snprintf(why + used, sizeof why - used, "per-cell totals differ, a subset of the genes?");
        snprintf(buf, n, "%s (%s; counts recoverable in %.0f%% of %zu sampled cells)", name, why, 100 * v->unit_share, v->cells);
        break;
    }
    default: snprintf(buf, n, "%s", name);
    }
    return buf;
}

int xvalues_usable(const XValues *v) { return v->kind != XV_SCALED; }

size_t xvalues_to_counts(const XValues *v, Csr *rows) {
    if (v->kind != XV_LOG1P && v->kind != XV_NORMALISED) return 0;
    double ln_base = v->kind == XV_LOG1P ? log(v->log_base) : 0;
    size_t n_whole = 0;
    for (size_t r = 0; r < rows->n_rows; r++) {
        double s, unit;
        int whole = row_unit(rows, r, ln_base, &s, &unit);
        n_whole += whole;
        for (int64_t k = rows->indptr[r]; k < rows->indptr[r + 1]; k++) {
            double y = unlog(rows->data[k], ln_base);
            rows->data[k] = (float)(whole ? rint(y / unit) : y);
        }
    }
    return n_whole;
}
