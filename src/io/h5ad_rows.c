// h5ad_rows: the writer's row plan (see h5ad_wimpl.h): recording each rank's rows during the
// layout, and writing them, collectively and in bounded transfers, at commit.
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "io/h5ad_wimpl.h"
#include "io/h5util.h"

hid_t h5w_create_rows(H5adWriter *w, hid_t loc, const char *name, hid_t ft, int rank, const hsize_t *dims) {
    if (H5Lexists(loc, name, H5P_DEFAULT) > 0 && H5Ldelete(loc, name, H5P_DEFAULT) < 0) h5w_fail(w, "replacing", name);
    hid_t sp = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    // contiguous: each rank's rows are one byte range of the file; allocated now, so the ranks
    // only write into it; never filled, since every element is written
    H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    hid_t ds = sp < 0 ? -1 : H5Dcreate2(loc, name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) h5w_fail(w, "creating dataset", name);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return ds;
}

static RowOp *op_new(H5adWriter *w, const char *target, hid_t memtype, size_t dst0, size_t n, size_t cols) {
    if (w->n_ops == w->cap_ops) {
        w->cap_ops = w->cap_ops ? 2 * w->cap_ops : 16;
        w->ops = xrealloc(w->ops, w->cap_ops * sizeof *w->ops);
    }
    RowOp *o = &w->ops[w->n_ops++];
    memset(o, 0, sizeof *o);
    o->target = xstrdup(target);
    o->memtype = H5Tcopy(memtype);
    o->dst0 = dst0;
    o->n = n;
    o->cols = cols;
    return o;
}

void h5w_op_mem(H5adWriter *w, const char *target, hid_t memtype, void *buf, size_t dst0, size_t n, size_t cols) {
    RowOp *o = op_new(w, target, memtype, dst0, n, cols);
    o->buf = buf;
}

void h5w_op_copy(H5adWriter *w, const char *target, const char *src_path, const char *src_name, hid_t memtype,
                 size_t src0, size_t dst0, size_t n, size_t cols) {
    RowOp *o = op_new(w, target, memtype, dst0, n, cols);
    o->src_path = xstrdup(src_path);
    o->src_name = xstrdup(src_name);
    o->src0 = src0;
}

static void op_free(RowOp *o) {
    free(o->target);
    free(o->buf);
    free(o->src_path);
    free(o->src_name);
    if (o->memtype >= 0) H5Tclose(o->memtype);
    memset(o, 0, sizeof *o);
}

void h5w_free_ops(H5adWriter *w) {
    for (size_t i = 0; i < w->n_ops; i++) op_free(&w->ops[i]);
    free(w->ops);
    w->ops = NULL;
    w->n_ops = w->cap_ops = 0;
}

void h5w_drop(H5adWriter *w, const char *name) {
    if (w->meta && h5u_exists(w->file, name) && H5Ldelete(w->file, name, H5P_DEFAULT) < 0) h5w_fail(w, "replacing", name);
    size_t len = strlen(name), k = 0;
    for (size_t i = 0; i < w->n_ops; i++) {
        const char *t = w->ops[i].target;
        if (!strncmp(t, name, len) && (t[len] == '\0' || t[len] == '/')) op_free(&w->ops[i]);
        else w->ops[k++] = w->ops[i];
    }
    w->n_ops = k;
}

// A selection of rows [r0, r0 + k) of a (rows, cols) space, or of nothing when k is 0 (a rank
// with no rows left still joins the collective write).
static void select_rows(hid_t fsp, hid_t *msp, size_t r0, size_t k, size_t cols) {
    if (k == 0) {
        H5Sselect_none(fsp);
        hsize_t one = 1;
        *msp = H5Screate_simple(1, &one, NULL);
        H5Sselect_none(*msp);
        return;
    }
    hsize_t off[2] = {r0, 0}, cnt[2] = {k, cols}, m = (hsize_t)k * cols;
    H5Sselect_hyperslab(fsp, H5S_SELECT_SET, off, NULL, cnt, NULL);
    *msp = H5Screate_simple(1, &m, NULL);
}

// The source of the copies, kept open from one RowOp to the next.
typedef struct {
    char *path;
    hid_t file;
} Src;

