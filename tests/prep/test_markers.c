// test_markers: marker genes per type (one-vs-rest Welch t on the model input) and pathway choice
// by markers: planted markers are found in t order, unlabelled / held-out cells are ignored, a
// type with one cell gets none; the round-robin over types takes each type's best set first, then fills by enrichment.
// Exit 0 pass, 1 fail.
#include "prep/markers.h"
#include "prep/pathways.h"
#include "tests/prep/prep_testutil.h"

static Dist g_solo = {.rank = 0, .size = 1};

// 12 cells x 6 genes: type 0 = cells 0-3 (genes 0, 1 high; gene 0 the strongest), type 1 = cells
// 4-7 (gene 2 high, gene 3 a little), type 2 = cell 8 (alone), cells 9-10 unlabelled (huge gene 4,
// which must not count), cell 11 held out (y = -1, gene 5 huge).
static float value(int i, int g) {
    float base = 0.1f * (float)((i * 7 + g * 3) % 5);  // noise so that variances are not 0
    if (i < 4 && g == 0) return 5 + base;
    if (i < 4 && g == 1) return 2 + base;
    if (i >= 4 && i < 8 && g == 2) return 4 + base;
    if (i >= 4 && i < 8 && g == 3) return 1 + base;
    if ((i == 9 || i == 10) && g == 4) return 50;
    if (i == 11 && g == 5) return 50;
    return base;
}

static Csr rows(int r0, int r1) {
    Csr m = csr_alloc((size_t)(r1 - r0), 6, (size_t)(r1 - r0) * 6);
    m.row_start = (size_t)r0;
    size_t o = 0;
    for (int i = r0; i < r1; i++) {
        for (int g = 0; g < 6; g++) {
            float v = value(i, g);
            if (v != 0) { m.indices[o] = g; m.data[o++] = v; }
        }
        m.indptr[i - r0 + 1] = (int64_t)o;
    }
    return m;
}

int main(void) {
    t_mkdir();
    int32_t y[12] = {0, 0, 0, 0, 1, 1, 1, 1, 2, -1, -1, -1};
    Csr all = rows(0, 12);
    Markers mk = markers_find(&all, y, 3, 2, &g_solo);
    CHECK(mk.K == 3 && mk.n == 2, "K 3, 2 markers per type");
    CHECK(mk.count[0] == 2 && mk.gene[0] == 0 && mk.gene[1] == 1, "type 0: genes 0 then 1 (got %zu: %d %d)", mk.count[0],
          mk.gene[0], mk.gene[1]);
    CHECK(mk.count[1] == 2 && mk.gene[2] == 2 && mk.gene[3] == 3, "type 1: genes 2 then 3 (got %zu: %d %d)", mk.count[1],
          mk.gene[2], mk.gene[3]);
    CHECK(mk.count[2] == 0, "type 2 has one cell: no markers (got %zu)", mk.count[2]);
    // unlabelled cells (huge gene 4) and the held-out one (huge gene 5) never reach a type's markers
    int leak = 0;
    for (size_t k = 0; k < 2; k++)
        for (size_t j = 0; j < mk.count[k]; j++) leak |= mk.gene[k * 2 + j] >= 4;
    CHECK(!leak, "unlabelled and held-out cells are not used");

    // pathway choice: model genes G0..G5; universe adds X1..X8
    static char *model[6] = {"G0", "G1", "G2", "G3", "G4", "G5"};
    t_write("m.gmt",
            "ENRICHED\td\tG4\tG5\tG3\tG1\tG0\n"          // all model genes: best by enrichment, 2 markers of 0
            "TYPE1\td\tG2\tG3\tG4\tX1\tX2\n"             // both markers of type 1
            "TYPE0\td\tG0\tG1\tG5\tX3\tX4\tX5\n"         // both markers of type 0
            "OTHER\td\tG4\tG5\tG2\tX6\tX7\tX8\n");       // one marker of type 1
    char *paths[1] = {(char *)t_path("m.gmt")};
    GeneSets gs = gmt_read(paths, 1);
    PathwayOptions o = pathway_options_default();
    o.min_size = 3;
    o.n_pathways = 3;
    Pathways plain = pathways_select(&gs, model, 6, &o);
    CHECK(plain.P == 3 && !strcmp(plain.names[0], "ENRICHED"), "without markers: enrichment order (first %s)", plain.names[0]);
    o.markers = &mk;
    o.marker_p = 0.5;  // a toy universe: nothing is significant at 0.05
    Pathways p = pathways_select(&gs, model, 6, &o);
    CHECK(p.P == 3, "3 chosen (got %zu)", p.P);
    if (p.P == 3) {
        // round 1: type 0's best (TYPE0: 2 of its 3 model genes are markers), type 1's best (TYPE1);
        // then the rest by enrichment: ENRICHED
        CHECK(!strcmp(p.names[0], "TYPE0") && !strcmp(p.names[1], "TYPE1") && !strcmp(p.names[2], "ENRICHED"),
              "markers first: TYPE0, TYPE1, then ENRICHED (got %s %s %s)", p.names[0], p.names[1], p.names[2]);
    }
    pathways_free(&plain);
    pathways_free(&p);
    gmt_free(&gs);
    markers_free(&mk);
    csr_free(&all);
    t_cleanup();
    return t_fail;
}
