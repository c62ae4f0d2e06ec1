// h5util: see h5util.h.
#include "io/h5util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "io/h5filters.h"

#define H5U_HINT_DAMAGED "the file is damaged or was not written completely: re-create it " \
                         "(rerun the tool that wrote it, or copy it again)"

void h5u_init(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    h5filters_setup();
}

typedef struct {
    char *buf;
    size_t n;
} ErrBuf;

static herr_t errwalk(unsigned n, const H5E_error2_t *e, void *data) {
    ErrBuf *b = data;
    if (n == 0 && e->desc) snprintf(b->buf, b->n, "%s (in %s)", e->desc, e->func_name ? e->func_name : "?");
    return 0;
}

const char *h5u_errmsg(char *buf, size_t n) {
    if (!n) return buf;
    buf[0] = '\0';
    ErrBuf b = {buf, n};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, errwalk, &b);
    if (!buf[0]) snprintf(buf, n, "HDF5 gave no reason");
    return buf;
}

// ---- sizes declared vs sizes stored ------------------------------------------------------
// A damaged or hostile file can declare a dataset or attribute far larger than what it stores;
// libhdf5 then returns fill values for terabytes, or allocates what the header says. Every
// dataset opened through h5u_open_dset and every attribute read here is checked first.

// Bytes of the file holding obj (0 if unknown).
static hsize_t file_size_of(hid_t obj) {
    hid_t f = H5Iget_file_id(obj);
    hsize_t sz = 0;
    if (f < 0 || H5Fget_filesize(f, &sz) < 0) sz = 0;
    if (f >= 0) H5Fclose(f);
    return sz;
}

// The file and object names of obj, for messages about objects the caller named no path for.
static void obj_names(hid_t obj, char *file, size_t nf, char *name, size_t nn) {
    if (H5Fget_name(obj, file, nf) < 0) snprintf(file, nf, "(file)");
    if (H5Iget_name(obj, name, nn) <= 0) snprintf(name, nn, "?");
}

// The least number of bytes one element of file type t takes in the file: its size, or for
// variable-length data the reference to the heap (length, heap address, index: >= 12 bytes).
static size_t file_elem_min(hid_t t) {
    if (H5Tget_class(t) == H5T_VLEN || H5Tis_variable_str(t) > 0) return 12;
    size_t s = H5Tget_size(t);
    return s ? s : 1;
}

// Largest size reduction the filter pipeline of dcpl can give (0: unknown filter, no bound).
static double filter_ratio(hid_t dcpl, size_t elem) {
    int nf = H5Pget_nfilters(dcpl);
    double r = 1;
    for (int i = 0; i < nf; i++) {
        unsigned flags = 0, conf = 0;
        size_t ne = 0;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ne, NULL, 0, NULL, &conf);
        if (id == H5Z_FILTER_DEFLATE) r *= 1100;   // deflate cannot beat 1032:1
        else if (id == H5Z_FILTER_SHUFFLE || id == H5Z_FILTER_FLETCHER32) r *= 1;
        else if (id == H5Z_FILTER_NBIT) r *= 8.0 * (double)elem;
        else return 0;   // scale-offset, szip, plugins (lzf, blosc, zstd...): no bound known
    }
    return r;
}

