// preflight: see preflight.h.
#include "train/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/log.h"

void preflight_writable(const char *path, const char *option) {
    if (!path || !*path || log_rank() != 0) return;   // rank 0 writes the outputs
    char *dir = path_dir(path), host[64] = "host";
    gethostname(host, sizeof host - 1);
    size_t n = strlen(dir) + sizeof host + 64;
    char *probe = xmalloc(n);
    snprintf(probe, n, "%s/.kida-probe.%s.%ld", dir, host, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        char hint[512];
        snprintf(hint, sizeof hint, "give %s a path in a folder you can write to (nothing was trained yet)", option);
        FATAL(hint, "%s (%s): cannot create files in folder %s: %s", path, option, dir, strerror(errno));
    }
    close(fd);
    unlink(probe);
    free(probe);
    free(dir);
    atomic_clean_stale(path, 0);
}

void preflight_space(const PlannedOutput *o, size_t n) {
    if (log_rank() != 0) return;
    unsigned long *fsid = xcalloc(n ? n : 1, sizeof *fsid);
    double *room = xcalloc(n ? n : 1, sizeof *room);
    int *limit = xcalloc(n ? n : 1, sizeof *limit);
    for (size_t i = 0; i < n; i++) {
        room[i] = o[i].path && *o[i].path ? atomic_room(o[i].path, &fsid[i], &limit[i]) : -1;
        if (room[i] >= 0 && limit[i] && o[i].bytes > room[i])
            FATAL("raise the file size limit (ulimit -f) or write smaller outputs: nothing was trained yet",
                  "%s %s needs at least %.3g MB, more than the file size limit of this process (%.3g MB)", o[i].option,
                  o[i].path, o[i].bytes / 1e6, room[i] / 1e6);
    }
    for (size_t i = 0; i < n; i++) {   // outputs on one file system share its free space
        int first = room[i] >= 0;
        for (size_t j = 0; first && j < i; j++) first = !(room[j] >= 0 && fsid[j] == fsid[i]);
        if (!first || limit[i]) continue;
        double need = 0;
        char names[1024] = "";
        for (size_t j = i; j < n; j++) {
            if (room[j] < 0 || fsid[j] != fsid[i]) continue;
            need += o[j].bytes;
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s %s (%.3g MB)", l ? ", " : "", o[j].option, o[j].path,
                     o[j].bytes / 1e6);
        }
        if (need > room[i])
            FATAL("free space on that file system (or write the outputs elsewhere) before training: nothing was "
                  "trained yet",
                  "not enough free space for the outputs: %s need at least %.3g MB, the file system has %.3g MB free",
                  names, need / 1e6, room[i] / 1e6);
    }
    free(fsid);
    free(room);
    free(limit);
}

double preflight_model_bytes(const ModelConfig *mc, int n_models, int with_state) {
    size_t np = model_param_layout(&(ParamTensors){0}, NULL, mc);
    double b = 4.0 * (double)np * n_models + 16.0 * (double)mc->G + 8.0 * (double)mc->M + 64.0 * (double)mc->P;
    if (with_state) b += 8.0 * (double)np;   // Adam moments
    return b;
}

void preflight_network(const ModelConfig *mc, size_t max_B, int n_models, const Dist *d) {
    double blas = (double)max_B * (double)mc->T * 3.0 * (double)mc->C;
    if (blas > (double)INT_MAX / 4)
        FATAL("lower --batch-size, --width or --n-pathways, or use more ranks (each takes its share of a batch)",
              "the network is too large for BLAS's 32-bit sizes: %zu cells per rank x %zu tokens x 3 x width %zu = %.4g "
              "values in one product (want <= %d)",
              max_B, mc->T, mc->C, blas, INT_MAX / 4);
    size_t np = model_param_layout(&(ParamTensors){0}, NULL, mc);
    size_t na = model_act_layout(&(ActTensors){0}, NULL, mc, max_B, 1);
    // parameters, gradients, Adam m and v; activations; dropout masks (bytes)
    double need = n_models * (16.0 * (double)np + 4.0 * (double)na + 2.0 * mc->L * (double)max_B * mc->T * mc->C);
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    int per_node = d && d->local_size > 0 ? d->local_size : 1;
    double have = pages > 0 && psize > 0 ? (double)pages * (double)psize / per_node : 0;
    if (have > 0 && need > have)
        FATAL("lower --width, --layers, --n-pathways or --batch-size, or run fewer ranks per node / more nodes",
              "the network needs %.3g GiB per rank (width %zu, %zu layers, %zu tokens, %zu cells per rank step, %d "
              "network(s) in training: %zu parameters), more than this node's memory per rank (%.3g GiB for %d rank(s))",
              need / 1073741824.0, mc->C, mc->L, mc->T, max_B, n_models, np, have / 1073741824.0, per_node);
}

void preflight_warn_unknown(size_t n_unknown, size_t n, double threshold) {
    if (n == 0 || 2 * n_unknown <= n) return;
    log_warn("%zu of %zu cells (%.0f%%) are `unknown` (max probability below --unknown-threshold %.2f, or with "
             "--oor-unknown a novel-type cluster): the model is unsure of most cells. Check that reference and query are of the same tissue and gene naming, train "
             "longer (--epochs), or lower --unknown-threshold",
             n_unknown, n, 100.0 * (double)n_unknown / (double)n, threshold);
}
