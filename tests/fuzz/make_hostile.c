// make_hostile: writes the hand-made hostile .h5ad files of the regression corpus
// (tests/fuzz/regress/h5ad/) into DIR. Each one once crashed, hung or exhausted the memory of a
// reader of kida's (issue 12), and is small: what it declares is not what it stores.
//   make_hostile DIR
// Exit 0 on success, 99 on a setup error.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/io/h5fix.h"

static char dir[2048];
static const char *P(const char *name) { return fx_in(dir, name); }

static void must(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "make_hostile: %s failed\n", what);
        exit(99);
    }
}

// A chunked dataset of n elements of type t of which nothing is written (fill values only).
static void unwritten(hid_t loc, const char *name, hid_t t, int rank, const hsize_t *dims) {
    hid_t s = H5Screate_simple(rank, dims, NULL), p = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t ch[2] = {rank == 1 ? 65536 : 4096, 4096};
    for (int i = 0; i < rank; i++)
        if (ch[i] > dims[i]) ch[i] = dims[i] ? dims[i] : 1;
    H5Pset_chunk(p, rank, ch);
    hid_t d = H5Dcreate2(loc, name, t, s, H5P_DEFAULT, p, H5P_DEFAULT);
    must(d >= 0, name);
    H5Dclose(d);
    H5Pclose(p);
    H5Sclose(s);
}