void h5u_check_dset_storage(hid_t ds, const char *path, const char *name) {
    hid_t sp = H5Dget_space(ds), ft = H5Dget_type(ds), dcpl = H5Dget_create_plist(ds);
    if (sp < 0 || ft < 0 || dcpl < 0) {
        char m[256];
        FATAL(H5U_HINT_DAMAGED, "%s: cannot read the shape or type of dataset '%s': %s", path, name, h5u_errmsg(m, sizeof m));
    }
    h5filters_require(dcpl, path, name);
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    if (H5Sget_simple_extent_type(sp) == H5S_NULL) np = 0;
    size_t elem = file_elem_min(ft);
    H5D_layout_t layout = H5Pget_layout(dcpl);
    int external = H5Pget_external_count(dcpl) > 0;
    hsize_t stored = H5Dget_storage_size(ds), fsize = file_size_of(ds);
    double need = (double)(np < 0 ? 0 : np) * (double)elem;
    if (np < 0)
        FATAL(H5U_HINT_DAMAGED, "%s: dataset '%s' has an unreadable shape", path, name);
    if (!external && layout != H5D_VIRTUAL && np > 0) {
        if (fsize && stored > fsize)
            FATAL(H5U_HINT_DAMAGED, "%s: dataset '%s' claims %llu bytes of storage in a file of %llu bytes", path, name,
                  (unsigned long long)stored, (unsigned long long)fsize);
        double ratio = layout == H5D_CHUNKED ? filter_ratio(dcpl, elem) : 1;
        if (ratio > 0 && (double)stored * ratio < need)
            FATAL(H5U_HINT_DAMAGED,
                  "%s: dataset '%s' declares %lld elements of %zu bytes (%.4g bytes) but the file stores only %llu bytes "
                  "of it%s (unwritten, truncated or damaged)",
                  path, name, (long long)np, elem, need, (unsigned long long)stored,
                  ratio > 1 ? ", more than any compression gives back" : "");
    }
    H5Pclose(dcpl);
    H5Tclose(ft);
    H5Sclose(sp);
}

// Checks an attribute's element count (at most max_points) and that the file holds that many
// elements; returns the count. FATAL naming file, object and attribute otherwise.
static hssize_t attr_checked_points(hid_t a, hid_t ft, hid_t sp, const char *attr, hssize_t max_points) {
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    if (H5Sget_simple_extent_type(sp) == H5S_NULL) np = 0;
    hsize_t stored = H5Aget_storage_size(a), fsize = file_size_of(a);
    double need = (double)(np < 0 ? 0 : np) * (double)file_elem_min(ft);
    const char *why = np < 0 ? "its shape cannot be read"
                      : np > max_points ? "it has more elements than this attribute can have"
                      : (double)stored < need ? "it declares more elements than the file stores"
                      : fsize && stored > fsize ? "it claims more bytes than the file has" : NULL;
    if (why) {
        char file[1024], obj[512];
        obj_names(a, file, sizeof file, obj, sizeof obj);
        FATAL(H5U_HINT_DAMAGED, "%s: attribute '%s' of '%s' is damaged: %s (got %lld elements, %llu bytes stored, want at "
              "most %lld elements)", file, attr, obj, why, (long long)np, (unsigned long long)stored, (long long)max_points);
    }
    return np;
}

int h5u_attr_points(hid_t obj, const char *attr, hssize_t max_points) {
    if (H5Aexists(obj, attr) <= 0) return -1;
    hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    hssize_t np = ft >= 0 && sp >= 0 ? attr_checked_points(a, ft, sp, attr, max_points) : -1;
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return (int)np;
}

hid_t h5u_open_read(const char *path, const Dist *d) {
    h5u_init();
    struct stat st;
    if (stat(path, &st) != 0)
        FATAL("check the path (relative paths are taken from the working directory)",
              "cannot open input %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        FATAL("give the path of an .h5ad or 10x .h5 file, not a directory",
              "cannot open input %s: it is a directory", path);
    htri_t sig = H5Fis_hdf5(path);
    if (sig == 0)
        FATAL("give an AnnData .h5ad or a 10x CellRanger .h5 file (convert .loom/.mtx/.rds with scanpy first)",
              "cannot open input %s: not an HDF5 file (no HDF5 signature; got %lld bytes of something else)",
              path, (long long)st.st_size);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) FATAL("HDF5 is out of resources; check memory", "H5Pcreate(file access) failed for %s", path);
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 0, 1);   // readers need no lock; some parallel file systems refuse it
#endif
    if (d && d->size > 1) {
        if (H5Pset_fapl_mpio(fapl, d->comm, MPI_INFO_NULL) < 0) {
            char m[256];
            FATAL("check that HDF5 was built with MPI-IO and that MPI is initialised", "H5Pset_fapl_mpio for %s: %s",
                  path, h5u_errmsg(m, sizeof m));
        }
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (f < 0) {
        char m[256];
        h5u_errmsg(m, sizeof m);
        H5Pclose(fapl);
        FATAL(H5U_HINT_DAMAGED, "cannot open input %s as HDF5 (size %lld bytes; truncated or damaged?): %s", path,
              (long long)st.st_size, m);
    }
    H5Pclose(fapl);
    return f;
}

