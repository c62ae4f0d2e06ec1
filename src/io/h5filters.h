// h5filters: the compression filters of the files users have. h5py's compression='lzf' is
// decoded by kida itself (filter 32000; Debian's hdf5-plugin-lzf does not load: its library lacks
// lzf_decompress); Blosc, LZ4, BZip2 and Bitshuffle come from Debian's filter plugins
// (hdf5-filter-plugin-blosc-serial, hdf5-filter-plugin, installed by tools/install-deps), whose
// folder is added to HDF5's plugin search path (HDF5_PLUGIN_PATH still comes first). A dataset
// whose filter this HDF5 cannot decode is FATAL when it is opened, naming the filter and the fix.
#ifndef KIDA_H5FILTERS_H
#define KIDA_H5FILTERS_H
#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

// Registers the LZF decoder and the plugin folders (once; called by h5u_init).
void h5filters_setup(void);
// FATAL unless every filter of dcpl (the creation properties of dataset name in path) decodes.
void h5filters_require(hid_t dcpl, const char *path, const char *name);
// LZF decompression of in (n_in bytes) into out (room for n_out): the bytes written, or 0 when
// in is not LZF or out is too small (*too_small set then). Exposed for the tests.
size_t h5filters_lzf_decode(const uint8_t *in, size_t n_in, uint8_t *out, size_t n_out, int *too_small);
#endif
