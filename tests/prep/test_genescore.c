// test_genescore: ATAC peaks -> gene activity on hand-made inputs: peak-name forms, the gene
// region (body + window upstream of the TSS on the right side for +, -, and unknown strand,
// clamped at 0, half-open edges), loci sharing a name counted once, overlapping genes, gene-type
// filtering (GENCODE and NCBI spellings, BED without types), chromosome naming reconciliation,
// peak BEDs matched by name and by order, sums of counts per cell, a randomised comparison with
// a brute-force O(peaks x genes) overlap, and the FATAL errors (message, field, HINT).
// Exit 0 pass, 1 fail, 99 setup error.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "prep/genescore.h"
#include "tests/io/run_child.h"

static int n_fail = 0;
#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        int ok_ = !!(cond);                                                                   \
        n_fail += !ok_;                                                                       \
        printf("%-4s ", ok_ ? "ok" : "FAIL");                                                 \
        printf(__VA_ARGS__);                                                                  \
        printf("\n");                                                                         \
    } while (0)

static char tdir[256];

static const char *tpath(const char *name) {
    static char buf[4][512];
    static int i = 0;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tdir, name);
    return buf[i];
}

static void twrite(const char *name, const char *text) {
    FILE *f = fopen(tpath(name), "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "setup error: cannot write %s\n", name);
        exit(99);
    }
}

// Runs fn(arg) in a child: passes when it exits 1 with every string of want on stderr and a HINT.
static void expect_fatal(const char *what, void (*fn)(void *), void *arg, const char *const *want) {
    char err[8192];
    int code = run_child(fn, arg, err, sizeof err);
    int ok = code == 1 && strstr(err, "HINT: ");
    for (const char *const *w = want; ok && *w; w++) ok = strstr(err, *w) != NULL;
    CHECK(ok, "FATAL: %s", what);
    if (!ok) printf("     status %d, stderr:\n%s\n", code, err);
}

// ---- fixtures ------------------------------------------------------------------------------

static GeneCoord gene(const char *chrom, int64_t s, int64_t e, char strand, const char *name, const char *type) {
    GeneCoord g = {.chrom = xstrdup(chrom), .start = s, .end = e, .strand = strand, .name = xstrdup(name),
                   .type = xstrdup(type)};
    return g;
}

static PeakCoord peak(const char *chrom, int64_t s, int64_t e) {
    PeakCoord p = {.chrom = xstrdup(chrom), .start = s, .end = e};
    return p;
}

// 1 if peak p of s is linked to exactly the genes named in want (NULL-terminated).
static int links_are(const GeneScorer *s, size_t p, const char *const *want) {
    size_t n_want = 0;
    for (const char *const *w = want; *w; w++) n_want++;
    if ((size_t)(s->peak_ptr[p + 1] - s->peak_ptr[p]) != n_want) return 0;
    for (const char *const *w = want; *w; w++) {
        int found = 0;
        for (int64_t l = s->peak_ptr[p]; l < s->peak_ptr[p + 1]; l++) found |= !strcmp(s->gene_names[s->peak_gene[l]], *w);
        if (!found) return 0;
    }
    return 1;
}

static size_t gene_index(const GeneScorer *s, const char *name) {
    for (size_t g = 0; g < s->n_genes; g++)
        if (!strcmp(s->gene_names[g], name)) return g;
    return (size_t)-1;
}

// ---- tests ---------------------------------------------------------------------------------

static void test_names(void) {
    struct {
        const char *name, *chrom;
        int64_t s, e;
    } good[] = {{"chr1:100-200", "chr1", 100, 200},      {"chr1-100-200", "chr1", 100, 200},
                {"chr1_100_200", "chr1", 100, 200},      {"chrUn_gl000220:5-10", "chrUn_gl000220", 5, 10},
                {"chr5_180470204_180470704", "chr5", 180470204, 180470704}, {"1:0-1", "1", 0, 1},
                {"GL000194.1-115000-116000", "GL000194.1", 115000, 116000}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        PeakCoord p = {0};
        int ok = genescore_parse_peak_name(good[i].name, &p);
        CHECK(ok && !strcmp(p.chrom, good[i].chrom) && p.start == good[i].s && p.end == good[i].e,
              "peak name '%s' -> %s [%lld, %lld)", good[i].name, good[i].chrom, (long long)good[i].s, (long long)good[i].e);
        free(p.chrom);
    }
    const char *bad[] = {"HLA-A", "chr1:200-100", "chr1:100-100", "chr1:100", ":100-200", "chr1:100-200x", "CD3E",
                         "chr1:1-99999999999999999999", "chr1 100 200"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        PeakCoord p = {0};
        CHECK(!genescore_parse_peak_name(bad[i], &p) && !p.chrom, "'%s' is not a peak name", bad[i]);
    }
}