void h5u_close(hid_t id, const char *path) {
    if (id < 0) return;
    H5I_type_t t = H5Iget_type(id);
    herr_t rc = 0;
    switch (t) {
    case H5I_FILE: rc = H5Fclose(id); break;
    case H5I_GROUP: rc = H5Gclose(id); break;
    case H5I_DATASET: rc = H5Dclose(id); break;
    case H5I_ATTR: rc = H5Aclose(id); break;
    case H5I_DATATYPE: rc = H5Tclose(id); break;
    case H5I_DATASPACE: rc = H5Sclose(id); break;
    case H5I_GENPROP_LST: rc = H5Pclose(id); break;
    default: rc = H5Idec_ref(id); break;
    }
    if (rc < 0) {
        char m[256];
        FATAL("the file system may be full or failing; check free space and retry", "closing an HDF5 object of %s failed: %s",
              path, h5u_errmsg(m, sizeof m));
    }
}

int h5u_exists(hid_t loc, const char *name) {
    if (!name || !*name) return 0;
    if (strcmp(name, "/") == 0 || strcmp(name, ".") == 0) return 1;
    char *p = xstrdup(name), *s = p;
    int ok = 1;
    if (*s == '/') s++;
    for (char *q = s;; q++) {
        if (*q == '/' || *q == '\0') {
            char c = *q;
            *q = '\0';
            htri_t e = H5Lexists(loc, p, H5P_DEFAULT);
            if (e <= 0 || H5Oexists_by_name(loc, p, H5P_DEFAULT) <= 0) {
                ok = 0;
                break;
            }
            if (!c) break;
            *q = c;
        }
    }
    free(p);
    return ok;
}

H5O_type_t h5u_obj_type(hid_t loc, const char *name) {
    if (!h5u_exists(loc, name)) return H5O_TYPE_UNKNOWN;
    H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
    if (H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return H5O_TYPE_UNKNOWN;
#else
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return H5O_TYPE_UNKNOWN;
#endif
    return info.type;
}

hid_t h5u_open_group(hid_t loc, const char *name, const char *path, const char *hint) {
    hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0) {
        char m[256];
        FATAL(hint, "%s: cannot open group '%s': %s", path, name, h5u_errmsg(m, sizeof m));
    }
    return g;
}

hid_t h5u_open_dset(hid_t loc, const char *name, const char *path, const char *hint) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) {
        char m[256];
        FATAL(hint, "%s: cannot open dataset '%s': %s", path, name, h5u_errmsg(m, sizeof m));
    }
    h5u_check_dset_storage(ds, path, name);
    return ds;
}

int h5u_dset_dims(hid_t dset, hsize_t *dims, const char *path, const char *name) {
    hid_t sp = H5Dget_space(dset);
    int r = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    if (r < 0 || r > 8) {
        char m[256];
        FATAL(H5U_HINT_DAMAGED, "%s: cannot read the shape of dataset '%s': %s", path, name, h5u_errmsg(m, sizeof m));
    }
    if (r > 0) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    return r;
}

size_t h5u_dset_len(hid_t dset, const char *path, const char *name) {
    hsize_t dims[8];
    int r = h5u_dset_dims(dset, dims, path, name);
    if (r != 1)
        FATAL("the file does not follow the AnnData/10x layout; re-write it with anndata (adata.write_h5ad)",
              "%s: dataset '%s' has %d dimensions (want 1)", path, name, r);
    return (size_t)dims[0];
}

int h5u_type_is_bool(hid_t type) {
    if (H5Tget_class(type) != H5T_ENUM || H5Tget_size(type) != 1) return 0;
    if (H5Tget_nmembers(type) != 2) return 0;
    char *a = H5Tget_member_name(type, 0), *b = H5Tget_member_name(type, 1);
    int ok = a && b && strcmp(a, "FALSE") == 0 && strcmp(b, "TRUE") == 0;
    H5free_memory(a);
    H5free_memory(b);
    return ok;
}

