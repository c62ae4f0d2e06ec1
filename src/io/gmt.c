// gmt: see gmt.h.
#include "io/gmt.h"

#include <string.h>

#include "core/log.h"
#include "core/strmap.h"
#include "io/gzline.h"

// Appends the set parsed from one line's fields (name, desc, genes...) to gs, deduplicating the
// genes. Returns 0 (and stores nothing) when the set has no genes.
static int gmt_add_set(GeneSets *gs, size_t *cap, char **fields, size_t n_fields) {
    GeneSet s = {.name = xstrdup(fields[0]), .desc = xstrdup(fields[1])};
    s.genes = xmalloc((n_fields > 2 ? n_fields - 2 : 1) * sizeof *s.genes);
    StrMap seen = strmap_new(n_fields);
    for (size_t i = 2; i < n_fields; i++) {
        char *g = str_trim(fields[i]);
        if (!*g || !strmap_put(&seen, g, 0, NULL)) continue;
        s.genes[s.n_genes++] = xstrdup(g);
    }
    strmap_free(&seen);
    if (s.n_genes == 0) {
        free(s.name); free(s.desc); free(s.genes);
        return 0;
    }
    if (gs->n_sets == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        gs->sets = xrealloc(gs->sets, *cap * sizeof *gs->sets);
    }
    gs->sets[gs->n_sets++] = s;
    return 1;
}

GeneSets gmt_read(char *const *paths, size_t n_paths) {
    GeneSets gs = {0};
    size_t cap = 0, n_empty = 0, n_dup = 0;
    const char *first_empty = NULL, *first_dup = NULL;
    char *first_empty_copy = NULL, *first_dup_copy = NULL;
    StrMap names = strmap_new(4096);
    size_t max_fields = 1024;
    char **fields = xmalloc(max_fields * sizeof *fields);
    if (n_paths == 0) FATAL("pass --gmt FILE", "no GMT file given");
    for (size_t p = 0; p < n_paths; p++) {
        GzLines *f = gzlines_open(paths[p], "GMT file");
        log_push_context("reading GMT file '%s'", paths[p]);
        size_t len, before = gs.n_sets;
        char *line;
        while ((line = gzlines_next(f, &len))) {
            if (str_is_blank(line)) continue;
            size_t need = 1;
            for (const char *c = line; *c; c++) need += *c == '\t';
            if (need > GMT_MAX_GENES + 2)
                FATAL("a gene set lists genes of one genome: split the file's sets or remove the line",
                      "GMT file '%s' line %zu: %zu tab-separated fields (want at most %d genes per set): '%.60s'",
                      paths[p], gzlines_lineno(f), need, GMT_MAX_GENES, line);
            if (need > max_fields) {
                max_fields = need;
                fields = xrealloc_for(fields, max_fields * sizeof *fields, "GMT file '%s' line %zu: %zu fields", paths[p],
                                      gzlines_lineno(f), need);
            }
            size_t nf = str_split(line, '\t', fields, max_fields);
            if (nf < 2)
                FATAL("GMT lines are NAME<TAB>DESCRIPTION<TAB>GENE<TAB>GENE... (tab-separated)",
                      "GMT file '%s' line %zu: fewer than 2 tab-separated fields (got 1, want >= 2): '%.60s'",
                      paths[p], gzlines_lineno(f), line);
            char *name = str_trim(fields[0]);
            if (!*name)
                FATAL("every GMT line starts with a set name", "GMT file '%s' line %zu: empty set name (field 1)",
                      paths[p], gzlines_lineno(f));
            fields[0] = name;
            fields[1] = str_trim(fields[1]);
            if (strmap_get(&names, name, -1) >= 0) {
                if (!n_dup++) first_dup_copy = xstrdup(name), first_dup = first_dup_copy;
                continue;
            }
            if (!gmt_add_set(&gs, &cap, fields, nf)) {
                if (!n_empty++) first_empty_copy = xstrdup(name), first_empty = first_empty_copy;
                continue;
            }
            strmap_put(&names, name, (int64_t)gs.n_sets - 1, NULL);
        }
        log_info("gene sets: %zu read from %s", gs.n_sets - before, paths[p]);
        log_pop_context();
        gzlines_close(f);
    }
    if (n_empty)
        log_warn("GMT: %zu gene set(s) with no genes skipped (first: '%s')", n_empty, first_empty);
    if (n_dup)
        log_warn("GMT: %zu gene set(s) repeat an earlier set's name and were skipped, keeping the first "
                 "definition (first repeated: '%s')", n_dup, first_dup);
    free(first_empty_copy);
    free(first_dup_copy);
    free(fields);
    strmap_free(&names);
    if (gs.n_sets == 0)
        FATAL("give a GMT file with gene sets: NAME<TAB>DESCRIPTION<TAB>GENE...",
              "no gene set with genes in %s%s (got 0 sets)", paths[0], n_paths > 1 ? " and the other GMT files" : "");
    return gs;
}

void gmt_free(GeneSets *gs) {
    for (size_t i = 0; i < gs->n_sets; i++) {
        GeneSet *s = &gs->sets[i];
        for (size_t g = 0; g < s->n_genes; g++) free(s->genes[g]);
        free(s->genes);
        free(s->name);
        free(s->desc);
    }
    free(gs->sets);
    memset(gs, 0, sizeof *gs);
}
