// test_gmt: GMT reading: CRLF line ends, blank lines, an empty set, repeated set names across
// files, repeated genes within a set, a .gz file, a very long line, a last line without a newline,
// and the FATAL errors (short line with file:line, missing file, no sets). Exit 0 pass, 1 fail.
#include "io/gmt.h"
#include "tests/prep/prep_testutil.h"

static const GeneSet *find(const GeneSets *gs, const char *name) {
    for (size_t i = 0; i < gs->n_sets; i++)
        if (!strcmp(gs->sets[i].name, name)) return &gs->sets[i];
    return NULL;
}

static void read_one(void *path) {
    char *p[1] = {path};
    GeneSets gs = gmt_read(p, 1);
    gmt_free(&gs);
}

int main(void) {
    t_mkdir();
    // a.gmt: CRLF, a blank line, a whitespace-only line, an empty set, a repeated gene,
    // an empty gene field, and a last line without a newline
    t_write("a.gmt",
            "SET_A\tdesc a\tG1\tG2\tG3\r\n"
            "\r\n"
            "   \t \r\n"
            "EMPTY_SET\tnothing here\t\t\r\n"
            "SET_B\t\tG2\tG4\tG2\t\tG5 \r\n"
            "NO_GENES_AT_ALL\tdesc\r\n"
            "SET_C\tdesc c\tG9");
    // b.gmt.gz: repeats SET_A (ignored, first definition kept) and adds SET_D
    t_write_gz("b.gmt.gz", "SET_A\tsecond definition\tX1\tX2\nSET_D\td\tG1\tG7\n\n");
    // long.gmt: one set with 5000 genes (a line far longer than the reader's first buffer)
    size_t cap = 5000 * 12 + 64;
    char *big = malloc(cap);
    size_t o = (size_t)snprintf(big, cap, "BIG\tlong");
    for (int i = 0; i < 5000; i++) o += (size_t)snprintf(big + o, cap - o, "\tGENE%d", i);
    snprintf(big + o, cap - o, "\n");
    t_write("long.gmt", big);
    free(big);

    char *paths[3] = {(char *)t_path("a.gmt"), (char *)t_path("b.gmt.gz"), (char *)t_path("long.gmt")};
    GeneSets gs = gmt_read(paths, 3);
    CHECK(gs.n_sets == 5, "sets read: %zu (want 5: SET_A SET_B SET_C SET_D BIG)", gs.n_sets);
    const GeneSet *a = find(&gs, "SET_A"), *b = find(&gs, "SET_B"), *c = find(&gs, "SET_C"), *d = find(&gs, "SET_D");
    const GeneSet *bg = find(&gs, "BIG");
    CHECK(a && a->n_genes == 3 && !strcmp(a->genes[2], "G3") && !strcmp(a->desc, "desc a"),
          "SET_A keeps its first definition, CR stripped (%zu genes)", a ? a->n_genes : 0);
    CHECK(b && b->n_genes == 3 && !strcmp(b->genes[0], "G2") && !strcmp(b->genes[1], "G4") && !strcmp(b->genes[2], "G5"),
          "SET_B: repeated gene and empty field dropped, order kept, spaces trimmed");
    CHECK(b && !strcmp(b->desc, ""), "SET_B: empty description");
    CHECK(c && c->n_genes == 1 && !strcmp(c->genes[0], "G9"), "SET_C: last line without newline");
    CHECK(d && d->n_genes == 2 && !strcmp(d->genes[1], "G7"), "SET_D from the .gz file");
    CHECK(bg && bg->n_genes == 5000 && !strcmp(bg->genes[4999], "GENE4999"), "BIG: 5000 genes on one line");
    CHECK(!find(&gs, "EMPTY_SET") && !find(&gs, "NO_GENES_AT_ALL"), "sets without genes skipped");
    CHECK(!strcmp(gs.sets[0].name, "SET_A") && !strcmp(gs.sets[4].name, "BIG"), "file order kept");
    gmt_free(&gs);
    CHECK(gs.sets == NULL && gs.n_sets == 0, "gmt_free zeroes");

    // the shipped default reads (exact counts from `wc -l` / awk over the file)
    char *dflt[1] = {KIDA_SRCDIR "/data/gene_sets/reactome.gmt"};
    if (access(dflt[0], R_OK) == 0) {
        GeneSets r = gmt_read(dflt, 1);
        CHECK(r.n_sets == 1654, "shipped reactome.gmt: %zu sets (want 1654)", r.n_sets);
        const GeneSet *il6 = find(&r, "REACTOME_INTERLEUKIN_6_SIGNALING");
        CHECK(il6 && il6->n_genes == 11 && !strcmp(il6->genes[0], "JAK2"), "REACTOME_INTERLEUKIN_6_SIGNALING: 11 genes");
        gmt_free(&r);
    }

    // errors
    t_write("short.gmt", "OK\tdesc\tG1\nONLYNAME\n");
    t_expect_fatal("line with one field names file:line", read_one, (void *)t_path("short.gmt"),
                   (const char *const[]){"short.gmt' line 2", "fewer than 2", "HINT:", NULL});
    t_write("crlf_short.gmt", "\r\nOK\tdesc\tG1\r\nBAD \r\n");
    t_expect_fatal("CRLF file, one field on line 3", read_one, (void *)t_path("crlf_short.gmt"),
                   (const char *const[]){"crlf_short.gmt' line 3", NULL});
    t_expect_fatal("missing file", read_one, (void *)t_path("nope.gmt"),
                   (const char *const[]){"cannot open GMT file", "nope.gmt", "HINT:", NULL});
    t_write("empty.gmt", "\n\nA\tdesc\n");
    t_expect_fatal("no set with genes", read_one, (void *)t_path("empty.gmt"),
                   (const char *const[]){"no gene set with genes", NULL});
    t_write("trunc.gmt.gz", "");
    {   // a gzip stream cut in half
        gzFile g = gzopen(t_path("full.gz"), "wb");
        for (int i = 0; i < 2000; i++) gzprintf(g, "S%d\td\tG%d\tH%d\n", i, i, i);
        gzclose(g);
        FILE *f = fopen(t_path("full.gz"), "rb");
        char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        f = fopen(t_path("trunc.gmt.gz"), "wb");
        fwrite(buf, 1, n / 2, f);
        fclose(f);
    }
    t_expect_fatal("truncated .gz", read_one, (void *)t_path("trunc.gmt.gz"),
                   (const char *const[]){"trunc.gmt.gz", "truncated", NULL});
    t_cleanup();
    printf("%s\n", t_fail ? "FAIL" : "PASS");
    return t_fail;
}