H5T_class_t h5u_dtype_class(hid_t dset) {
    hid_t t = H5Dget_type(dset);
    if (t < 0) return H5T_NO_CLASS;
    H5T_class_t c = H5Tget_class(t);
    H5Tclose(t);
    return c;
}

const char *h5u_dtype_name(hid_t dset) {
    hid_t t = H5Dget_type(dset);
    if (t < 0) return "other";
    H5T_class_t c = H5Tget_class(t);
    size_t sz = H5Tget_size(t);
    const char *r = "other";
    if (c == H5T_FLOAT) r = sz == 4 ? "float32" : sz == 8 ? "float64" : sz == 2 ? "float16" : "float";
    else if (c == H5T_INTEGER) {
        int sgn = H5Tget_sign(t) == H5T_SGN_2;
        static const char *si[] = {"int8", "int16", "int32", "int64"}, *ui[] = {"uint8", "uint16", "uint32", "uint64"};
        int k = sz == 1 ? 0 : sz == 2 ? 1 : sz == 4 ? 2 : 3;
        r = sgn ? si[k] : ui[k];
    } else if (c == H5T_STRING) r = "string";
    else if (c == H5T_ENUM) r = h5u_type_is_bool(t) ? "bool" : "enum";
    else if (c == H5T_COMPOUND) r = "compound";
    else if (c == H5T_REFERENCE) r = "reference";
    H5Tclose(t);
    return r;
}

