// h5ad_copy: a writer's copies of an existing file's parts. Per-cell matrices (X and the layers as
// CSR groups or dense arrays, raw/X, obsm arrays) are copied row by row by the ranks, each its own
// rows, with the stored types and attributes of the source; everything else (obs with its
// names, var, uns, obsp, ...) is copied whole by rank 0 with H5Ocopy, which moves bytes through a
// bounded buffer. A CSC X, whose stored order is by gene, is copied whole too.
#include <string.h>

#include "core/atomic.h"
#include "core/log.h"
#include "io/h5ad_impl.h"
#include "io/h5ad_wimpl.h"
#include "io/h5util.h"

#define HINT_SOURCE "the source file may be damaged; check it with `kida inspect`"

// Checks attribute name of obj as the readers check theirs before H5Aread fills a buffer: its
// element count against the bytes the file stores, its variable-length strings against their
// heap (libhdf5 1.10 can hang or crash on a damaged one). FATAL names file, object, attribute.
static void check_attr(hid_t obj, const char *name) {
    int np = h5u_attr_points(obj, name, H5U_MAX_ATTR_POINTS);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = a < 0 ? -1 : H5Aget_type(a);
    if (np > 0 && t >= 0 && (H5Tis_variable_str(t) > 0 || H5Tget_class(t) == H5T_VLEN))
        h5u_vlen_attr_precheck(obj, name, (size_t)np);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
}

typedef struct {
    char **v;
    size_t n;
} Names;

static herr_t attr_name_cb(hid_t obj, const char *name, const H5A_info_t *info, void *data) {
    (void)obj;
    (void)info;
    Names *a = data;
    if ((a->n & (a->n - 1)) == 0) a->v = xrealloc(a->v, szmul(a->n ? 2 * a->n : 1, sizeof *a->v));   // at powers of 2
    a->v[a->n++] = xstrdup(name);
    return 0;
}

// check_attr for every attribute of obj (named first, checked after the iteration: a FATAL never
// leaves a libhdf5 callback). source and name say which object for an error listing them.
static void check_attrs(hid_t obj, const char *source, const char *name) {
    Names a = {NULL, 0};
    hsize_t idx = 0;
    if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_name_cb, &a) < 0) {
        char m[256];
        FATAL(HINT_SOURCE, "%s: cannot list the attributes of '%s': %s", source, name, h5u_errmsg(m, sizeof m));
    }
    for (size_t i = 0; i < a.n; i++) check_attr(obj, a.v[i]);
    strv_free(a.v, a.n);
}

static herr_t copy_attr(hid_t src, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    hid_t dst = *(hid_t *)data;
    hid_t a = H5Aopen(src, name, H5P_DEFAULT), t = H5Aget_type(a), sp = H5Aget_space(a);
    hid_t mt = H5Tget_native_type(t, H5T_DIR_DEFAULT);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    size_t bytes = szmul((size_t)(n > 0 ? n : 1), H5Tget_size(mt));
    void *buf = xmalloc_for(bytes, "attribute '%s' of the source", name);
    memset(buf, 0, bytes);
    herr_t rc = a < 0 || mt < 0 || H5Aread(a, mt, buf) < 0 ? -1 : 0;
    if (rc == 0) {
        if (H5Aexists(dst, name) > 0) H5Adelete(dst, name);
        hid_t b = H5Acreate2(dst, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
        rc = b < 0 || H5Awrite(b, mt, buf) < 0 ? -1 : 0;
        if (b >= 0) H5Aclose(b);
        if (H5Tdetect_class(mt, H5T_VLEN) > 0 || H5Tis_variable_str(mt) > 0) H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, buf);
    }
    free(buf);
    H5Tclose(mt);
    H5Tclose(t);
    H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

// The attributes of src_name in sf onto the writer's dst (an object of the meta rank's file).
static void copy_attrs(H5adWriter *w, hid_t sf, const char *src_name, hid_t dst) {
    hid_t o = H5Oopen(sf, src_name, H5P_DEFAULT);
    char source[4096] = "the source";
    H5Fget_name(sf, source, sizeof source);
    if (o >= 0) check_attrs(o, source, src_name);   // before copy_attr's H5Aread
    hsize_t idx = 0;
    if (o < 0 || H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, copy_attr, &dst) < 0) h5w_fail(w, "copying the attributes of", src_name);
    H5Oclose(o);
}

