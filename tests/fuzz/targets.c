// targets: see targets.h.
#include "tests/fuzz/targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/options.h"
#include "io/genes_annot.h"
#include "io/gmt.h"
#include "io/h5ad.h"
#include "io/inspect.h"

static void run_gmt(const char *path) {
    char *paths[1] = {(char *)path};
    GeneSets gs = gmt_read(paths, 1);
    gmt_free(&gs);
}

static void run_annot(const char *path) {
    GeneCoords g = gene_coords_read(path);
    gene_coords_free(&g);
}

// A config file given to `kida annotate --config FILE`, then printed as the resolved options.
static void run_config(const char *path) {
    // the required options on the command line, so that a valid file reaches config_to_text
    char *argv[] = {"kida", "annotate", "--config", (char *)path, "--reference", "r.h5ad", "--query", "q.h5ad",
                    "--out", "o.h5ad", NULL};
    Config c;
    if (config_parse(&c, 10, argv) == 0) free(config_to_text(&c));
    config_free(&c);
}

// What `kida inspect` reads (shape, X values, obs columns as labels, names), and every obsm
// entry and the raw matrix as the pipeline reads them.
static void run_h5ad(const char *path) {
    FILE *out = fopen("/dev/null", "w");
    if (!out) return;
    inspect_print(path, NULL, out);
    fclose(out);
    H5ad *h = h5ad_open(path, NULL, 0, NULL);
    size_t nk = 0;
    char **keys = h5ad_obsm_keys(h, &nk);
    for (size_t i = 0; i < nk; i++) {
        size_t cols = 0, n = h5ad_n_obs(h) < 64 ? h5ad_n_obs(h) : 64;
        free(h5ad_obsm(h, keys[i], 0, n, &cols));
    }
    strv_free(keys, nk);
    h5ad_close(h);
}

static const FuzzTarget TARGETS[] = {
    {"gmt", ".gmt", run_gmt},
    {"gtf", ".gtf", run_annot},
    {"bed", ".bed", run_annot},
    {"config", ".conf", run_config},
    {"h5ad", ".h5ad", run_h5ad},
};

const FuzzTarget *fuzz_target(const char *name) {
    for (size_t i = 0; i < sizeof TARGETS / sizeof TARGETS[0]; i++)
        if (!strcmp(TARGETS[i].name, name)) return &TARGETS[i];
    return NULL;
}

const char *fuzz_target_names(void) { return "gmt, gtf, bed, config, h5ad"; }