// Selects [start, start+count) of the first dimension (all of the others) of dset's space.
static hid_t select_rows(hid_t dset, size_t start, size_t count, int want_rank, hsize_t *cols, const char *path,
                         const char *name) {
    hid_t sp = H5Dget_space(dset);
    hsize_t dims[8];
    int r = sp < 0 ? -1 : H5Sget_simple_extent_dims(sp, dims, NULL);
    if (r != want_rank)
        FATAL("the file does not follow the AnnData/10x layout; re-write it with anndata (adata.write_h5ad)",
              "%s: dataset '%s' has %d dimensions (want %d)", path, name, r, want_rank);
    if (start + count > dims[0] || start + count < start)
        FATAL("the file's arrays are shorter than its index says (damaged file, or indptr/shape wrong)",
              "%s: dataset '%s': read of elements [%zu, %zu) past its length %llu", path, name, start, start + count,
              (unsigned long long)dims[0]);
    hsize_t off[2] = {start, 0}, cnt[2] = {count, r == 2 ? dims[1] : 1};
    if (H5Sselect_hyperslab(sp, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0) {
        char m[256];
        FATAL(H5U_HINT_DAMAGED, "%s: selecting rows of '%s': %s", path, name, h5u_errmsg(m, sizeof m));
    }
    if (cols) *cols = r == 2 ? dims[1] : 1;
    return sp;
}

static void read_sel(hid_t dset, hid_t memtype, hid_t fsp, int rank, hsize_t count, hsize_t cols, void *out,
                     const char *path, const char *name) {
    hsize_t md[2] = {count, cols};
    hid_t msp = H5Screate_simple(rank, md, NULL);
    herr_t rc = msp < 0 ? -1 : H5Dread(dset, memtype, msp, fsp, H5P_DEFAULT, out);
    if (rc < 0) {
        char m[256];
        h5u_errmsg(m, sizeof m);
        FATAL(H5U_HINT_DAMAGED, "%s: reading dataset '%s' failed: %s", path, name, m);
    }
    H5Sclose(msp);
}

size_t h5u_xfer_limit(void) {
    static size_t limit;
    if (!limit) {
        const char *v = getenv("KIDA_H5_CHUNK");
        char *end = NULL;
        unsigned long long n = v && *v ? strtoull(v, &end, 10) : 0;
        if (v && *v && (*end || n < 1 || n > INT32_MAX))
            FATAL("set KIDA_H5_CHUNK to a whole number of elements in [1, 2147483647], or unset it",
                  "KIDA_H5_CHUNK=%s is not a valid transfer size (got '%s', want 1..2147483647)", v, v);
        limit = n ? (size_t)n : (size_t)1 << 23;
    }
    return limit;
}

void h5u_read_1d(hid_t dset, hid_t memtype, size_t start, size_t count, void *out, const char *path,
                 const char *name) {
    size_t lim = h5u_xfer_limit(), esz = H5Tget_size(memtype);
    for (size_t at = 0; at < count; at += lim) {
        size_t k = count - at < lim ? count - at : lim;
        hid_t fsp = select_rows(dset, start + at, k, 1, NULL, path, name);
        read_sel(dset, memtype, fsp, 1, k, 1, (char *)out + at * esz, path, name);
        H5Sclose(fsp);
    }
}

void h5u_read_rows_2d(hid_t dset, hid_t memtype, size_t row0, size_t nrows, void *out, const char *path,
                      const char *name) {
    if (nrows == 0) return;
    hsize_t cols = 0;
    hid_t fsp = select_rows(dset, row0, nrows, 2, &cols, path, name);
    if (cols == 0) {
        H5Sclose(fsp);
        return;
    }
    read_sel(dset, memtype, fsp, 2, nrows, cols, out, path, name);
    H5Sclose(fsp);
}

// Copies a fixed-length string element of width w, stripping the padding.
static char *fixed_str(const char *p, size_t w, H5T_str_t pad) {
    size_t len = strnlen(p, w);
    if (pad == H5T_STR_SPACEPAD)
        while (len > 0 && p[len - 1] == ' ') len--;
    char *s = xmalloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

// Integers as "%lld"; floats with the fewest digits that read back to the same value at the
// stored precision (single: up to 9 digits, double: up to 17), NaN as "nan".
static char *fmt_num(double v, int is_int, long long iv, int single) {
    char b[64];
    if (is_int) snprintf(b, sizeof b, "%lld", iv);
    else if (isnan(v)) snprintf(b, sizeof b, "nan");
    else
        for (int p = 1; p <= 17; p++) {
            snprintf(b, sizeof b, "%.*g", p, v);
            double back = strtod(b, NULL);
            if (single ? (float)back == (float)v : back == v) break;
        }
    return xstrdup(b);
}

char **h5u_read_strings(hid_t dset, size_t start, size_t count, const char *path, const char *name) {
    char **out = xcalloc(count ? count : 1, sizeof(char *));
    if (count == 0) return out;
    hid_t ft = H5Dget_type(dset);
    if (ft < 0) FATAL(H5U_HINT_DAMAGED, "%s: cannot read the type of '%s'", path, name);
    H5T_class_t c = H5Tget_class(ft);
    if (c == H5T_STRING) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mt, H5Tget_cset(ft));
        if (H5Tis_variable_str(ft) > 0) {
            H5Tset_size(mt, H5T_VARIABLE);
            h5u_vlen_precheck(dset, start, count, path, name);
            char **tmp = xcalloc(count, sizeof(char *));
            h5u_read_1d(dset, mt, start, count, tmp, path, name);
            for (size_t i = 0; i < count; i++) {
                out[i] = xstrdup(tmp[i] ? tmp[i] : "");
                H5free_memory(tmp[i]);   // HDF5 allocated each string with its own allocator
            }
            free(tmp);
        } else {
            size_t w = H5Tget_size(ft);
            H5T_str_t pad = H5Tget_strpad(ft);
            H5Tset_size(mt, w);
            H5Tset_strpad(mt, pad);
            char *raw = xmalloc(count * w);
            h5u_read_1d(dset, mt, start, count, raw, path, name);
            for (size_t i = 0; i < count; i++) out[i] = fixed_str(raw + i * w, w, pad);
            free(raw);
        }
        H5Tclose(mt);
    } else if (c == H5T_ENUM && h5u_type_is_bool(ft)) {
        int8_t *b = xmalloc(count);
        hid_t bt = h5u_bool_type();
        h5u_read_1d(dset, bt, start, count, b, path, name);
        H5Tclose(bt);
        for (size_t i = 0; i < count; i++) out[i] = xstrdup(b[i] ? "True" : "False");
        free(b);
    } else if (c == H5T_INTEGER || c == H5T_FLOAT) {
        int is_int = c == H5T_INTEGER, single = H5Tget_size(ft) <= 4;
        if (is_int) {
            long long *v = xmalloc(count * sizeof *v);
            h5u_read_1d(dset, H5T_NATIVE_LLONG, start, count, v, path, name);
            for (size_t i = 0; i < count; i++) out[i] = fmt_num(0, 1, v[i], 0);
            free(v);
        } else {
            double *v = xmalloc(count * sizeof *v);
            h5u_read_1d(dset, H5T_NATIVE_DOUBLE, start, count, v, path, name);
            for (size_t i = 0; i < count; i++) out[i] = fmt_num(v[i], 0, 0, single);
            free(v);
        }
    } else {
        FATAL("store names and labels as strings or numbers (pandas object/str/category columns are fine)",
              "%s: dataset '%s' holds %s values, which cannot be read as text", path, name, h5u_dtype_name(dset));
    }
    H5Tclose(ft);
    return out;
}