// The meta rank: src_name of sf copied whole to the same name.
static void copy_whole(H5adWriter *w, hid_t sf, const char *source, const char *name) {
    if (!w->meta) return;
    hid_t ocpy = H5Pcreate(H5P_OBJECT_COPY);
    H5Pset_copy_object(ocpy, H5O_COPY_EXPAND_REFERENCE_FLAG);
    if (H5Ocopy(sf, name, w->file, name, ocpy, H5P_DEFAULT) < 0) {
        char m[256];
        FATAL(HINT_SOURCE, "copying '%s' from %s into %s failed: %s", name, source, w->tmp, h5u_errmsg(m, sizeof m));
    }
    H5Pclose(ocpy);
}

// A new group name on the meta rank with the attributes of src_group in sf.
static void group_like(H5adWriter *w, hid_t sf, const char *src_group, const char *name) {
    if (!w->meta) return;
    hid_t g = H5Gcreate2(w->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) h5w_fail(w, "creating group", name);
    if (src_group) copy_attrs(w, sf, src_group, g);
    H5Gclose(g);
}

// The dataset's stored type (a new id), rank, first dimension and elements per row; 0 when it is
// not a 1-D or 2-D array of fixed-size numbers (or booleans).
static int array_shape(hid_t sf, const char *source, const char *name, hid_t *type, int *rank, size_t *rows,
                       size_t *cols) {
    if (h5u_obj_type(sf, name) != H5O_TYPE_DATASET) return 0;
    hid_t ds = H5Dopen2(sf, name, H5P_DEFAULT);
    if (ds < 0) return 0;
    h5u_check_dset_storage(ds, source, name);   // the rows copied are stored, not fill values
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    hsize_t dims[8];
    int r = H5Sget_simple_extent_ndims(sp);
    H5T_class_t c = H5Tget_class(t);
    int ok = (r == 1 || r == 2) && (c == H5T_INTEGER || c == H5T_FLOAT || (c == H5T_ENUM && h5u_type_is_bool(t)));
    if (ok) {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        *rows = dims[0];
        *cols = r == 2 ? dims[1] : 1;
        *type = t;
        *rank = r;
    } else H5Tclose(t);
    H5Sclose(sp);
    H5Dclose(ds);
    return ok;
}

// Rows [src0, src0 + n) of array src_name in sf (a file of rows_total rows) to this rank's rows
// at dst0 of target, which the meta rank creates with the source's type, attributes and width
// and dst_rows rows. 0 (nothing done) when src_name is not such an array.
static int copy_array(H5adWriter *w, hid_t sf, const char *source, const char *src_name, const char *target,
                      size_t dst_rows, size_t src0, size_t dst0, size_t n, size_t rows_total) {
    hid_t t;
    int rank;
    size_t rows, cols;
    if (!array_shape(sf, source, src_name, &t, &rank, &rows, &cols)) return 0;
    if (rows != rows_total) {
        H5Tclose(t);
        return 0;
    }
    if (w->meta) {
        hsize_t dims[2] = {dst_rows, cols};
        hid_t out = h5w_create_rows(w, w->file, target, t, rank, dims);
        copy_attrs(w, sf, src_name, out);
        H5Dclose(out);
    }
    hid_t mt = H5Tget_native_type(t, H5T_DIR_DEFAULT);
    h5w_op_copy(w, target, source, src_name, mt, src0, dst0, n, cols);
    H5Tclose(mt);
    H5Tclose(t);
    return 1;
}