static hid_t src_dset(Src *s, const RowOp *o) {
    if (!s->path || strcmp(s->path, o->src_path)) {
        if (s->path) H5Fclose(s->file);
        free(s->path);
        s->path = xstrdup(o->src_path);
        s->file = h5u_open_read(o->src_path, NULL);   // each rank reads its own rows independently
    }
    return h5u_open_dset(s->file, o->src_name, o->src_path,
                         "the source changed while kida was writing its output; rerun on an unchanged file");
}

// One RowOp: rounds of at most h5u_xfer_limit() elements; every rank takes part in as many rounds
// as the rank with the most rows of this op.
static double run_op(H5adWriter *w, hid_t file, hid_t dxpl, Src *src, const RowOp *o) {
    if (o->cols == 0) return 0;   // a matrix without columns has no elements (the same on every rank)
    hid_t ds = H5Dopen2(file, o->target, H5P_DEFAULT);
    if (ds < 0) h5w_fail(w, "opening for the rows", o->target);
    hid_t fsp = H5Dget_space(ds);
    size_t cols = o->cols, lim = h5u_xfer_limit(), per = lim / cols ? lim / cols : 1;
    size_t esz = H5Tget_size(o->memtype);
    int64_t rounds = (int64_t)((o->n + per - 1) / per);
    if (w->d && w->d->size > 1) MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &rounds, 1, MPI_INT64_T, MPI_MAX, w->d->comm));
    hid_t sds = o->src_path && o->n ? src_dset(src, o) : -1;
    char *stage = sds >= 0 ? xmalloc((o->n < per ? o->n : per) * cols * esz) : NULL;
    char dummy[16];
    for (int64_t r = 0; r < rounds; r++) {
        size_t lo = (size_t)r * per, k = lo < o->n ? (o->n - lo < per ? o->n - lo : per) : 0;
        const void *buf = dummy;
        if (k && sds >= 0) {
            hid_t ssp = H5Dget_space(sds), msp;
            select_rows(ssp, &msp, o->src0 + lo, k, cols);
            if (H5Dread(sds, o->memtype, msp, ssp, H5P_DEFAULT, stage) < 0) {
                char m[256];
                FATAL("the source file may be damaged; check it with `kida inspect`", "%s: reading '%s' rows [%zu, %zu) failed: %s",
                      o->src_path, o->src_name, o->src0 + lo, o->src0 + lo + k, h5u_errmsg(m, sizeof m));
            }
            H5Sclose(msp);
            H5Sclose(ssp);
            buf = stage;
        } else if (k) buf = (const char *)o->buf + lo * cols * esz;
        hid_t msp;
        select_rows(fsp, &msp, o->dst0 + lo, k, cols);
        if (H5Dwrite(ds, o->memtype, msp, fsp, dxpl, buf) < 0) h5w_fail(w, "writing rows of", o->target);
        H5Sclose(msp);
    }
    free(stage);
    if (sds >= 0) H5Dclose(sds);
    H5Sclose(fsp);
    H5Dclose(ds);
    return (double)o->n * (double)cols * (double)esz;
}

double h5w_run_ops(H5adWriter *w) {
    hid_t file = h5u_open_rw(w->tmp, w->d);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    const char *mode = getenv("KIDA_H5_XFER");   // "independent": each rank's transfers alone (for measurements)
    H5FD_mpio_xfer_t x = mode && !strcmp(mode, "independent") ? H5FD_MPIO_INDEPENDENT : H5FD_MPIO_COLLECTIVE;
    if (w->d && w->d->size > 1 && H5Pset_dxpl_mpio(dxpl, x) < 0) h5w_fail(w, "H5Pset_dxpl_mpio for", w->tmp);
    Src src = {0};
    double bytes = 0;
    for (size_t i = 0; i < w->n_ops; i++) bytes += run_op(w, file, dxpl, &src, &w->ops[i]);
    if (src.path) H5Fclose(src.file);
    free(src.path);
    H5Pclose(dxpl);
    if (H5Fclose(file) < 0) h5w_fail(w, "closing", w->tmp);
    h5w_free_ops(w);
    return bytes;
}
