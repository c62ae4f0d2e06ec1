// prep_check: a small driver over the prep area's readers for shell tests of bad input
// (tests/prep/bad_inputs_prep.sh). Prints a one-line summary on success; errors are FATAL (exit 1).
//   prep_check gmt FILE...                      gene sets read
//   prep_check annot FILE                       genes read (GTF or BED)
//   prep_check match MODEL.txt QUERY.txt [--ci] [--map FILE] [--min FRACTION]
//                                               names one per line; prints the matched count
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "io/genes_annot.h"
#include "io/gmt.h"
#include "io/gzline.h"
#include "prep/genematch.h"

// One name per line of path (blank lines skipped) as new strings; *n set.
static char **read_names(const char *path, size_t *n) {
    GzLines *f = gzlines_open(path, "name list");
    size_t cap = 64, len;
    char **v = xmalloc(cap * sizeof *v), *line;
    *n = 0;
    while ((line = gzlines_next(f, &len))) {
        if (str_is_blank(line)) continue;
        if (*n == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[(*n)++] = xstrdup(str_trim(line));
    }
    gzlines_close(f);
    return v;
}

int main(int argc, char **argv) {
    if (argc < 3) FATAL("usage: prep_check gmt|annot|match ARGS...", "missing arguments (got %d)", argc - 1);
    if (!strcmp(argv[1], "gmt")) {
        GeneSets gs = gmt_read(argv + 2, (size_t)(argc - 2));
        printf("sets %zu\n", gs.n_sets);
        gmt_free(&gs);
    } else if (!strcmp(argv[1], "annot")) {
        GeneCoords g = gene_coords_read(argv[2]);
        printf("genes %zu\n", g.n);
        gene_coords_free(&g);
    } else if (!strcmp(argv[1], "match") && argc >= 4) {
        MatchOptions o = match_options_default();
        for (int i = 4; i < argc; i++) {
            if (!strcmp(argv[i], "--ci")) o.case_insensitive = 1;
            else if (!strcmp(argv[i], "--map") && i + 1 < argc) o.map_path = argv[++i];
            else if (!strcmp(argv[i], "--min") && i + 1 < argc) o.min_overlap = atof(argv[++i]);
            else FATAL("options: --ci, --map FILE, --min FRACTION", "unknown option '%s'", argv[i]);
        }
        size_t G, nq, m;
        char **model = read_names(argv[2], &G), **q = read_names(argv[3], &nq);
        int32_t *col = genes_match(model, G, q, nq, &o, argv[3], &m);
        printf("matched %zu/%zu\n", m, G);
        free(col);
        for (size_t i = 0; i < G; i++) free(model[i]);
        for (size_t i = 0; i < nq; i++) free(q[i]);
        free(model);
        free(q);
    } else {
        FATAL("usage: prep_check gmt|annot|match ARGS...", "unknown command '%s'", argv[1]);
    }
    return 0;
}