// Reads all elements of an attribute as strings (NULL if absent / not strings).
static char **attr_strs(hid_t obj, const char *attr, size_t *n) {
    *n = 0;
    if (H5Aexists(obj, attr) <= 0) return NULL;
    hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    char **out = NULL;
    if (ft >= 0 && sp >= 0 && H5Tget_class(ft) == H5T_STRING) {
        hssize_t cnt = attr_checked_points(a, ft, sp, attr, H5U_MAX_ATTR_POINTS);
        if (cnt > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_cset(mt, H5Tget_cset(ft));
            out = xcalloc((size_t)cnt, sizeof(char *));
            if (H5Tis_variable_str(ft) > 0) {
                H5Tset_size(mt, H5T_VARIABLE);
                h5u_vlen_attr_precheck(obj, attr, (size_t)cnt);
                char **tmp = xcalloc((size_t)cnt, sizeof(char *));
                if (H5Aread(a, mt, tmp) >= 0) {
                    for (hssize_t i = 0; i < cnt; i++) {
                        out[i] = xstrdup(tmp[i] ? tmp[i] : "");
                        H5free_memory(tmp[i]);
                    }
                    *n = (size_t)cnt;
                }
                free(tmp);
            } else {
                size_t w = H5Tget_size(ft);
                H5T_str_t pad = H5Tget_strpad(ft);
                H5Tset_size(mt, w);
                H5Tset_strpad(mt, pad);
                char *raw = xmalloc((size_t)cnt * w);
                if (H5Aread(a, mt, raw) >= 0) {
                    for (hssize_t i = 0; i < cnt; i++) out[i] = fixed_str(raw + i * w, w, pad);
                    *n = (size_t)cnt;
                }
                free(raw);
            }
            H5Tclose(mt);
            if (*n == 0) {
                free(out);
                out = NULL;
            }
        }
    }
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return out;
}

char *h5u_attr_string(hid_t obj, const char *attr) {
    size_t n = 0;
    char **v = attr_strs(obj, attr, &n);
    if (!v) return NULL;
    char *s = v[0];
    for (size_t i = 1; i < n; i++) free(v[i]);
    free(v);
    return s;
}

char **h5u_attr_strings(hid_t obj, const char *attr, size_t *n) { return attr_strs(obj, attr, n); }