static void test_regions(void) {
    GeneCoord gs[] = {
        gene("chr1", 1000, 2000, '+', "PLUS", ""),   // region [500, 2000) with window 500
        gene("chr1", 5000, 6000, '-', "MINUS", ""),  // [5000, 6500)
        gene("chr1", 10000, 10100, '.', "NOSTRAND", ""),  // [9500, 10600)
        gene("chr2", 100, 200, '+', "NEARSTART", ""),     // [0, 200)
        gene("chrX", 100, 200, '+', "PAR", ""),
        gene("chrY", 100, 200, '+', "PAR", ""),
        gene("chr3", 1000, 3000, '+', "OVA", ""),   // [500, 3000)
        gene("chr3", 2000, 4000, '-', "OVB", ""),   // [2000, 4500)
        gene("chr3", 2500, 2600, '+', "OVA", ""),   // a second OVA locus inside the first
    };
    GeneCoords g = {.genes = gs, .n = sizeof gs / sizeof *gs};
    PeakCoord ps[] = {
        peak("chr1", 400, 500),    // 0: ends where PLUS's window starts: none
        peak("chr1", 499, 501),    // 1: PLUS (window)
        peak("chr1", 1999, 2000),  // 2: PLUS (last base of the body)
        peak("chr1", 2000, 2100),  // 3: just downstream of PLUS: none
        peak("chr1", 4500, 4999),  // 4: upstream side of MINUS's start is downstream: none
        peak("chr1", 6499, 6600),  // 5: MINUS (window end)
        peak("chr1", 6500, 6600),  // 6: none
        peak("chr1", 9400, 9501),  // 7: NOSTRAND (window before start)
        peak("chr1", 10599, 10700),  // 8: NOSTRAND (window after end)
        peak("chr2", 0, 10),       // 9: NEARSTART (window clamped at 0)
        peak("chrX", 150, 160),    // 10: PAR
        peak("chrY", 150, 160),    // 11: PAR
        peak("chr3", 2550, 2560),  // 12: OVA (two loci, once) and OVB
        peak("chr3", 4400, 4401),  // 13: OVB (window)
        peak("chr9", 0, 100),      // 14: chromosome without genes
        peak("chr1", 1500, 1600),  // 15: PLUS, out of order in the list
    };
    size_t P = sizeof ps / sizeof *ps;
    GeneScoreOptions o = genescore_options_default();
    o.window = 500;
    GeneScorer s = genescore_build(ps, P, &g, &o, "test peaks", "test genes");
    CHECK(s.n_genes == 7 && !strcmp(s.gene_names[0], "PLUS") && !strcmp(s.gene_names[4], "PAR") &&
              !strcmp(s.gene_names[5], "OVA") && !strcmp(s.gene_names[6], "OVB"),
          "genes: 9 loci -> 7 unique names in first-appearance order (got %zu)", s.n_genes);
    static const char *const none[] = {NULL}, *const plus[] = {"PLUS", NULL}, *const minus[] = {"MINUS", NULL},
                             *const nos[] = {"NOSTRAND", NULL}, *const near[] = {"NEARSTART", NULL},
                             *const par[] = {"PAR", NULL}, *const ov[] = {"OVA", "OVB", NULL}, *const ovb[] = {"OVB", NULL};
    const char *const *want[] = {none, plus, plus, none, none, minus, none, nos, nos, near, par, par, ov, ovb, none, plus};
    const char *why[] = {"touching the window start (half-open)", "inside the + window", "last body base",
                         "first base after the body", "downstream of a - gene's start", "inside the - window (after end)",
                         "first base after the - window", "unknown strand: window before start",
                         "unknown strand: window after end", "window clamped at 0", "PAR locus on chrX",
                         "PAR locus on chrY", "two overlapping genes, one of them with two loci (once)",
                         "inside the - window of the overlapping gene", "chromosome without genes",
                         "peaks in any order"};
    for (size_t p = 0; p < P; p++) CHECK(links_are(&s, p, want[p]), "peak %zu: %s", p, why[p]);
    CHECK(s.n_peaks_used == 11, "peaks used: %zu (want 11)", s.n_peaks_used);

    // sums per cell: 3 cells
    Csr rows = csr_alloc(3, P, 7);
    int64_t ip[] = {0, 4, 4, 7};
    int32_t ix[] = {1, 2, 12, 15, 10, 11, 0};
    float v[] = {3, 4, 5, 1, 2, 7, 9};
    memcpy(rows.indptr, ip, sizeof ip);
    memcpy(rows.indices, ix, sizeof ix);
    memcpy(rows.data, v, sizeof v);
    rows.row_start = 40;
    Csr out = genescore_apply(&s, &rows);
    size_t gplus = gene_index(&s, "PLUS"), gova = gene_index(&s, "OVA"), govb = gene_index(&s, "OVB"),
           gpar = gene_index(&s, "PAR");
    int ok = out.n_rows == 3 && out.n_cols == 7 && out.row_start == 40 && out.indptr[1] == 3 && out.indptr[2] == 3 &&
             out.indptr[3] == 4;
    if (ok)
        ok = (size_t)out.indices[0] == gplus && out.data[0] == 8.0f && (size_t)out.indices[1] == gova &&
             out.data[1] == 5.0f && (size_t)out.indices[2] == govb && out.data[2] == 5.0f &&
             (size_t)out.indices[3] == gpar && out.data[3] == 9.0f;
    CHECK(ok, "apply: cell 0 PLUS 3+4+1, OVA 5, OVB 5 (columns ascending); cell 1 empty; cell 2 PAR 2+7 (both loci)");
    csr_free(&out);
    csr_free(&rows);
    genescore_free(&s);

    o.window = 0;
    s = genescore_build(ps, P, &g, &o, "test peaks", "test genes");
    CHECK(links_are(&s, 1, none) && links_are(&s, 5, none) && links_are(&s, 2, plus) && links_are(&s, 9, none),
          "window 0: gene bodies only");
    genescore_free(&s);
    for (size_t i = 0; i < g.n; i++) free(gs[i].chrom), free(gs[i].name), free(gs[i].type);
    for (size_t p = 0; p < P; p++) free(ps[p].chrom);
}