// A CSR matrix of the source: group target with the attributes of src_group (or, when NULL, the
// csr_matrix encoding and shape n_obs x n_vars), and this rank's stretch of data, indices and
// indptr copied. The source holds the same rows in the same order, so indptr is copied as is.
static void copy_csr(H5adWriter *w, hid_t sf, const char *source, const char *src_group, const char *names[3],
                     const char *target, size_t n_vars) {
    hid_t ip = h5u_open_dset(sf, names[2], source, HINT_SOURCE);
    size_t np = h5u_dset_len(ip, source, names[2]);
    if (np != w->n_obs + 1)
        FATAL(HINT_SOURCE, "%s: '%s' has %zu entries for %zu cells (want %zu)", source, names[2], np, w->n_obs, w->n_obs + 1);
    int64_t ends[2] = {0, 0};
    h5u_read_1d(ip, H5T_NATIVE_INT64, w->row0, 1, &ends[0], source, names[2]);
    h5u_read_1d(ip, H5T_NATIVE_INT64, w->row0 + w->n_rows, 1, &ends[1], source, names[2]);
    H5Dclose(ip);
    if (w->meta) {
        group_like(w, sf, src_group, target);
        if (!src_group) {
            hid_t g = H5Gopen2(w->file, target, H5P_DEFAULT);
            h5w_set_enc(g, "csr_matrix", "0.1.0", w->tmp);
            int64_t shape[2] = {(int64_t)w->n_obs, (int64_t)n_vars};
            h5u_set_attr_i64s(g, "shape", shape, 2, w->tmp);
            H5Gclose(g);
        }
    }
    static const char *leaf[3] = {"data", "indices", "indptr"};
    int last = w->row0 + w->n_rows == w->n_obs && (w->n_rows > 0 || (w->n_obs == 0 && w->meta));
    for (int k = 0; k < 3; k++) {
        hid_t t;
        int rank;
        size_t len, cols;
        if (!array_shape(sf, source, names[k], &t, &rank, &len, &cols) || rank != 1)
            FATAL(HINT_SOURCE, "%s: '%s' is not a 1-D array of numbers", source, names[k]);
        char *to = xmalloc(strlen(target) + 16);
        sprintf(to, "%s/%s", target, leaf[k]);
        if (w->meta) {
            hsize_t d = len;
            hid_t out = h5w_create_rows(w, w->file, to, t, 1, &d);
            copy_attrs(w, sf, names[k], out);
            H5Dclose(out);
        }
        hid_t mt = H5Tget_native_type(t, H5T_DIR_DEFAULT);
        if (k < 2) h5w_op_copy(w, to, source, names[k], mt, (size_t)ends[0], (size_t)ends[0], (size_t)(ends[1] - ends[0]), 1);
        else h5w_op_copy(w, to, source, names[k], mt, w->row0, w->row0, w->n_rows + (size_t)last, 1);
        H5Tclose(mt);
        H5Tclose(t);
        free(to);
    }
}

// A per-cell matrix element of an AnnData source (X, layers/<k>, raw/X): the ranks copy its rows
// when it is a CSR group or an array of n_obs rows; the meta rank copies anything else whole.
static void copy_matrix(H5adWriter *w, hid_t sf, const char *source, const char *name) {
    if (h5u_obj_type(sf, name) == H5O_TYPE_GROUP) {
        hid_t g = H5Gopen2(sf, name, H5P_DEFAULT);
        char *enc = h5u_attr_string(g, "encoding-type"), *old = h5u_attr_string(g, "h5sparse_format");
        H5Gclose(g);
        int csr = (enc && !strcmp(enc, "csr_matrix")) || (!enc && old && !strcmp(old, "csr"));
        free(enc);
        free(old);
        char d[1024], i[1024], p[1024];
        snprintf(d, sizeof d, "%s/data", name);
        snprintf(i, sizeof i, "%s/indices", name);
        snprintf(p, sizeof p, "%s/indptr", name);
        if (csr && h5u_exists(sf, d) && h5u_exists(sf, i) && h5u_exists(sf, p)) {
            const char *names[3] = {d, i, p};
            copy_csr(w, sf, source, name, names, name, 0);
            return;
        }
    } else if (copy_array(w, sf, source, name, name, w->n_obs, w->row0, w->row0, w->n_rows, w->n_obs)) return;
    copy_whole(w, sf, source, name);
}

// The members of a group (layers, obsm, raw): matrices by rows, the rest whole.
static void copy_members(H5adWriter *w, hid_t sf, const char *source, const char *part) {
    group_like(w, sf, part, part);
    size_t n = 0;
    char **m = h5u_group_names(sf, part, &n);
    for (size_t k = 0; k < n; k++) {
        char name[1024];
        snprintf(name, sizeof name, "%s/%s", part, m[k]);
        int rows = !strcmp(part, "layers") || (!strcmp(part, "raw") && !strcmp(m[k], "X"));
        if (rows) copy_matrix(w, sf, source, name);
        else if (!strcmp(part, "obsm") && copy_array(w, sf, source, name, name, w->n_obs, w->row0, w->row0, w->n_rows, w->n_obs)) continue;
        else copy_whole(w, sf, source, name);
    }
    strv_free(m, n);
}

// Refuses a copy the output's file system (or the file size limit) has no room for: libhdf5 1.10
// can crash when a write fails in the middle of H5Ocopy. Rank 0 decides (a FATAL stops all).
static void check_room(H5adWriter *w, hid_t sf, const char *source) {
    hsize_t need = 0;
    int by_limit = 0;
    double room = w->meta ? atomic_room(w->path, NULL, &by_limit) : -1;
    if (room < 0 || H5Fget_filesize(sf, &need) < 0 || (double)need <= room) return;
    FATAL(by_limit ? "raise the file size limit (ulimit -f); the output file was not changed"
                   : "free space on the output's file system or write the output elsewhere; the output file was not changed",
          "%s: no room to copy %s into it (needs about %.3g MB, %s %.3g MB)", w->path, source, (double)need / 1e6,
          by_limit ? "the file size limit is" : "the file system has", room / 1e6);
}

