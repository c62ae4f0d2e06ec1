// test_genematch: gene name matching: exact, case-insensitive, through an id -> symbol map (query
// IDs to model symbols and model IDs to query symbols), repeated names, and the below-floor FATAL
// with its hints (Ensembl IDs vs symbols -> --gene-map; case -> --gene-case-insensitive).
// Exit 0 pass, 1 fail.
#include "prep/genematch.h"
#include "tests/prep/prep_testutil.h"

static char *model[6] = {"CD3E", "MS4A1", "LYZ", "NKG7", "GNLY", "CD14"};

typedef struct { char **names; size_t n; MatchOptions o; } MatchCall;
static void run_match(void *arg) {
    MatchCall *c = arg;
    size_t m;
    free(genes_match(model, 6, c->names, c->n, &c->o, "query.h5ad", &m));
}

int main(void) {
    t_mkdir();
    MatchOptions o = match_options_default();
    CHECK(o.min_overlap == 0.5 && !o.case_insensitive && !o.map_path, "defaults: exact, no map, floor 0.5");

    // exact: columns in another order, an extra gene, a missing one (CD14), a case variant (nkg7)
    char *q1[6] = {"LYZ", "XIST", "CD3E", "nkg7", "GNLY", "MS4A1"};
    size_t m = 99;
    int32_t *c = genes_match(model, 6, q1, 6, &o, "q1", &m);
    CHECK(m == 4 && c[0] == 2 && c[1] == -1 && c[2] == 0 && c[3] == -1 && c[4] == 4 && c[5] == 1,
          "exact: 4/6 matched, map [2,-1,0,-1,4,1] (got %zu: %d %d %d %d %d %d)", m, c[0], c[1], c[2], c[3], c[4], c[5]);
    free(c);
    // case-insensitive picks up nkg7
    o.case_insensitive = 1;
    c = genes_match(model, 6, q1, 6, &o, "q1", &m);
    CHECK(m == 5 && c[3] == 3, "case-insensitive: 5/6, nkg7 -> NKG7");
    free(c);
    o.case_insensitive = 0;
    // a repeated query name: the first column wins
    char *q2[4] = {"CD3E", "LYZ", "CD3E", "GNLY"};
    c = genes_match(model, 6, q2, 4, &o, "q2", &m);
    CHECK(m == 3 && c[0] == 0 && c[2] == -1, "repeated query gene: first column used, second -1");
    free(c);

    // map file: query Ensembl IDs -> symbols (a comment, a CRLF line, a repeated id keeps its first)
    t_write("map.tsv",
            "# id\tsymbol\nENSG00000198851\tCD3E\r\nENSG00000156738\tMS4A1\nENSG00000090382\tLYZ\n"
            "ENSG00000105374\tNKG7\nENSG00000115523\tGNLY\nENSG00000170458\tCD14\nENSG00000170458\tWRONG\n");
    char *q3[5] = {"ENSG00000170458", "ENSG00000090382", "ENSG00000105374", "ENSG00000000003", "GNLY"};
    o.map_path = t_path("map.tsv");
    c = genes_match(model, 6, q3, 5, &o, "q3", &m);
    CHECK(m == 4 && c[0] == 5 && c[1] == 2 && c[2] == 3 && c[3] == -1 && c[4] == 4,
          "map: IDs translated to symbols, untranslated symbol still matches (%zu)", m);
    free(c);
    // the other direction: the model has IDs, the query symbols
    char *model_ids[3] = {"ENSG00000198851", "ENSG00000090382", "ENSG00000115523"};
    char *q4[3] = {"GNLY", "CD3E", "LYZ"};
    c = genes_match(model_ids, 3, q4, 3, &o, "q4", &m);
    CHECK(m == 3 && c[0] == 2 && c[1] == 0 && c[2] == 1, "map: model IDs vs query symbols");
    free(c);
    o.map_path = NULL;

    // below the floor
    MatchCall ids = {.names = (char *[]){"ENSG00000198851", "ENSG00000156738", "ENSG00000090382", "LYZ"}, .n = 4, .o = o};
    t_expect_fatal("Ensembl IDs vs symbols: hint --gene-map", run_match, &ids,
                   (const char *const[]){"query.h5ad", "got 1/6", "want >= 50.0%", "Ensembl", "--gene-map", NULL});
    MatchCall lower = {.names = (char *[]){"cd3e", "ms4a1", "lyz", "nkg7"}, .n = 4, .o = o};
    t_expect_fatal("lower-case names: hint --gene-case-insensitive", run_match, &lower,
                   (const char *const[]){"got 0/6", "4/6", "--gene-case-insensitive", NULL});
    MatchCall other = {.names = (char *[]){"Cd3e", "Foo", "Bar"}, .n = 3, .o = o};
    other.o.min_overlap = 0.9;
    t_expect_fatal("unrelated names: general hint", run_match, &other,
                   (const char *const[]){"got 0/6", "want >= 90.0%", "species", NULL});
    MatchCall badmap = {.names = q1, .n = 6, .o = o};
    t_write("bad.tsv", "ENSG1\tA\nENSG2\n");
    badmap.o.map_path = t_path("bad.tsv");
    t_expect_fatal("map file line with one field", run_match, &badmap,
                   (const char *const[]){"bad.tsv' line 2", NULL});
    badmap.o.map_path = t_path("missing.tsv");
    t_expect_fatal("missing map file", run_match, &badmap, (const char *const[]){"cannot open gene map", NULL});
    // exactly at the floor passes: 3/6 = 0.5
    char *q5[3] = {"CD3E", "LYZ", "CD14"};
    c = genes_match(model, 6, q5, 3, &o, "q5", &m);
    CHECK(m == 3, "3/6 at floor 0.5 passes");
    free(c);
    t_cleanup();
    printf("%s\n", t_fail ? "FAIL" : "PASS");
    return t_fail;
}