int h5u_attr_i64(hid_t obj, const char *attr, int64_t *out, int max) {
    if (H5Aexists(obj, attr) <= 0) return -1;
    hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    int r = -1;
    H5T_class_t c = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    if ((c == H5T_INTEGER || c == H5T_FLOAT) && sp >= 0) {
        hssize_t cnt = attr_checked_points(a, ft, sp, attr, H5U_MAX_ATTR_POINTS);
        if (cnt >= 0 && cnt <= max) {
            if (c == H5T_INTEGER) {
                if (cnt == 0 || H5Aread(a, H5T_NATIVE_INT64, out) >= 0) r = (int)cnt;
            } else {
                double tmp[16];
                if (cnt <= 16 && (cnt == 0 || H5Aread(a, H5T_NATIVE_DOUBLE, tmp) >= 0)) {
                    r = (int)cnt;
                    // only whole numbers that an int64 holds convert (NaN, 1e30 or 2.5 do not)
                    for (hssize_t i = 0; i < cnt; i++)
                        if (tmp[i] == floor(tmp[i]) && tmp[i] >= -9.2e18 && tmp[i] <= 9.2e18) out[i] = (int64_t)tmp[i];
                        else r = -2;
                }
            }
        }
    }
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return r;
}

// ---- writing -------------------------------------------------------------------------------

_Noreturn static void write_fail(const char *path, const char *what, const char *name) {
    char m[256];
    h5u_errmsg(m, sizeof m);
    FATAL("check free space and permissions in the output directory; the output file was not changed",
          "%s: %s '%s' failed: %s", path, what, name, m);
}

static hid_t vlen_utf8(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static void put_attr(hid_t obj, const char *attr, hid_t type, hid_t space, const void *buf, const char *path) {
    if (H5Aexists(obj, attr) > 0 && H5Adelete(obj, attr) < 0) write_fail(path, "replacing attribute", attr);
    hid_t a = H5Acreate2(obj, attr, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, type, buf) < 0) write_fail(path, "writing attribute", attr);
    H5Aclose(a);
}

void h5u_set_attr_string(hid_t obj, const char *attr, const char *value, const char *path) {
    hid_t t = vlen_utf8(), sp = H5Screate(H5S_SCALAR);
    put_attr(obj, attr, t, sp, &value, path);
    H5Sclose(sp);
    H5Tclose(t);
}