void h5ad_writer_copy_parts(H5adWriter *w, const char *source, const char *const *parts, size_t n) {
    hid_t sf = h5u_open_read(source, NULL);   // every rank: the structure decides each rank's copies
    check_room(w, sf, source);
    for (size_t i = 0; i < n; i++) {
        if (!h5u_exists(sf, parts[i])) continue;
        h5w_drop(w, parts[i]);
        const char *p = parts[i];
        if (!strcmp(p, "X")) copy_matrix(w, sf, source, p);
        else if ((!strcmp(p, "layers") || !strcmp(p, "obsm") || !strcmp(p, "raw")) && h5u_obj_type(sf, p) == H5O_TYPE_GROUP)
            copy_members(w, sf, source, p);
        else copy_whole(w, sf, source, p);
    }
    H5Fclose(sf);
}

// 1 when object name of a source is (under) a part the ranks copy by rows, which reads its
// datasets' values with kida's own calls: their declared size must be stored. The other parts go
// through H5Ocopy, which copies unwritten chunks as unwritten.
static int copied_by_rows(const char *name) {
    static const char *const rows[] = {"X", "layers", "obsm", "raw/X", "matrix"};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        size_t n = strlen(rows[i]);
        if (!strncmp(name, rows[i], n) && (name[n] == '\0' || name[n] == '/')) return 1;
    }
    return 0;
}

// The attributes of object name of sf and, depth levels down a group, of its members; the
// declared vs stored size of the datasets copied by rows among them.
static void check_tree(hid_t sf, const char *source, const char *name, int depth) {
    H5O_type_t type = h5u_obj_type(sf, name);
    if (type != H5O_TYPE_DATASET && type != H5O_TYPE_GROUP) return;
    hid_t o = type == H5O_TYPE_GROUP ? H5Gopen2(sf, name, H5P_DEFAULT)
              : copied_by_rows(name) ? h5u_open_dset(sf, name, source, HINT_SOURCE)
                                     : H5Dopen2(sf, name, H5P_DEFAULT);
    if (o < 0) {
        char m[256];
        FATAL(HINT_SOURCE, "%s: cannot open '%s': %s", source, name, h5u_errmsg(m, sizeof m));
    }
    check_attrs(o, source, name);
    H5Oclose(o);
    if (type != H5O_TYPE_GROUP || depth == 0) return;
    size_t n = 0;
    char **m = h5u_group_names(sf, name, &n);
    for (size_t k = 0; k < n; k++) {
        char child[1024];
        snprintf(child, sizeof child, "%s/%s", name, m[k]);
        check_tree(sf, source, child, depth - 1);
    }
    strv_free(m, n);
}

void h5ad_check_copy_source(const char *source) {
    static const char *const parts[] = {"X", "layers", "raw", "obs", "var", "obsm", "varm", "obsp", "varp", "uns",
                                        "matrix"};
    hid_t sf = h5u_open_read(source, NULL);
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (h5u_exists(sf, parts[i])) check_tree(sf, source, parts[i], 4);
    H5Fclose(sf);
}

void h5ad_write_obs_names_of(H5adWriter *w, const char *source) {
    if (!w->meta) return;
    H5ad *h = h5ad_open(source, NULL, 0, NULL);
    size_t n = h5ad_n_obs(h), block = 65536;
    h5w_check_len(w, 1, n, "obs names of the source");
    hid_t g = h5w_group(w, "obs");
    char *ix = h5u_attr_string(g, "_index");
    if (!ix) {
        ix = xstrdup("_index");
        h5u_set_attr_string(g, "_index", ix, w->tmp);
    }
    hid_t ds = h5u_create_strings(g, ix, n, w->tmp);
    h5w_set_enc(ds, "string-array", "0.2.0", w->tmp);
    for (size_t at = 0; at < n; at += block) {   // a block of names at a time, whatever n is
        size_t k = n - at < block ? n - at : block;
        char **v = h5ad_obs_names(h, at, k);
        h5u_write_strings_at(ds, at, v, k, w->tmp, ix);
        strv_free(v, k);
    }
    H5Dclose(ds);
    free(ix);
    H5Gclose(g);
    h5ad_close(h);
}

