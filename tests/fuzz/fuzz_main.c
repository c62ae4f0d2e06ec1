// fuzz_main: the libFuzzer entry point for one target (chosen at build time with
// -DKIDA_FUZZ_TARGET=\"name\"). Each input is written to a file in /dev/shm (the parsers read
// files) and read by the target; a FATAL (a refused input: the expected outcome) jumps back here
// instead of ending the process, and every HDF5 object and file descriptor left open is closed.
// A crash, a sanitizer report, a timeout or an out-of-memory report is a finding.
#include <dirent.h>
#include <hdf5.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "io/gzline.h"
#include "io/h5util.h"
#include "tests/fuzz/targets.h"

static jmp_buf g_back;
static void back_from_fatal(void) { longjmp(g_back, 1); }

// Closes every HDF5 object still open (a FATAL leaves the ones it was using): objects, then files.
static void close_all_hdf5(void) {
    unsigned types[2] = {H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR, H5F_OBJ_FILE};
    for (int k = 0; k < 2; k++) {
        ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, types[k]);
        if (n <= 0) continue;
        hid_t *ids = malloc((size_t)n * sizeof *ids);
        n = H5Fget_obj_ids(H5F_OBJ_ALL, types[k], (size_t)n, ids);
        for (ssize_t i = 0; i < n; i++) {
            switch (H5Iget_type(ids[i])) {
            case H5I_FILE: H5Fclose(ids[i]); break;
            case H5I_ATTR: H5Aclose(ids[i]); break;
            case H5I_DATATYPE: H5Tclose(ids[i]); break;
            default: H5Oclose(ids[i]); break;
            }
        }
        free(ids);
    }
}

// File descriptors open now, as a bitmap over [0, FD_MAX) (read from /proc/self/fd).
enum { FD_MAX = 1 << 16 };
static void fds_open(uint8_t *map) {
    memset(map, 0, FD_MAX / 8);
    DIR *d = opendir("/proc/self/fd");
    if (!d) return;
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd != self && fd >= 0 && fd < FD_MAX) map[fd / 8] |= (uint8_t)(1u << (fd % 8));
    }
    closedir(d);
}

// Closes the descriptors opened since `before` was taken: a FATAL leaves the reader's file open
// (gzlines_open's gzFile, a config file). Without this, after `ulimit -n` refused inputs in one
// process fopen below failed and the harness aborted, which libFuzzer counted as a deadly signal.
static void close_new_fds(const uint8_t *before) {
    static uint8_t now[FD_MAX / 8];
    fds_open(now);
    for (int i = 0; i < FD_MAX / 8; i++) {
        unsigned fresh = now[i] & ~before[i] & 0xffu;
        for (int b = 0; fresh && b < 8; b++)
            if (fresh & (1u << b) && 8 * i + b > 2) close(8 * i + b);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    h5u_init();
    log_set_quiet(1);
    log_set_fatal_silent(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const FuzzTarget *t = NULL;
    static char path[256];
    if (!t) {
        t = fuzz_target(KIDA_FUZZ_TARGET);
        if (!t) abort();
        snprintf(path, sizeof path, "/dev/shm/kida-fuzz-%s-%ld%s", t->name, (long)getpid(), t->ext);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort();
    static uint8_t before[FD_MAX / 8];
    fds_open(before);
    log_at_fatal(back_from_fatal);
    if (setjmp(g_back) == 0) t->run(path);
    close_all_hdf5();
    gzlines_close_all();   // the text readers' zlib state (about 100 kB each) and file
    close_new_fds(before);
    H5Eclear2(H5E_DEFAULT);
    unlink(path);
    return 0;
}
