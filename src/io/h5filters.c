// h5filters: see h5filters.h.
#include "io/h5filters.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

#define FILTER_LZF 32000

// An LZF stream is a sequence of runs, each opened by a control byte c:
//   c < 32   c+1 literal bytes follow;
//   c >= 32  a copy of earlier output: length c>>5 (7: plus the next byte) + 2, distance
//            ((c & 31) << 8 | next byte) + 1 back from the end of the output so far; the copy
//            may overlap what it writes, so it goes byte by byte.
size_t h5filters_lzf_decode(const uint8_t *in, size_t n_in, uint8_t *out, size_t n_out, int *too_small) {
    const uint8_t *ip = in, *end = in + n_in;
    uint8_t *op = out;
    *too_small = 0;
    while (ip < end) {
        size_t c = *ip++, len, room = n_out - (size_t)(op - out);
        if (c < 32) {
            len = c + 1;
            if ((size_t)(end - ip) < len) return 0;
            if (room < len) return *too_small = 1, 0;
            memcpy(op, ip, len);
            ip += len;
        } else {
            len = c >> 5;
            if (len == 7) {
                if (ip >= end) return 0;
                len += *ip++;
            }
            len += 2;
            if (ip >= end) return 0;
            size_t dist = ((c & 31) << 8 | *ip++) + 1;
            if (dist > (size_t)(op - out)) return 0;
            if (room < len) return *too_small = 1, 0;
            const uint8_t *ref = op - dist;
            for (size_t i = 0; i < len; i++) op[i] = ref[i];
        }
        op += len;
    }
    return (size_t)(op - out);
}

// The HDF5 filter callback (decode only; kida never writes LZF). h5py stores the chunk's size
// in bytes as the third client value; without it the output buffer grows until it fits.
static size_t lzf_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                         size_t *buf_size, void **buf) {
    if (!(flags & H5Z_FLAG_REVERSE)) return 0;
    size_t cap = cd_nelmts >= 3 && cd_values[2] ? cd_values[2] : 4 * nbytes + 64;
    for (int tries = 0; tries < 20; tries++, cap *= 2) {
        uint8_t *out = H5allocate_memory(cap, 0);
        if (!out) return 0;
        int too_small = 0;
        size_t got = h5filters_lzf_decode(*buf, nbytes, out, cap, &too_small);
        if (got) {
            H5free_memory(*buf);
            *buf = out;
            *buf_size = cap;
            return got;
        }
        H5free_memory(out);
        if (!too_small) return 0;
    }
    return 0;
}

static const H5Z_class2_t LZF_CLASS = {H5Z_CLASS_T_VERS, (H5Z_filter_t)FILTER_LZF, 0, 1, "lzf (kida's decoder)", NULL,
                                       NULL, lzf_filter};

// Where Debian's filter plugins land (serial builds; they load into the MPI build as well).
static const char *const PLUGIN_DIRS[] = {"/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins",
                                          "/usr/lib/aarch64-linux-gnu/hdf5/serial/plugins",
                                          "/usr/lib/powerpc64le-linux-gnu/hdf5/serial/plugins",
                                          "/usr/lib/hdf5/serial/plugins"};

void h5filters_setup(void) {
    static int done = 0;
    if (done) return;
    done = 1;
    // libhdf5 reads HDF5_PLUGIN_PATH once, when its plugin module starts, and on some installs a
    // folder appended later (H5PLappend) was not searched: without a path of the user's, Debian's
    // folders become the path before the first HDF5 call; after the user's, they are appended.
    int user_path = getenv("HDF5_PLUGIN_PATH") != NULL;
    char list[512] = "";
    for (size_t i = 0; i < sizeof PLUGIN_DIRS / sizeof *PLUGIN_DIRS; i++)
        if (access(PLUGIN_DIRS[i], R_OK | X_OK) == 0 && strlen(list) + strlen(PLUGIN_DIRS[i]) + 2 < sizeof list) {
            if (*list) strcat(list, ":");
            strcat(list, PLUGIN_DIRS[i]);
        }
    if (!user_path && *list) setenv("HDF5_PLUGIN_PATH", list, 0);
    if (H5Zregister(&LZF_CLASS) < 0) log_warn("HDF5 refused kida's LZF decoder: files written with compression='lzf' cannot be read");
    for (char *dir = user_path && *list ? strtok(list, ":") : NULL; dir; dir = strtok(NULL, ":")) H5PLappend(dir);
}

// The Debian package that decodes filter id, or NULL.
static const char *package_of(H5Z_filter_t id) {
    switch (id) {
    case 32001: return "hdf5-filter-plugin-blosc-serial";
    case 307: case 32004: case 32008: return "hdf5-filter-plugin";
    default: return NULL;
    }
}

void h5filters_require(hid_t dcpl, const char *path, const char *name) {
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; i++) {
        unsigned flags = 0, conf = 0;
        size_t ne = 0;
        char fname[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ne, NULL, sizeof fname, fname, &conf);
        if (id < 0 || H5Zfilter_avail(id) > 0) continue;
        const char *pkg = package_of(id);
        char hint[768];
        snprintf(hint, sizeof hint,
                 "%s%s%s and point HDF5_PLUGIN_PATH at the folder of its plugin if it is not %s, or write the file "
                 "again with gzip (adata.write_h5ad(path, compression='gzip')) or uncompressed",
                 pkg ? "install Debian's " : "install the HDF5 filter plugin for it", pkg ? pkg : "",
                 pkg ? " (tools/install-deps does)" : "", PLUGIN_DIRS[0]);
        FATAL(hint, "%s: dataset '%s' is compressed with the '%s' filter (HDF5 filter %d), which this HDF5 cannot decode "
              "(no plugin for it found)", path, name, *fname ? fname : "unnamed", (int)id);
    }
}