int h5ad_write_obsm_copy(H5adWriter *w, const char *key, char *const *files, const size_t *first, size_t n_files) {
    char target[1024];
    snprintf(target, sizeof target, "obsm/%s", key);
    hid_t t0 = -1;
    int rank0 = 0, ok = 1;
    size_t cols0 = 0;
    for (size_t f = 0; f < n_files && ok; f++) {   // every rank checks every file (metadata only)
        hid_t sf = h5u_open_read(files[f], NULL), t;
        int rank;
        size_t rows, cols;
        ok = array_shape(sf, files[f], target, &t, &rank, &rows, &cols) && rows == first[f + 1] - first[f];
        if (ok && f == 0) t0 = t, rank0 = rank, cols0 = cols;
        else if (ok) {
            ok = rank == rank0 && cols == cols0;
            H5Tclose(t);
        }
        H5Fclose(sf);
    }
    if (!ok) {
        if (t0 >= 0) H5Tclose(t0);
        return 0;
    }
    h5w_drop(w, target);
    if (w->meta) {   // the first file's array sets the type and the attributes
        H5Gclose(h5w_group(w, "obsm"));
        hsize_t dims[2] = {w->n_obs, cols0};
        hid_t out = h5w_create_rows(w, w->file, target, t0, rank0, dims);
        hid_t sf = h5u_open_read(files[0], NULL);
        copy_attrs(w, sf, target, out);
        H5Fclose(sf);
        H5Dclose(out);
    }
    hid_t mt = H5Tget_native_type(t0, H5T_DIR_DEFAULT);
    for (size_t f = 0; f < n_files; f++) {   // this rank's rows that come from file f
        size_t end = w->row0 + w->n_rows, lo = w->row0 > first[f] ? w->row0 : first[f];
        size_t hi = end < first[f + 1] ? end : first[f + 1];
        if (hi <= lo) lo = hi = first[f];
        h5w_op_copy(w, target, files[f], target, mt, lo - first[f], lo, hi - lo, cols0);
    }
    H5Tclose(mt);
    H5Tclose(t0);
    return 1;
}

H5adWriter *h5ad_writer_copy_rows_of(const char *path, int overwrite, const char *source, const Dist *d, size_t n_rows) {
    H5ad *h = h5ad_open(source, NULL, 0, d);   // validates the source's X (collective over d)
    size_t n_obs = h5ad_n_obs(h), n_vars = h5ad_n_vars(h);
    H5adWriter *w;
    if (d) {
        w = h5ad_writer_create_rows(path, overwrite, d, n_rows);
        if (w->n_obs != n_obs)
            FATAL(HINT_BUG, "%s: the ranks' rows add up to %zu cells, the source %s has %zu", path, w->n_obs, source, n_obs);
    } else {
        w = h5ad_writer_create(path, overwrite);
        h5w_check_rows(w, n_obs, "X of the source");
    }
    h5w_check_len(w, 0, n_vars, "X of the source");
    if (h->kind == XK_10X) {
        // a 10x .h5 has no AnnData layout to copy: its matrix becomes X, its barcodes the obs
        // names, its gene symbols the var names with the Ensembl ids as var gene_ids
        hid_t sf = h5u_open_read(source, NULL);
        const char *names[3] = {h->data_name, h->indices_name, h->indptr_name};
        h5w_drop(w, "X");
        copy_csr(w, sf, source, NULL, names, "X", n_vars);
        H5Fclose(sf);
        h5ad_write_obs_names_of(w, source);
        if (w->meta) {
            char **vn = h5ad_var_names(h);
            h5ad_write_var_names(w, vn, n_vars);
            strv_free(vn, n_vars);
            H5ad *ids = h5ad_open(source, NULL, 1, NULL);
            char **gi = h5ad_var_names(ids);
            hid_t g = h5w_group(w, "var");
            hid_t ds = h5u_write_strings(g, "gene_ids", gi, n_vars, w->tmp);
            h5w_set_enc(ds, "string-array", "0.2.0", w->tmp);
            H5Dclose(ds);
            char *order[] = {"gene_ids"};
            h5u_set_attr_strings(g, "column-order", order, 1, w->tmp);
            H5Gclose(g);
            strv_free(gi, n_vars);
            h5ad_close(ids);
        }
    } else {
        static const char *const parts[] = {"X", "layers", "raw", "obs", "var", "obsm", "varm", "obsp", "varp", "uns"};
        h5ad_writer_copy_parts(w, source, parts, sizeof parts / sizeof *parts);
        if (w->meta) {
            static const char *groups[] = {"obs", "var", "obsm", "varm", "obsp", "varp", "layers", "uns"};
            for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) H5Gclose(h5w_group(w, groups[i]));
        }
    }
    h5ad_close(h);
    return w;
}

H5adWriter *h5ad_writer_copy_of(const char *path, int overwrite, const char *source) {
    return h5ad_writer_copy_rows_of(path, overwrite, source, NULL, 0);
}
