// cli: see cli.h. Sets up ranks and threads, resolves the options, prints the start-up table and
// hands over to the subcommand.
#include "cmd/cli.h"

#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <hdf5.h>
#include <omp.h>
#endif

#include "cmd/commands.h"
#include "config.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/options.h"
#include "core/runstats.h"
#include "mpi/dist.h"
#ifdef HAVE_CUDA
#include "kernels/cuda_device.h"
#endif

// Threads per rank: --threads, else the node's cores shared among the node's ranks.
static int choose_threads(const Config *c, const Dist *d) {
    if (c->threads > 0) return (int)c->threads;
    int cores = 1;
#ifdef _OPENMP
    cores = omp_get_num_procs();
#endif
    int t = cores / (d->local_size > 0 ? d->local_size : 1);
    return t < 1 ? 1 : t;
}

static void print_banner(const Config *c, const Dist *d, int threads) {
    if (d->rank != 0 || c->quiet) return;
    int gpus = 0;
#ifdef HAVE_CUDA
    gpus = cuda_device_count();
#endif
    printf("kida %s %s | %d rank(s) on %d node(s) | %d thread(s)/rank | CPU kernels: %s | build: MPI, parallel HDF5, "
           "OpenBLAS",
           PACKAGE_VERSION, c->cmd_name, d->size, d->n_nodes, threads, cpu_path_name(cpu_path()));
#ifdef HAVE_CUDA
    printf(", CUDA (%d device(s) visible)", gpus);
#else
    printf(", no CUDA");
#endif
#ifdef HAVE_NCCL
    printf(", NCCL");
#endif
#ifdef HAVE_IGRAPH
    printf(", igraph");
#endif
    printf("\noptions:\n");
    config_print_table(c, stdout);
    fflush(stdout);
    (void)gpus;
}

// The HDF5 this process runs on, for `kida --version`: the library loaded (a site build of
// HDF5 1.14 must show here, docs/io.md) and the headers kida was compiled against.
static void print_hdf5_version(void) {
    unsigned maj = 0, min = 0, rel = 0;
    if (H5get_libversion(&maj, &min, &rel) < 0) return;
    printf("HDF5: %u.%u.%u loaded (built against %d.%d.%d)\n", maj, min, rel, H5_VERS_MAJOR, H5_VERS_MINOR,
           H5_VERS_RELEASE);
}

int cli_main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    Config c;
    int rc = 0;
    if (config_parse(&c, argc, argv) == 0) {
        log_set_quiet(c.quiet);
        int threads = choose_threads(&c, &d);
#ifdef _OPENMP
        omp_set_num_threads(threads);
#endif
        cpu_path_agree(&d);  // every rank the same vector path: the same bits on any rank count
        if (c.cmd & (CMD_RUN | CMD_GENESCORE)) print_banner(&c, &d, threads);
        rc = command_run(&c, &d);
        if (c.cmd & (CMD_RUN | CMD_GENESCORE)) run_summary(&d);
    } else if (argc > 1 && !strcmp(argv[1], "--version") && d.rank == 0) {
        print_hdf5_version();
    }
    config_free(&c);
    dist_finalize(&d);
    return rc;
}
