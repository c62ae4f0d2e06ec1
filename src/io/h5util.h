// h5util: checked HDF5 helpers shared by the h5ad reader, writer and inspect.
// Every helper that can fail takes the file path and object name it is working on, so that a
// failure is a FATAL message that names both (plus HDF5's own innermost error text) and a HINT.
// HDF5's automatic error printing is switched off by h5u_init(): errors are reported our way.
#ifndef KIDA_H5UTIL_H
#define KIDA_H5UTIL_H
#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "mpi/dist.h"

// Switches off HDF5's own error printing (idempotent; call before any other HDF5 call).
void h5u_init(void);
// HDF5's description of the innermost error on the current error stack, in buf (empty if none).
// Call right after the failing HDF5 call, before any other HDF5 call clears the stack.
const char *h5u_errmsg(char *buf, size_t n);

// Opens path read-only; with d != NULL and d->size > 1 through the MPI-IO driver (collective
// over d). Distinguishes "no such file", "not an HDF5 file" and "damaged/truncated HDF5 file"
// in the FATAL message.
hid_t h5u_open_read(const char *path, const Dist *d);
// Closes a file/group/dataset/attribute/type/space id; FATAL (naming path) if HDF5 refuses.
void h5u_close(hid_t id, const char *path);

// 1 if every component of the slash-separated name exists under loc (links, not resolved
// dangling ones), else 0. Never fatal.
int h5u_exists(hid_t loc, const char *name);
// Names of the members of group loc/name, in name order (*n set); NULL with *n = 0 when it is not
// a group. Free with strv_free (h5ad.h). Never fatal.
char **h5u_group_names(hid_t loc, const char *name, size_t *n);
// Object type at loc/name: H5O_TYPE_GROUP, H5O_TYPE_DATASET, or H5O_TYPE_UNKNOWN if absent.
H5O_type_t h5u_obj_type(hid_t loc, const char *name);
// Open a group / dataset or FATAL naming file, object and hint. A dataset is checked with
// h5u_check_dset_storage before it is returned.
hid_t h5u_open_group(hid_t loc, const char *name, const char *path, const char *hint);
hid_t h5u_open_dset(hid_t loc, const char *name, const char *path, const char *hint);
// FATAL (naming path and name) unless the file really stores the dataset's declared elements:
// at least elements x element size bytes (variable-length: the heap references), or for a
// compressed dataset no more than deflate could give back, and no more than the file's size.
// So a small file cannot make a reader scan or allocate terabytes of fill values.
void h5u_check_dset_storage(hid_t ds, const char *path, const char *name);
// Most elements an attribute read by these helpers may have (names of columns, a shape).
#define H5U_MAX_ATTR_POINTS ((hssize_t)1 << 20)
// Element count of attribute attr of obj after checking it against max_points and the bytes
// the file stores for it; -1 when absent. FATAL (naming file, object, attribute) when damaged.
int h5u_attr_points(hid_t obj, const char *attr, hssize_t max_points);

// Dataset rank and dims (up to 8); returns rank. FATAL on HDF5 failure.
int h5u_dset_dims(hid_t dset, hsize_t *dims, const char *path, const char *name);
// Length of a 1-D dataset; FATAL if the dataset is not 1-D.
size_t h5u_dset_len(hid_t dset, const char *path, const char *name);
// Short name of a dataset's value type: "float32", "float64", "int8".."int64", "uint8"..,
// "bool", "string", "enum", "compound", "reference", "other". Never fatal.
const char *h5u_dtype_name(hid_t dset);
// HDF5 class of the dataset's value type (H5T_INTEGER, H5T_FLOAT, H5T_STRING, ...).
H5T_class_t h5u_dtype_class(hid_t dset);
// 1 if the type is h5py's boolean (an 8-bit enum FALSE=0/TRUE=1).
int h5u_type_is_bool(hid_t type);

// The most elements one H5Dread / H5Dwrite of kida moves (MPI-IO counts are int, and a bounded
// transfer bounds the conversion buffers): 2^23, or KIDA_H5_CHUNK (elements, >= 1) when set;
// tests use a few to force the chunked paths.
size_t h5u_xfer_limit(void);
// Reads elements [start, start+count) of a 1-D dataset converted to the memory type, in
// transfers of at most h5u_xfer_limit() elements; FATAL on out-of-range requests or HDF5
// failure, naming file and dataset.
void h5u_read_1d(hid_t dset, hid_t memtype, size_t start, size_t count, void *out,
                 const char *path, const char *name);