void h5u_set_attr_strings(hid_t obj, const char *attr, char *const *v, size_t n, const char *path) {
    hid_t t = vlen_utf8();
    hsize_t d = n;
    hid_t sp = H5Screate_simple(1, &d, NULL);
    const char *empty = "";
    const char **tmp = xmalloc((n ? n : 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++) tmp[i] = v[i] ? v[i] : empty;
    put_attr(obj, attr, t, sp, tmp, path);
    free(tmp);
    H5Sclose(sp);
    H5Tclose(t);
}

void h5u_set_attr_i64s(hid_t obj, const char *attr, const int64_t *v, size_t n, const char *path) {
    hsize_t d = n;
    hid_t sp = H5Screate_simple(1, &d, NULL);
    put_attr(obj, attr, H5T_STD_I64LE, sp, v, path);   // HDF5 converts native -> LE
    H5Sclose(sp);
}

hid_t h5u_bool_type(void) {
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t f = 0, tr = 1;
    H5Tenum_insert(t, "FALSE", &f);
    H5Tenum_insert(t, "TRUE", &tr);
    return t;
}

void h5u_set_attr_bool(hid_t obj, const char *attr, int value, const char *path) {
    hid_t t = h5u_bool_type(), sp = H5Screate(H5S_SCALAR);
    int8_t v = value ? 1 : 0;
    if (H5Aexists(obj, attr) > 0) H5Adelete(obj, attr);
    hid_t a = H5Acreate2(obj, attr, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, &v) < 0) write_fail(path, "writing attribute", attr);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

hid_t h5u_write_dset(hid_t loc, const char *name, hid_t filetype, hid_t memtype, int rank, const hsize_t *dims,
                     const void *buf, const char *path) {
    hsize_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (rank > 0 && total >= 4096) {
        // chunks of about 64K elements: whole trailing dimensions, a block of the first one
        hsize_t ch[H5S_MAX_RANK];
        if (rank > H5S_MAX_RANK) FATAL("a bug in kida", "h5u_write_dset: '%s' has %d dimensions", name, rank);
        if (rank == 1) ch[0] = total < 65536 ? total : 65536;
        else {
            hsize_t c = 1;
            for (int i = 1; i < rank; i++) {
                ch[i] = dims[i] ? dims[i] : 1;
                c = c * ch[i] < 65536 ? c * ch[i] : 65536;
            }
            hsize_t r = 65536 / c;
            ch[0] = r < 1 ? 1 : r > dims[0] ? dims[0] : r;
        }
        if (H5Pset_chunk(dcpl, rank, ch) < 0) write_fail(path, "chunking dataset", name);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
    }
    if (H5Lexists(loc, name, H5P_DEFAULT) > 0 && H5Ldelete(loc, name, H5P_DEFAULT) < 0)
        write_fail(path, "replacing dataset", name);
    hid_t ds = H5Dcreate2(loc, name, filetype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) write_fail(path, "creating dataset", name);
    if (total > 0 && H5Dwrite(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        write_fail(path, "writing dataset", name);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return ds;
}

hid_t h5u_write_strings(hid_t loc, const char *name, char *const *v, size_t n, const char *path) {
    const char **tmp = xmalloc((n ? n : 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++) tmp[i] = v[i] ? v[i] : "";
    hid_t t = vlen_utf8();
    hsize_t d = n;
    hid_t ds = h5u_write_dset(loc, name, t, t, 1, &d, tmp, path);
    H5Tclose(t);
    free(tmp);
    return ds;
}

hid_t h5u_create_strings(hid_t loc, const char *name, size_t n, const char *path) {
    hid_t t = vlen_utf8();
    hsize_t d = n, ch = n < 65536 ? (n ? n : 1) : 65536;
    hid_t sp = H5Screate_simple(1, &d, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (n >= 4096) {
        H5Pset_chunk(dcpl, 1, &ch);
        H5Pset_deflate(dcpl, 4);
    }
    if (H5Lexists(loc, name, H5P_DEFAULT) > 0 && H5Ldelete(loc, name, H5P_DEFAULT) < 0)
        write_fail(path, "replacing dataset", name);
    hid_t ds = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) write_fail(path, "creating dataset", name);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Tclose(t);
    return ds;
}

void h5u_write_strings_at(hid_t ds, size_t start, char *const *v, size_t count, const char *path, const char *name) {
    if (count == 0) return;
    const char **tmp = xmalloc(count * sizeof(char *));
    for (size_t i = 0; i < count; i++) tmp[i] = v[i] ? v[i] : "";
    hid_t t = vlen_utf8(), fsp = H5Dget_space(ds);
    hsize_t off = start, cnt = count;
    hid_t msp = H5Screate_simple(1, &cnt, NULL);
    if (fsp < 0 || H5Sselect_hyperslab(fsp, H5S_SELECT_SET, &off, NULL, &cnt, NULL) < 0 ||
        H5Dwrite(ds, t, msp, fsp, H5P_DEFAULT, tmp) < 0)
        write_fail(path, "writing strings of", name);
    H5Sclose(msp);
    H5Sclose(fsp);
    H5Tclose(t);
    free(tmp);
}

hid_t h5u_open_rw(const char *path, const Dist *d) {
    h5u_init();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 0, 1);   // the ranks share one file; some parallel file systems refuse locks
#endif
    if (d && d->size > 1 && H5Pset_fapl_mpio(fapl, d->comm, MPI_INFO_NULL) < 0) write_fail(path, "H5Pset_fapl_mpio for", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, fapl);
    if (f < 0) write_fail(path, "opening for writing", path);
    H5Pclose(fapl);
    return f;
}

typedef struct {
    char **v;
    size_t n;
} NameList;

static herr_t add_name(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    NameList *l = data;
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(char *));
    l->v[l->n++] = xstrdup(name);
    return 0;
}

char **h5u_group_names(hid_t loc, const char *name, size_t *n) {
    NameList l = {0};
    *n = 0;
    if (h5u_obj_type(loc, name) != H5O_TYPE_GROUP) return NULL;
    hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0) return NULL;
    hsize_t idx = 0;
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, add_name, &l);
    H5Gclose(g);
    *n = l.n;
    return l.v;
}