static void test_types(void) {
    GeneCoord gs[] = {gene("chr1", 100, 200, '+', "A", "protein_coding"), gene("chr1", 100, 200, '+', "B", "lncRNA"),
                      gene("chr1", 100, 200, '+', "C", "protein-coding"), gene("chr1", 100, 200, '+', "D", "Protein_Coding")};
    GeneCoords g = {.genes = gs, .n = 4};
    PeakCoord ps[] = {peak("chr1", 150, 151)};
    GeneScoreOptions o = genescore_options_default();
    o.gene_types = "protein_coding";
    GeneScorer s = genescore_build(ps, 1, &g, &o, "p", "g");
    CHECK(s.n_genes == 3 && gene_index(&s, "B") == (size_t)-1, "protein_coding keeps GENCODE, NCBI and mixed-case spellings");
    genescore_free(&s);
    o.gene_types = " lncRNA , snRNA ";
    s = genescore_build(ps, 1, &g, &o, "p", "g");
    CHECK(s.n_genes == 1 && !strcmp(s.gene_names[0], "B"), "comma list with spaces");
    genescore_free(&s);
    o.gene_types = "";
    s = genescore_build(ps, 1, &g, &o, "p", "g");
    CHECK(s.n_genes == 4, "empty list keeps all");
    genescore_free(&s);
    // BED annotations have no types: the filter is not applied
    for (int i = 0; i < 4; i++) gs[i].type[0] = '\0';
    o.gene_types = "protein_coding";
    s = genescore_build(ps, 1, &g, &o, "p", "g");
    CHECK(s.n_genes == 4, "annotation without types: filter not applied (warning)");
    genescore_free(&s);
    for (int i = 0; i < 4; i++) free(gs[i].chrom), free(gs[i].name), free(gs[i].type);
    free(ps[0].chrom);
}