// Reads rows [row0, row0+nrows) of a 2-D dataset (all columns), converted to memtype.
void h5u_read_rows_2d(hid_t dset, hid_t memtype, size_t row0, size_t nrows, void *out,
                      const char *path, const char *name);
// FATAL (naming path and name) when a variable-length string of elements [start, start+count)
// of a contiguous dataset points outside the file or to a damaged heap collection (src/io/
// h5vlen.c); checked before libhdf5 follows the references. Other datasets: no check.
void h5u_vlen_precheck(hid_t ds, size_t start, size_t count, const char *path, const char *name);
// The same for the npoints strings of attribute attr of obj, found in obj's object header when it
// is a version-1 header (h5py's default); other headers: no check. FATAL names file and attribute.
void h5u_vlen_attr_precheck(hid_t obj, const char *attr, size_t npoints);
// Elements [start, start+count) of a 1-D dataset as new strings: fixed or variable length
// strings (ASCII or UTF-8; fixed-length padding stripped), or numbers/bools formatted as text
// (integers as "%lld", floats as "%.17g" with NaN as "nan", bools as "True"/"False").
// Variable-length strings are checked with h5u_vlen_precheck first.
char **h5u_read_strings(hid_t dset, size_t start, size_t count, const char *path,
                        const char *name);

// The string value of attribute attr on obj (scalar or first element of an array; fixed or
// variable length), as a new string; NULL if the attribute is absent or not a string.
char *h5u_attr_string(hid_t obj, const char *attr);
// All elements of a string-array attribute as new strings (*n set); NULL with *n = 0 if absent,
// empty or not strings.
char **h5u_attr_strings(hid_t obj, const char *attr, size_t *n);
// Up to max integer elements of attribute attr into out; returns the element count, -1 if the
// attribute is absent or not numeric, -2 if it holds floats that are not whole numbers an int64
// holds (NaN, 1e30, 2.5: never converted).
int h5u_attr_i64(hid_t obj, const char *attr, int64_t *out, int max);

// Writing helpers (serial files). Attributes are written the way h5py writes Python str:
// variable-length UTF-8. An existing attribute of the same name is replaced.
void h5u_set_attr_string(hid_t obj, const char *attr, const char *value, const char *path);
void h5u_set_attr_strings(hid_t obj, const char *attr, char *const *v, size_t n,
                          const char *path);
void h5u_set_attr_i64s(hid_t obj, const char *attr, const int64_t *v, size_t n,
                       const char *path);
void h5u_set_attr_bool(hid_t obj, const char *attr, int value, const char *path);
// h5py's boolean type (8-bit enum FALSE=0, TRUE=1); caller closes it.
hid_t h5u_bool_type(void);
// Creates dataset name under loc with rank 1 or 2 dims and writes buf (memtype -> filetype),
// gzip-compressed and chunked when large. Returns the open dataset (caller closes).
hid_t h5u_write_dset(hid_t loc, const char *name, hid_t filetype, hid_t memtype, int rank,
                     const hsize_t *dims, const void *buf, const char *path);
// A 1-D variable-length UTF-8 string dataset (NULL entries written as "").
hid_t h5u_write_strings(hid_t loc, const char *name, char *const *v, size_t n, const char *path);
// An empty 1-D variable-length UTF-8 string dataset of n elements (chunked, compressed), to be
// filled block by block with h5u_write_strings_at. Returns it open.
hid_t h5u_create_strings(hid_t loc, const char *name, size_t n, const char *path);
// Writes v[0..count) to elements [start, start+count) of a string dataset.
void h5u_write_strings_at(hid_t ds, size_t start, char *const *v, size_t count, const char *path, const char *name);
// Opens path for writing: through the MPI-IO driver, collectively over d, when d has several
// ranks; by this process alone otherwise. FATAL naming path.
hid_t h5u_open_rw(const char *path, const Dist *d);
#endif