static void shape_attr_f64(hid_t g, double a, double b) {
    hsize_t two = 2;
    double v[2] = {a, b};
    hid_t s = H5Screate_simple(1, &two, NULL);
    hid_t at = H5Acreate2(g, "shape", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    must(at >= 0 && H5Awrite(at, H5T_NATIVE_DOUBLE, v) >= 0, "shape attribute");
    H5Aclose(at);
    H5Sclose(s);
}

static void shape_attr_i64(hid_t g, long long a, long long b) {
    hsize_t two = 2;
    long long v[2] = {a, b};
    hid_t s = H5Screate_simple(1, &two, NULL);
    hid_t at = H5Acreate2(g, "shape", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    must(at >= 0 && H5Awrite(at, H5T_NATIVE_LLONG, v) >= 0, "shape attribute");
    H5Aclose(at);
    H5Sclose(s);
}

// X as a CSR/CSC group with a float shape attribute (NaN, 1e30: once cast to an integer unchecked).
static void float_shape(const char *name, double a, double b) {
    hid_t f = fx_create(P(name));
    hid_t g = fx_group(f, "X", "csr_matrix", "0.1.0");
    shape_attr_f64(g, a, b);
    static const double data[1] = {1};
    static const long long idx[1] = {0}, ptr[2] = {0, 1};
    fx_f64(g, "data", data, 1, H5T_IEEE_F32LE);
    fx_i64(g, "indices", idx, 1, H5T_STD_I32LE);
    fx_i64(g, "indptr", ptr, 2, H5T_STD_I64LE);
    H5Gclose(g);
    fx_close(f);
}

// The valid fixture with the raw heap reference of obs name 2 damaged: `field` 0 its length
// (2^31 - 1: libhdf5 1.10.8 read the file without an error), 1 its heap address (2^60).
static void damaged_heap_ref(const char *name, int field) {
    fx_valid_file(P(name));
    hid_t f = H5Fopen(P(name), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "obs/_index", H5P_DEFAULT);
    haddr_t off = H5Dget_offset(d);
    must(off != HADDR_UNDEF, "contiguous obs names");
    H5Dclose(d);
    H5Fclose(f);
    FILE *fp = fopen(P(name), "r+b");
    must(fp != NULL, name);
    long at = (long)off + 2 * 16;   // references are length (4), address (8), index (4)
    unsigned char big[8] = {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
    if (field == 0) must(fseek(fp, at, SEEK_SET) == 0 && fwrite(big, 1, 4, fp) == 4, "length");
    else {
        unsigned char far[8] = {0, 0, 0, 0, 0, 0, 0, 0x10};   // 2^60
        must(fseek(fp, at + 4, SEEK_SET) == 0 && fwrite(far, 1, 8, fp) == 8, "address");
    }
    must(fclose(fp) == 0, name);
}

// File name with the heap object that holds the string attribute value `value` claiming 2^40
// bytes: libhdf5 reads such an attribute unchecked.
static void damage_attr_heap(const char *name, const char *value) {
    FILE *fp = fopen(P(name), "r+b");
    must(fp != NULL, name);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, fp), len = strlen(value);
    long hit = -1;
    for (size_t i = 16; i + len <= n; i++)
        if (!memcmp(buf + i, value, len) && buf[i - 16] != 0) hit = (long)i;   // a heap object's data
    must(hit > 0, value);
    unsigned char huge[8] = {0, 0, 0, 0, 0, 1, 0, 0};   // 2^40
    must(fseek(fp, hit - 8, SEEK_SET) == 0 && fwrite(huge, 1, 8, fp) == 8 && fclose(fp) == 0, "object size");
}

// The valid fixture with X's encoding-type "csr_matrix" damaged so.
static void damaged_attr_heap(const char *name) {
    fx_valid_file(P(name));
    damage_attr_heap(name, "csr_matrix");
}

// The valid fixture with parts an annotated output copies from its query and no reader of the
// input reads: a dense layer of 2^30 columns with nothing written (the copy would write 2^32 bytes
// of fill values per cell), or an obsm array with a string attribute whose heap object claims
// 2^40 bytes (the copy's H5Aread followed it).
static void copied_part(const char *name, int layer) {
    fx_valid_file(P(name));
    hid_t f = H5Fopen(P(name), H5F_ACC_RDWR, H5P_DEFAULT);
    must(f >= 0, name);
    if (layer) {
        hid_t g = fx_group(f, "layers", "dict", "0.1.0");
        hsize_t dims[2] = {FIX_ROWS, (hsize_t)1 << 30};
        unwritten(g, "counts", H5T_IEEE_F32LE, 2, dims);
        H5Gclose(g);
    } else {
        hid_t g = fx_group(f, "obsm", "dict", "0.1.0");
        static double xy[FIX_ROWS * 2];
        fx_dense(g, "spatial", xy, FIX_ROWS, 2, H5T_IEEE_F64LE);
        hid_t d = H5Dopen2(g, "spatial", H5P_DEFAULT), t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
        H5Tset_size(t, H5T_VARIABLE);
        const char *note = "a note kida copies";
        hid_t a = H5Acreate2(d, "note", t, sp, H5P_DEFAULT, H5P_DEFAULT);
        must(a >= 0 && H5Awrite(a, t, &note) >= 0, "note attribute");
        H5Aclose(a);
        H5Sclose(sp);
        H5Tclose(t);
        H5Dclose(d);
        H5Gclose(g);
    }
    must(H5Fclose(f) >= 0, name);
    if (!layer) damage_attr_heap(name, "a note kida copies");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_hostile DIR\n");
        return 99;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    // 2^40 rows: an unwritten chunked indptr of 2^40 + 1 values (inspect scanned terabytes of fill)
    hid_t f = fx_create(P("rows_2p40.h5ad"));
    hid_t g = fx_group(f, "X", "csr_matrix", "0.1.0");
    shape_attr_i64(g, 1LL << 40, 5);
    hsize_t n = 0, np = (1ULL << 40) + 1;
    unwritten(g, "data", H5T_IEEE_F32LE, 1, &n);
    unwritten(g, "indices", H5T_STD_I32LE, 1, &n);
    unwritten(g, "indptr", H5T_STD_I64LE, 1, &np);
    H5Gclose(g);
    fx_close(f);

    // CSC with 2^31 rows and no obs names (inspect allocated a 2^31-row matrix)
    f = fx_create(P("csc_2p31_rows.h5ad"));
    g = fx_group(f, "X", "csc_matrix", "0.1.0");
    shape_attr_i64(g, 1LL << 31, 2);
    static const double d1[1] = {1};
    static const long long i1[1] = {7}, p1[3] = {0, 1, 1};
    fx_f64(g, "data", d1, 1, H5T_IEEE_F32LE);
    fx_i64(g, "indices", i1, 1, H5T_STD_I64LE);
    fx_i64(g, "indptr", p1, 3, H5T_STD_I64LE);
    H5Gclose(g);
    fx_close(f);

    // a dense X of 2^31 x 1000 float32, nothing written (8 TB of fill values to scan)
    f = fx_create(P("dense_2p31_rows.h5ad"));
    hsize_t dd[2] = {1ULL << 31, 1000};
    unwritten(f, "X", H5T_IEEE_F32LE, 2, dd);
    fx_close(f);

    // var names that declare 2^30 strings and store none, for a CSR of 2^30 columns
    f = fx_create(P("var_names_2p30.h5ad"));
    g = fx_group(f, "X", "csr_matrix", "0.1.0");
    shape_attr_i64(g, 1, (long long)1 << 30);
    static const long long p2[2] = {0, 1}, i2[1] = {3};
    fx_f64(g, "data", d1, 1, H5T_IEEE_F32LE);
    fx_i64(g, "indices", i2, 1, H5T_STD_I64LE);
    fx_i64(g, "indptr", p2, 2, H5T_STD_I64LE);
    H5Gclose(g);
    g = fx_group(f, "var", "dataframe", "0.2.0");
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    hsize_t nv = 1ULL << 30;
    unwritten(g, "_index", st, 1, &nv);
    H5Tclose(st);
    H5Gclose(g);
    fx_close(f);

    // shape attributes of floats that are no integers (cast unchecked: undefined behaviour)
    float_shape("shape_nan.h5ad", NAN, 5);
    float_shape("shape_1e30.h5ad", 1e30, 5);

    // anndata 0.7 categories: an attribute of 64 references where the reader expects one (stack
    // overflow of its one-element buffer)
    f = fx_create(P("categories_64_refs.h5ad"));
    fx_sparse(f, "X", FIX_M, FIX_ROWS, FIX_COLS, FX_CSR, H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_STD_I64LE, 0, 0);
    static const char *cols[] = {"cell_type"};
    hid_t o = fx_dataframe(f, "obs", FIX_OBS_NAMES, FIX_ROWS, cols, 1);
    hid_t cg = fx_group(o, "__categories", NULL, NULL);
    static const char *ab[] = {"A", "B"};
    fx_strings(cg, "cell_type", ab, 2, 0);
    H5Gclose(cg);
    static const long long codes[FIX_ROWS] = {0, 1, 1, 0, 0, 1, 0};
    fx_i64(o, "cell_type", codes, FIX_ROWS, H5T_STD_I8LE);
    hobj_ref_t refs[64];
    for (int i = 0; i < 64; i++) must(H5Rcreate(&refs[i], f, "obs/__categories/cell_type", H5R_OBJECT, -1) >= 0, "ref");
    hid_t ds = H5Dopen2(o, "cell_type", H5P_DEFAULT);
    hsize_t n64 = 64;
    hid_t sp = H5Screate_simple(1, &n64, NULL);
    hid_t a = H5Acreate2(ds, "categories", H5T_STD_REF_OBJ, sp, H5P_DEFAULT, H5P_DEFAULT);
    must(a >= 0 && H5Awrite(a, H5T_STD_REF_OBJ, refs) >= 0, "categories attribute");
    H5Aclose(a);
    H5Sclose(sp);
    H5Dclose(ds);
    H5Gclose(o);
    H5Gclose(fx_dataframe(f, "var", FIX_VAR_NAMES, FIX_COLS, NULL, 0));
    fx_close(f);

    // a categorical whose categories name one class twice (merged silently)
    static const char *dup[] = {"T cell", "B cell", "T cell"};
    static const long long dc[FIX_ROWS] = {0, 1, 2, 0, 2, 1, 0};
    fx_labelled_file(P("duplicate_categories.h5ad"), dc, dup, 3);

    // damaged heap references of variable-length strings (obs names)
    damaged_heap_ref("heap_string_length.h5ad", 0);
    damaged_heap_ref("heap_string_address.h5ad", 1);
    damaged_attr_heap("heap_attribute_object.h5ad");
    copied_part("copy_layer_unwritten.h5ad", 1);
    copied_part("copy_attribute_heap.h5ad", 0);
    return 0;
}