static void test_chroms(void) {
    GeneCoord ucsc[] = {gene("chr1", 100, 200, '+', "A", ""), gene("chrX", 100, 200, '+', "X1", ""),
                        gene("chrM", 100, 200, '+', "MTG", "")};
    GeneCoord ens[] = {gene("1", 100, 200, '+', "A", ""), gene("X", 100, 200, '+', "X1", ""),
                       gene("MT", 100, 200, '+', "MTG", "")};
    GeneCoords gu = {.genes = ucsc, .n = 3}, ge = {.genes = ens, .n = 3};
    PeakCoord pe[] = {peak("1", 150, 160), peak("X", 150, 160), peak("MT", 150, 160), peak("GL000194.1", 0, 10)};
    PeakCoord pu[] = {peak("chr1", 150, 160), peak("chrX", 150, 160), peak("chrM", 150, 160)};
    PeakCoord pm[] = {peak("chr1", 150, 160), peak("X", 150, 160), peak("MT", 150, 160)};
    GeneScoreOptions o = genescore_options_default();
    static const char *const a[] = {"A", NULL}, *const x[] = {"X1", NULL}, *const m[] = {"MTG", NULL}, *const no[] = {NULL};
    GeneScorer s = genescore_build(pe, 4, &gu, &o, "p", "g");
    CHECK(links_are(&s, 0, a) && links_are(&s, 1, x) && links_are(&s, 2, m) && links_are(&s, 3, no),
          "peaks '1','X','MT' onto genes 'chr1','chrX','chrM' (chr added; MT -> chrM; contig left out)");
    genescore_free(&s);
    s = genescore_build(pu, 3, &ge, &o, "p", "g");
    CHECK(links_are(&s, 0, a) && links_are(&s, 1, x) && links_are(&s, 2, m), "peaks 'chr1','chrM' onto genes '1','MT'");
    genescore_free(&s);
    s = genescore_build(pm, 3, &gu, &o, "p", "g");
    CHECK(links_are(&s, 0, a) && links_are(&s, 1, x) && links_are(&s, 2, m), "mixed peak names 'chr1','X' onto UCSC genes");
    genescore_free(&s);
    s = genescore_build(pu, 3, &gu, &o, "p", "g");
    CHECK(links_are(&s, 0, a) && links_are(&s, 2, m), "same naming: as written");
    genescore_free(&s);
    o.chrom_naming = GS_CHROM_ASIS;
    s = genescore_build(pm, 3, &gu, &o, "p", "g");
    CHECK(links_are(&s, 0, a) && links_are(&s, 1, no), "forced as-is naming: 'X' stays unmatched");
    genescore_free(&s);
    for (int i = 0; i < 3; i++) {
        free(ucsc[i].chrom), free(ucsc[i].name), free(ucsc[i].type);
        free(ens[i].chrom), free(ens[i].name), free(ens[i].type);
        free(pu[i].chrom), free(pm[i].chrom);
    }
    for (int i = 0; i < 4; i++) free(pe[i].chrom);
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(uint64_t n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

// The sweep against a brute-force overlap of every peak with every locus.
static void test_random(void) {
    const size_t NG = 700, NP = 3000;
    const char *chroms[] = {"chr1", "chr2", "chr3"};
    GeneCoord *gs = xmalloc(NG * sizeof *gs);
    for (size_t i = 0; i < NG; i++) {
        char name[32];
        snprintf(name, sizeof name, "G%zu", rnd(600));   // some names repeat: multi-locus genes
        int64_t st = (int64_t)rnd(2000000), len = 1 + (int64_t)rnd(i % 10 == 0 ? 200000 : 20000);
        gs[i] = gene(chroms[rnd(3)], st, st + len, "+-."[rnd(3)], name, "");
    }
    PeakCoord *ps = xmalloc(NP * sizeof *ps);
    for (size_t i = 0; i < NP; i++) {
        int64_t st = (int64_t)rnd(2100000), len = 1 + (int64_t)rnd(i % 7 == 0 ? 30000 : 1500);
        ps[i] = peak(chroms[rnd(3)], st, st + len);
    }
    GeneCoords g = {.genes = gs, .n = NG};
    int64_t windows[] = {0, 2000, 50000};
    for (int wi = 0; wi < 3; wi++) {
        GeneScoreOptions o = genescore_options_default();
        o.window = windows[wi];
        GeneScorer s = genescore_build(ps, NP, &g, &o, "random peaks", "random genes");
        size_t bad = 0, links = 0;
        unsigned char *want = xcalloc(s.n_genes, 1);
        for (size_t p = 0; p < NP && bad == 0; p++) {
            memset(want, 0, s.n_genes);
            for (size_t i = 0; i < NG; i++) {
                const GeneCoord *c = &gs[i];
                if (strcmp(c->chrom, ps[p].chrom)) continue;
                int64_t rs = c->start, re = c->end;
                if (c->strand != '-') rs = rs > o.window ? rs - o.window : 0;
                if (c->strand != '+') re += o.window;
                if (ps[p].start < re && rs < ps[p].end) want[gene_index(&s, c->name)] = 1;
            }
            size_t n_want = 0;
            for (size_t k = 0; k < s.n_genes; k++) n_want += want[k];
            links += n_want;
            if ((size_t)(s.peak_ptr[p + 1] - s.peak_ptr[p]) != n_want) bad++;
            for (int64_t l = s.peak_ptr[p]; l < s.peak_ptr[p + 1]; l++) {
                if (!want[s.peak_gene[l]]) bad++;
                if (l > s.peak_ptr[p] && s.peak_gene[l] <= s.peak_gene[l - 1]) bad++;
            }
        }
        CHECK(bad == 0 && links > 1000, "random %zu loci x %zu peaks, window %lld: sweep == brute force (%zu links)", NG,
              NP, (long long)o.window, links);
        free(want);
        genescore_free(&s);
    }
    for (size_t i = 0; i < NG; i++) free(gs[i].chrom), free(gs[i].name), free(gs[i].type);
    free(gs);
    genescore_peaks_free(ps, NP);
}

static char *vars3[] = {"p0", "p1", "p2"};

static void test_bed(void) {
    twrite("named.bed", "track name=peaks\nchr1\t10\t20\tp2\t5\nchr1\t30\t40\tp0\t5\n# comment\nchr2\t1\t2\tp1\t5\n");
    PeakCoord *p = genescore_peaks_from_bed(tpath("named.bed"), vars3, 3, "counts.h5ad");
    CHECK(!strcmp(p[0].chrom, "chr1") && p[0].start == 30 && p[2].start == 10 && !strcmp(p[1].chrom, "chr2"),
          "peak BED matched by name (column 4), any line order");
    genescore_peaks_free(p, 3);
    twrite("plain.bed", "chr1\t10\t20\nchr1\t30\t40\nchr2\t1\t2\n");
    p = genescore_peaks_from_bed(tpath("plain.bed"), vars3, 3, "counts.h5ad");
    CHECK(p[0].start == 10 && p[1].start == 30 && !strcmp(p[2].chrom, "chr2"), "peak BED without names: by line order");
    genescore_peaks_free(p, 3);
    twrite("othernames.bed", "chr1\t10\t20\tx\nchr1\t30\t40\ty\nchr2\t1\t2\tz\n");
    p = genescore_peaks_from_bed(tpath("othernames.bed"), vars3, 3, "counts.h5ad");
    CHECK(p[0].start == 10 && p[2].start == 1, "peak BED whose names differ from var names: by line order");
    genescore_peaks_free(p, 3);
}

// ---- FATAL cases ---------------------------------------------------------------------------

static void f_no_chrom(void *arg) {
    GeneCoord gs[] = {gene("chr1", 100, 200, '+', "A", "")};
    GeneCoords g = {.genes = gs, .n = 1};
    PeakCoord ps[] = {peak("scaffold_7", 1, 2)};
    GeneScoreOptions o = genescore_options_default();
    genescore_build(ps, 1, &g, &o, "atac.h5ad", "genes.bed");
}
static void f_types(void *arg) {
    GeneCoord gs[] = {gene("chr1", 100, 200, '+', "A", "lncRNA")};
    GeneCoords g = {.genes = gs, .n = 1};
    PeakCoord ps[] = {peak("chr1", 1, 2)};
    GeneScoreOptions o = genescore_options_default();
    o.gene_types = "protein_coding";
    genescore_build(ps, 1, &g, &o, "atac.h5ad", "genes.gtf");
}
static void f_ambiguous(void *arg) {
    GeneCoord gs[] = {gene("chr1", 100, 200, '+', "A", ""), gene("2", 100, 200, '+', "B", "")};
    GeneCoords g = {.genes = gs, .n = 2};
    PeakCoord ps[] = {peak("chr1", 1, 200), peak("chr2", 1, 200), peak("chr2", 1, 200)};
    GeneScoreOptions o = genescore_options_default();
    genescore_build(ps, 3, &g, &o, "atac.h5ad", "genes.bed");
}
static void f_window(void *arg) {
    GeneCoord gs[] = {gene("chr1", 100, 200, '+', "A", "")};
    GeneCoords g = {.genes = gs, .n = 1};
    PeakCoord ps[] = {peak("chr1", 1, 2)};
    GeneScoreOptions o = genescore_options_default();
    o.window = -5;
    genescore_build(ps, 1, &g, &o, "atac.h5ad", "genes.bed");
}
static void f_name(void *arg) {
    char *names[] = {"chr1:1-100", "chr1:200-300", "CD3E"};
    genescore_peaks_from_names(names, 3, "atac.h5ad", "give --peaks PEAKS.bed");
}
static void f_bed_count(void *arg) {
    char *v4[] = {"p0", "p1", "p2", "p3"};
    genescore_peaks_from_bed(tpath("plain.bed"), v4, 4, "counts.h5ad");
}
static void f_bed_field(void *arg) { genescore_peaks_from_bed(tpath("badfield.bed"), vars3, 3, "counts.h5ad"); }
static void f_integer(void *arg) {
    Csr r = csr_alloc(1, 3, 1);
    r.indptr[0] = 0, r.indptr[1] = 1, r.indices[0] = 2, r.data[0] = 0.5f, r.row_start = 7;
    genescore_require_integer(&r, vars3, "atac.h5ad");
}
static void f_genes_path(void *arg) { free(genescore_genes_path("/nonexistent/genes.gtf")); }

static void test_fatal(void) {
    expect_fatal("no shared chromosome", f_no_chrom, NULL,
                 (const char *[]){"genes.bed", "none of the peaks' chromosomes", "scaffold_7", "chr1", NULL});
    expect_fatal("gene type filter leaves nothing", f_types, NULL,
                 (const char *[]){"genes.gtf", "protein_coding", "gene_type", "lncRNA (1)", "--gene-types", NULL});
    expect_fatal("ambiguous chromosome naming", f_ambiguous, NULL, (const char *[]){"ambiguous", "atac.h5ad", NULL});
    expect_fatal("negative window", f_window, NULL, (const char *[]){"-5", "window", NULL});
    expect_fatal("unparsable peak name", f_name, NULL, (const char *[]){"atac.h5ad", "var row 2", "'CD3E'", "--peaks", NULL});
    twrite("badfield.bed", "chr1\t10\t20\nchr1\tx30\t40\nchr2\t1\t2\n");
    expect_fatal("peak BED line count != var rows", f_bed_count, NULL,
                 (const char *[]){"plain.bed", "3 peak line(s)", "4 var rows", "counts.h5ad", NULL});
    expect_fatal("peak BED bad start", f_bed_field, NULL, (const char *[]){"badfield.bed' line 2", "field 2 (start)", NULL});
    expect_fatal("non-integer counts", f_integer, NULL, (const char *[]){"atac.h5ad", "row 7", "'p2'", "0.5", NULL});
    expect_fatal("missing gene table", f_genes_path, NULL, (const char *[]){"/nonexistent/genes.gtf", "hg38", NULL});
}

int main(void) {
    const char *base = getenv("TMPDIR");
    snprintf(tdir, sizeof tdir, "%s/kida_genescore_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tdir)) return 99;
    log_set_quiet(1);
    test_names();
    test_regions();
    test_types();
    test_chroms();
    test_random();
    test_bed();
    test_fatal();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tdir);
    printf("%s\n", n_fail ? "FAIL" : "PASS");
    return n_fail ? 1 : 0;
}
