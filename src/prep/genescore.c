// genescore: see genescore.h.
#include "prep/genescore.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/strmap.h"
#include "io/gzline.h"

GeneScoreOptions genescore_options_default(void) {
    GeneScoreOptions o = {.window = 2000, .gene_types = NULL, .chrom_naming = GS_CHROM_AUTO};
    return o;
}

GeneScoreOptions genescore_options_from_config(const Config *c) {
    GeneScoreOptions o = genescore_options_default();
    if (c->window < 0)
        FATAL("--window is a distance in bases upstream of the TSS: give 0 or more (default 2000)",
              "--window %ld is negative (want >= 0)", c->window);
    o.window = c->window;
    o.gene_types = c->gene_types;
    return o;
}

// ---- peak coordinates ----------------------------------------------------------------------

static int is_sep(char ch) { return ch == ':' || ch == '-' || ch == '_'; }

// Reads the run of decimal digits ending just before *end (moving *end to its first digit) into
// *v; 0 when there is no digit or more than 18 of them.
static int digits_back(const char *s, const char **end, int64_t *v) {
    const char *e = *end, *b = e;
    while (b > s && isdigit((unsigned char)b[-1])) b--;
    if (b == e || e - b > 18) return 0;
    int64_t x = 0;
    for (const char *q = b; q < e; q++) x = x * 10 + (*q - '0');
    *v = x;
    *end = b;
    return 1;
}

int genescore_parse_peak_name(const char *name, PeakCoord *p) {
    const char *e = name + strlen(name);
    int64_t start, end;
    if (!digits_back(name, &e, &end) || e == name || !is_sep(e[-1])) return 0;
    e--;
    if (!digits_back(name, &e, &start) || e == name || !is_sep(e[-1])) return 0;
    e--;
    if (e == name || end <= start || end > GENOME_COORD_MAX) return 0;   // empty chromosome or interval, or beyond 2^40
    p->chrom = xmalloc((size_t)(e - name) + 1);
    memcpy(p->chrom, name, (size_t)(e - name));
    p->chrom[e - name] = '\0';
    p->start = start;
    p->end = end;
    return 1;
}

PeakCoord *genescore_peaks_from_names(char *const *names, size_t n, const char *origin, const char *hint) {
    PeakCoord *p = xcalloc(n ? n : 1, sizeof *p);
    for (size_t i = 0; i < n; i++)
        if (!genescore_parse_peak_name(names[i], &p[i]))
            FATAL(hint,
                  "%s: var row %zu ('%.60s') is not a peak name (want chrom:start-end, chrom-start-end or "
                  "chrom_start_end with start < end)",
                  origin, i, names[i]);
    return p;
}

void genescore_peaks_free(PeakCoord *p, size_t n) {
    if (!p) return;
    for (size_t i = 0; i < n; i++) free(p[i].chrom);
    free(p);
}

static int64_t bed_int(const GzLines *f, const char *field, const char *s) {
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < 0 || v > GENOME_COORD_MAX)
        FATAL("peak BED lines are chrom<TAB>start<TAB>end[<TAB>name...], 0-based start, integer coordinates",
              "peak BED '%s' line %zu: field %s is not an integer in [0, 2^40] (got '%.40s')", gzlines_path(f),
              gzlines_lineno(f), field, s);
    return (int64_t)v;
}

PeakCoord *genescore_peaks_from_bed(const char *bed_path, char *const *var_names, size_t n_vars,
                                    const char *counts_path) {
    GzLines *f = gzlines_open(bed_path, "peak BED file");
    size_t cap = 1024, n = 0, with_name = 0;
    PeakCoord *rows = xmalloc(cap * sizeof *rows);
    char **bed_names = xmalloc(cap * sizeof *bed_names);
    char *line, *fl[8];
    size_t len;
    while ((line = gzlines_next(f, &len))) {
        if (str_is_blank(line) || line[0] == '#' || !strncmp(line, "track", 5) || !strncmp(line, "browser", 7)) continue;
        size_t nf = str_split(line, '\t', fl, 8);
        if (nf < 3)
            FATAL("peak BED lines are chrom<TAB>start<TAB>end[<TAB>name...] (tab-separated)",
                  "peak BED '%s' line %zu: %zu field(s) (want >= 3: chrom, start, end)", bed_path, gzlines_lineno(f), nf);
        if (n == cap) {
            cap = szmul(cap, 2);
            rows = xrealloc_for(rows, szmul(cap, sizeof *rows), "peak BED '%s': %zu peaks", bed_path, cap);
            bed_names = xrealloc_for(bed_names, szmul(cap, sizeof *bed_names), "peak BED '%s': %zu peaks", bed_path, cap);
        }
        PeakCoord p;
        p.start = bed_int(f, "2 (start)", fl[1]);
        p.end = bed_int(f, "3 (end)", fl[2]);
        if (p.end <= p.start)
            FATAL("a peak needs end > start (BED: 0-based start, exclusive end)",
                  "peak BED '%s' line %zu: fields 2-3 give an empty interval (got start %lld, end %lld)", bed_path,
                  gzlines_lineno(f), (long long)p.start, (long long)p.end);
        char *chrom = str_trim(fl[0]);
        if (!*chrom)
            FATAL("column 1 of a peak BED is the chromosome", "peak BED '%s' line %zu: field 1 (chrom) is empty", bed_path,
                  gzlines_lineno(f));
        p.chrom = xstrdup(chrom);
        bed_names[n] = nf >= 4 ? xstrdup(str_trim(fl[3])) : NULL;
        with_name += nf >= 4;
        rows[n++] = p;
    }
    gzlines_close(f);

    PeakCoord *out = xcalloc(n_vars ? n_vars : 1, sizeof *out);
    int by_name = 0;
    if (with_name == n && n > 0) {
        // by name: every var name must be a BED name that occurs once
        StrMap m = strmap_new(n), dup = strmap_new(16);
        for (size_t i = 0; i < n; i++)
            if (!strmap_put(&m, bed_names[i], (int64_t)i, NULL)) strmap_put(&dup, bed_names[i], 1, NULL);
        by_name = 1;
        for (size_t j = 0; j < n_vars && by_name; j++)
            if (strmap_get(&m, var_names[j], -1) < 0 || strmap_get(&dup, var_names[j], 0)) by_name = 0;
        if (by_name)
            for (size_t j = 0; j < n_vars; j++) {
                const PeakCoord *r = &rows[strmap_get(&m, var_names[j], -1)];
                out[j].chrom = xstrdup(r->chrom);
                out[j].start = r->start;
                out[j].end = r->end;
            }
        strmap_free(&m);
        strmap_free(&dup);
    }
    if (by_name) {
        log_info("peak coordinates: %zu var rows of %s matched by name in %s", n_vars, counts_path, bed_path);
    } else if (n == n_vars) {
        for (size_t j = 0; j < n_vars; j++) {
            out[j] = rows[j];
            rows[j].chrom = NULL;
        }
        log_info("peak coordinates: %zu var rows of %s taken from %s line by line (in order)", n_vars, counts_path,
                 bed_path);
    } else {
        FATAL("give a BED with one line per var row, in var order, or with var names in column 4",
              "peak BED '%s': %zu peak line(s) and %s for the %zu var rows of %s (want one line per var row, or "
              "column 4 naming each var row once)",
              bed_path, n, with_name == n && n ? "its names (column 4) do not cover the var names" : "no name column",
              n_vars, counts_path);
    }
    for (size_t i = 0; i < n; i++) {
        free(rows[i].chrom);
        free(bed_names[i]);
    }
    free(rows);
    free(bed_names);
    return out;
}

// ---- gene table ----------------------------------------------------------------------------

// Gene type normalised for comparison: lower case, '-' read as '_'.
static void type_norm(char *dst, const char *src, size_t cap) {
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) dst[i] = src[i] == '-' ? '_' : (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

// The normalised comma-separated types of list as a set (empty set when list is NULL/blank).
static StrMap type_set(const char *list) {
    StrMap m = strmap_new(8);
    if (!list) return m;
    char *buf = xstrdup(list), *fl[64];
    size_t nf = str_split(buf, ',', fl, 64);
    if (nf > 64) FATAL("give at most 64 gene types", "--gene-types lists %zu types (want <= 64)", nf);
    for (size_t i = 0; i < nf; i++) {
        char *t = str_trim(fl[i]), norm[128];
        if (!*t) continue;
        type_norm(norm, t, sizeof norm);
        strmap_put(&m, norm, 1, NULL);
    }
    free(buf);
    return m;
}

// FATAL message for an empty gene set: the types that do exist, with their counts.
_Noreturn static void no_genes_of_type(const GeneCoords *g, const char *types, const char *genes_path) {
    StrMap idx = strmap_new(64);
    char **order = xcalloc_for(g->n, sizeof(char *), "'%s': types of %zu genes", genes_path, g->n);
    size_t *cnt = xcalloc_for(g->n, sizeof(size_t), "'%s': types of %zu genes", genes_path, g->n), n_types = 0;
    for (size_t i = 0; i < g->n; i++) {
        int64_t t;
        if (strmap_put(&idx, g->genes[i].type, (int64_t)n_types, &t)) {
            t = (int64_t)n_types;
            order[n_types++] = g->genes[i].type;
        }
        cnt[t]++;
    }
    char have[512] = "";
    size_t used = 0;
    for (size_t t = 0; t < n_types && t < 8 && used + 1 < sizeof have; t++) {
        int k = snprintf(have + used, sizeof have - used, "%s%s (%zu)", t ? ", " : "", order[t][0] ? order[t] : "(none)",
                         cnt[t]);
        if (k > 0) used += (size_t)k;
    }
    FATAL("set --gene-types to types present in the annotation, or --gene-types '' to keep every gene",
          "gene annotation '%s': no gene of type(s) '%s' in field gene_type/gene_biotype (got %zu genes; types "
          "present: %s%s)",
          genes_path, types, g->n, have, n_types > 8 ? ", ..." : "");
}

// ---- chromosome naming ---------------------------------------------------------------------

static const char *naming_name(GsChromNaming k) {
    switch (k) {
    case GS_CHROM_ADD_CHR: return "added 'chr'";
    case GS_CHROM_STRIP_CHR: return "removed 'chr'";
    default: return "as written";
    }
}

// The gene-table name of peak chromosome c under convention k, as a new string.
static char *chrom_convert(const char *c, GsChromNaming k) {
    int has_chr = strncasecmp(c, "chr", 3) == 0;
    if (k == GS_CHROM_ADD_CHR && !has_chr) {
        if (!strcmp(c, "MT")) return xstrdup("chrM");
        size_t n = strlen(c) + 4;
        char *s = xmalloc(n);
        snprintf(s, n, "chr%s", c);
        return s;
    }
    if (k == GS_CHROM_STRIP_CHR && has_chr) return xstrdup(!strcmp(c, "chrM") ? "MT" : c + 3);
    return xstrdup(c);
}

// Comma-separated first few keys of m (for messages).
static void some_keys(const StrMap *m, char *buf, size_t cap) {
    size_t used = 0, shown = 0;
    buf[0] = '\0';
    for (size_t s = 0; s < m->cap && shown < 6; s++) {
        if (!m->keys[s]) continue;
        int k = snprintf(buf + used, cap - used, "%s%s", shown ? ", " : "", m->keys[s]);
        if (k < 0 || (size_t)k >= cap - used) break;
        used += (size_t)k;
        shown++;
    }
    if (m->n > shown && used + 6 < cap) strcat(buf, ", ...");
}

// Maps every peak to a chromosome id of the gene table (chrom_id of its name) or -1.
static int32_t *map_chroms(const PeakCoord *peaks, size_t n_peaks, const StrMap *gene_chroms, GsChromNaming want,
                           const char *peaks_origin, const char *genes_path) {
    // distinct peak chromosomes and their peak counts
    StrMap pc = strmap_new(64);
    char **names = xcalloc_for(n_peaks ? n_peaks : 1, sizeof(char *), "%s: chromosomes of %zu peaks", peaks_origin, n_peaks);
    size_t n_names = 0;
    int32_t *pid = xcalloc_for(n_peaks ? n_peaks : 1, sizeof(int32_t), "%s: chromosomes of %zu peaks", peaks_origin, n_peaks);
    for (size_t i = 0; i < n_peaks; i++) {
        int64_t old;
        if (strmap_put(&pc, peaks[i].chrom, (int64_t)n_names, &old)) {
            names[n_names] = peaks[i].chrom;
            pid[i] = (int32_t)n_names++;
        } else pid[i] = (int32_t)old;
    }
    size_t *per = xcalloc_for(n_names ? n_names : 1, sizeof(size_t), "%s: %zu chromosome names", peaks_origin, n_names);
    for (size_t i = 0; i < n_peaks; i++) per[pid[i]]++;
    // target chromosome of each distinct name under each convention
    enum { NK = 3 };
    const GsChromNaming kinds[NK] = {GS_CHROM_ASIS, GS_CHROM_ADD_CHR, GS_CHROM_STRIP_CHR};
    int64_t *target = xcalloc_for(szmul(NK, n_names ? n_names : 1), sizeof(int64_t), "%s: %zu chromosome names", peaks_origin,
                                  n_names);
    size_t score[NK] = {0}, any = 0;
    for (size_t c = 0; c < n_names; c++) {
        int hit = 0;
        for (int k = 0; k < NK; k++) {
            char *t = chrom_convert(names[c], kinds[k]);
            target[k * n_names + c] = strmap_get(gene_chroms, t, -1);
            free(t);
            if (target[k * n_names + c] >= 0) {
                score[k] += per[c];
                hit = 1;
            }
        }
        any += hit ? per[c] : 0;
    }
    int best = 0;
    if (want == GS_CHROM_AUTO) {
        for (int k = 1; k < NK; k++)
            if (score[k] > score[best]) best = k;
    } else {
        for (int k = 0; k < NK; k++)
            if (kinds[k] == want) best = k;
    }
    char pk[256], gk[256];
    some_keys(&pc, pk, sizeof pk);
    some_keys(gene_chroms, gk, sizeof gk);
    if (score[best] == 0)
        FATAL("use a gene table of the same genome as the peaks (shipped: --genes hg38 or --genes hg19); chromosome "
              "names 'chr1' and '1' are matched automatically",
              "gene annotation '%s' has none of the peaks' chromosomes (peaks of %s on: %s; genes on: %s; got 0 of %zu "
              "peaks placed, naming %s)",
              genes_path, peaks_origin, pk, gk, n_peaks, naming_name(kinds[best]));
    if (want == GS_CHROM_AUTO && any > score[best])
        FATAL("rename the chromosomes of the peaks or of the gene table so that one convention ('chr1' or '1') "
              "fits all of them",
              "chromosome names of %s and '%s' are ambiguous: %zu peaks fit '%s' and %zu more fit another convention "
              "(peaks on: %s; genes on: %s)",
              peaks_origin, genes_path, score[best], naming_name(kinds[best]), any - score[best], pk, gk);
    if (kinds[best] != GS_CHROM_ASIS && score[best] > score[0])
        log_info("chromosome names: peaks of %s mapped onto '%s' by %s (e.g. '%s' -> gene chromosome of that name)",
                 peaks_origin, genes_path, naming_name(kinds[best]), names[0]);
    // peaks on chromosomes without genes
    size_t lost = 0, lost_chroms = 0;
    char lbuf[256] = "";
    size_t lused = 0;
    for (size_t c = 0; c < n_names; c++) {
        if (target[best * n_names + c] >= 0) continue;
        lost += per[c];
        if (lost_chroms++ < 5) {
            int k = snprintf(lbuf + lused, sizeof lbuf - lused, "%s%s", lused ? ", " : "", names[c]);
            if (k > 0 && (size_t)k < sizeof lbuf - lused) lused += (size_t)k;
        }
    }
    if (lost)
        log_info("%zu of %zu peaks lie on %zu chromosome(s) without genes in '%s' (%s%s); they add to no gene", lost,
                 n_peaks, lost_chroms, genes_path, lbuf, lost_chroms > 5 ? ", ..." : "");
    int32_t *out = xmalloc((n_peaks ? n_peaks : 1) * sizeof(int32_t));
    for (size_t i = 0; i < n_peaks; i++) out[i] = (int32_t)target[best * n_names + pid[i]];
    free(target);
    free(per);
    free(pid);
    free(names);
    strmap_free(&pc);
    return out;
}

// ---- overlaps ------------------------------------------------------------------------------

typedef struct {
    int32_t chrom, gene;
    int64_t start, end;    // region [start, end): body + upstream window
} GsRegion;

typedef struct {
    int32_t chrom;
    int64_t start, end;
    size_t idx;            // var row
} GsPeak;

static int cmp_region(const void *a, const void *b) {
    const GsRegion *x = a, *y = b;
    if (x->chrom != y->chrom) return x->chrom < y->chrom ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return (x->gene > y->gene) - (x->gene < y->gene);
}

static int cmp_peak(const void *a, const void *b) {
    const GsPeak *x = a, *y = b;
    if (x->chrom != y->chrom) return x->chrom < y->chrom ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

// Growable (peak, gene) link list.
typedef struct {
    size_t *peak;
    int32_t *gene;
    size_t n, cap;
} GsLinks;

static void links_push(GsLinks *l, size_t peak, int32_t gene) {
    if (l->n == l->cap) {
        l->cap = l->cap ? szmul(2, l->cap) : 4096;
        l->peak = xrealloc_for(l->peak, szmul(l->cap, sizeof *l->peak), "gene activity: %zu peak-gene links", l->cap);
        l->gene = xrealloc_for(l->gene, szmul(l->cap, sizeof *l->gene), "gene activity: %zu peak-gene links", l->cap);
    }
    l->peak[l->n] = peak;
    l->gene[l->n++] = gene;
}

GeneScorer genescore_build(const PeakCoord *peaks, size_t n_peaks, const GeneCoords *genes,
                           const GeneScoreOptions *o, const char *peaks_origin, const char *genes_path) {
    if (o->window < 0)
        FATAL("--window is a distance in bases: give 0 or more", "window %lld is negative (want >= 0)",
              (long long)o->window);
    // 1. type filter; unique gene names; chromosome ids
    StrMap types = type_set(o->gene_types);
    int typed = 0;
    for (size_t i = 0; i < genes->n && !typed; i++) typed = genes->genes[i].type[0] != '\0';
    int filter = types.n > 0 && typed;
    if (types.n > 0 && !typed)
        log_warn("gene annotation '%s' has no gene types (a BED file); --gene-types '%s' is not applied, all %zu genes "
                 "kept",
                 genes_path, o->gene_types, genes->n);
    GeneScorer s = {0};
    s.n_peaks = n_peaks;
    s.gene_names = xcalloc_for(genes->n ? genes->n : 1, sizeof(char *), "'%s': %zu genes", genes_path, genes->n);
    StrMap by_name = strmap_new(genes->n), chroms = strmap_new(64);
    GsRegion *reg = xcalloc_for(genes->n ? genes->n : 1, sizeof *reg, "'%s': %zu genes", genes_path, genes->n);
    size_t n_reg = 0;
    for (size_t i = 0; i < genes->n; i++) {
        const GeneCoord *g = &genes->genes[i];
        if (filter) {
            char norm[128];
            type_norm(norm, g->type, sizeof norm);
            if (strmap_get(&types, norm, 0) == 0) continue;
        }
        int64_t gi;
        if (strmap_put(&by_name, g->name, (int64_t)s.n_genes, &gi)) {
            gi = (int64_t)s.n_genes;
            s.gene_names[s.n_genes++] = xstrdup(g->name);
        }
        int64_t ci;
        if (strmap_put(&chroms, g->chrom, (int64_t)chroms.n, &ci)) ci = (int64_t)chroms.n - 1;
        GsRegion r = {.chrom = (int32_t)ci, .gene = (int32_t)gi, .start = g->start, .end = g->end};
        if (g->strand == '+' || g->strand == '.') r.start = g->start > o->window ? g->start - o->window : 0;
        if (g->strand == '-' || g->strand == '.') r.end = g->end + o->window;
        reg[n_reg++] = r;
    }
    if (s.n_genes == 0) no_genes_of_type(genes, o->gene_types, genes_path);
    if (filter)
        log_info("gene annotation '%s': %zu of %zu loci of type(s) '%s' kept", genes_path, n_reg, genes->n,
                 o->gene_types);
    if (s.n_genes < n_reg)
        log_info("gene annotation '%s': %zu loci share a name with another locus; each name is one gene (%zu genes)",
                 genes_path, n_reg - s.n_genes, s.n_genes);

    // 2. peaks onto the gene table's chromosomes
    int32_t *pchrom = map_chroms(peaks, n_peaks, &chroms, o->chrom_naming, peaks_origin, genes_path);
    GsPeak *pk = xcalloc_for(n_peaks ? n_peaks : 1, sizeof *pk, "%s: %zu peaks", peaks_origin, n_peaks);
    size_t n_pk = 0;
    for (size_t i = 0; i < n_peaks; i++)
        if (pchrom[i] >= 0) pk[n_pk++] = (GsPeak){.chrom = pchrom[i], .start = peaks[i].start, .end = peaks[i].end, .idx = i};
    free(pchrom);

    // 3. sweep: regions and peaks sorted by (chrom, start); a region is active from the first peak
    // whose end passes its start until a peak starts at or after its end
    qsort(reg, n_reg, sizeof *reg, cmp_region);
    qsort(pk, n_pk, sizeof *pk, cmp_peak);
    size_t *active = xcalloc_for(n_reg ? n_reg : 1, sizeof(size_t), "'%s': %zu gene regions", genes_path, n_reg);
    int32_t *hit = xcalloc_for(s.n_genes ? s.n_genes : 1, sizeof(int32_t), "'%s': %zu genes", genes_path, s.n_genes);
    GsLinks links = {0};
    size_t r = 0, n_active = 0;
    int32_t cur = -1;
    for (size_t k = 0; k < n_pk; k++) {
        const GsPeak *p = &pk[k];
        if (p->chrom != cur) {
            cur = p->chrom;
            n_active = 0;
            while (r < n_reg && reg[r].chrom < cur) r++;
        }
        while (r < n_reg && reg[r].chrom == cur && reg[r].start < p->end) active[n_active++] = r++;
        size_t n_hit = 0;
        for (size_t a = 0; a < n_active;) {
            const GsRegion *g = &reg[active[a]];
            if (g->end <= p->start) {            // ended before this (and every later) peak
                active[a] = active[--n_active];
                continue;
            }
            if (g->start < p->end) hit[n_hit++] = g->gene;
            a++;
        }
        qsort(hit, n_hit, sizeof *hit, cmp_i32);
        for (size_t h = 0; h < n_hit; h++)
            if (h == 0 || hit[h] != hit[h - 1]) links_push(&links, p->idx, hit[h]);
    }
    free(active);
    free(hit);
    free(pk);
    free(reg);

    // 4. links -> CSR by peak (counting sort keeps genes ascending within a peak: each peak's
    // links were pushed together, ascending)
    s.peak_ptr = xcalloc_for(szadd(n_peaks, 1), sizeof(int64_t), "%s: %zu peaks", peaks_origin, n_peaks);
    for (size_t l = 0; l < links.n; l++) s.peak_ptr[links.peak[l] + 1]++;
    for (size_t i = 0; i < n_peaks; i++) s.peak_ptr[i + 1] += s.peak_ptr[i];
    s.peak_gene = xcalloc_for(links.n ? links.n : 1, sizeof(int32_t), "gene activity: %zu peak-gene links", links.n);
    int64_t *fill = xcalloc_for(n_peaks ? n_peaks : 1, sizeof(int64_t), "%s: %zu peaks", peaks_origin, n_peaks);
    memcpy(fill, s.peak_ptr, n_peaks * sizeof(int64_t));
    for (size_t l = 0; l < links.n; l++) s.peak_gene[fill[links.peak[l]]++] = links.gene[l];
    free(fill);
    unsigned char *gh = xcalloc(s.n_genes ? s.n_genes : 1, 1);
    for (size_t i = 0; i < n_peaks; i++) s.n_peaks_used += s.peak_ptr[i + 1] > s.peak_ptr[i];
    for (size_t l = 0; l < links.n; l++) gh[links.gene[l]] = 1;
    for (size_t g = 0; g < s.n_genes; g++) s.n_genes_hit += gh[g];
    free(gh);
    log_info("gene activity: %zu of %zu peaks of %s overlap a gene region (body + %lld bp upstream of the TSS); %zu of "
             "%zu genes have a peak; %zu peak-gene links",
             s.n_peaks_used, n_peaks, peaks_origin, (long long)o->window, s.n_genes_hit, s.n_genes, links.n);
    if (n_peaks > 0 && s.n_peaks_used == 0)
        log_warn("no peak of %s overlaps a gene region of '%s': every gene score is 0; check that both use the same "
                 "genome build (hg19 vs hg38) and the gene types kept",
                 peaks_origin, genes_path);
    free(links.peak);
    free(links.gene);
    strmap_free(&types);
    strmap_free(&by_name);
    strmap_free(&chroms);
    return s;
}

Csr genescore_apply(const GeneScorer *s, const Csr *rows) {
    if (rows->n_cols != s->n_peaks)
        FATAL("this is a bug in kida (the scorer was built for another peak set); please report it",
              "gene activity: block has %zu peak columns, the mapping %zu (got %zu, want %zu)", rows->n_cols, s->n_peaks,
              rows->n_cols, s->n_peaks);
    size_t G = s->n_genes, cap = csr_nnz(rows) + 16, nnz = 0;
    Csr out = {.n_rows = rows->n_rows, .n_cols = G, .row_start = rows->row_start};
#define APPLY_WHAT "gene activity: rows %zu..%zu x %zu genes", rows->row_start, rows->row_start + rows->n_rows, G
    out.indptr = xcalloc_for(szadd(rows->n_rows, 1), sizeof(int64_t), APPLY_WHAT);
    out.indices = xmalloc_for(szmul(cap, sizeof(int32_t)), APPLY_WHAT);
    out.data = xmalloc_for(szmul(cap, sizeof(float)), APPLY_WHAT);
    double *acc = xcalloc_for(G ? G : 1, sizeof(double), APPLY_WHAT);       // (G) sums of the current row
    unsigned char *mark = xcalloc_for(G ? G : 1, 1, APPLY_WHAT);
    int32_t *touched = xcalloc_for(G ? G : 1, sizeof(int32_t), APPLY_WHAT);
    out.indptr[0] = 0;
    for (size_t i = 0; i < rows->n_rows; i++) {
        size_t nt = 0;
        for (int64_t k = rows->indptr[i]; k < rows->indptr[i + 1]; k++) {
            float v = rows->data[k];
            if (v == 0.0f) continue;
            int32_t p = rows->indices[k];
            for (int64_t l = s->peak_ptr[p]; l < s->peak_ptr[p + 1]; l++) {
                int32_t g = s->peak_gene[l];
                if (!mark[g]) {
                    mark[g] = 1;
                    touched[nt++] = g;
                }
                acc[g] += v;
            }
        }
        qsort(touched, nt, sizeof *touched, cmp_i32);
        if (nnz + nt > cap) {
            while (nnz + nt > cap) cap = szmul_for(cap, 2, APPLY_WHAT);
            out.indices = xrealloc_for(out.indices, szmul(cap, sizeof(int32_t)), APPLY_WHAT);
            out.data = xrealloc_for(out.data, szmul(cap, sizeof(float)), APPLY_WHAT);
        }
        for (size_t t = 0; t < nt; t++) {
            int32_t g = touched[t];
            out.indices[nnz] = g;
            out.data[nnz++] = (float)acc[g];
            acc[g] = 0.0;
            mark[g] = 0;
        }
        out.indptr[i + 1] = (int64_t)nnz;
    }
    free(acc);
    free(mark);
    free(touched);
    return out;
#undef APPLY_WHAT
}

void genescore_free(GeneScorer *s) {
    if (s->gene_names)
        for (size_t g = 0; g < s->n_genes; g++) free(s->gene_names[g]);
    free(s->gene_names);
    free(s->peak_ptr);
    free(s->peak_gene);
    memset(s, 0, sizeof *s);
}

void genescore_require_integer(const Csr *rows, char *const *var_names, const char *origin) {
    for (size_t i = 0; i < rows->n_rows; i++)
        for (int64_t k = rows->indptr[i]; k < rows->indptr[i + 1]; k++) {
            float v = rows->data[k];
            if (v != floorf(v))
                FATAL("gene activity sums raw peak counts: give the fragment/insertion counts (e.g. --layer counts), "
                      "not normalised values",
                      "%s: X row %zu, peak '%.60s' holds %g, not a whole count (want integer counts)", origin,
                      rows->row_start + i, var_names[rows->indices[k]], (double)v);
        }
}

// ---- gene table by name --------------------------------------------------------------------

#define GS_SHIPPED_HINT                                                                                        \
    "give a GTF/BED of gene coordinates, or a shipped table: --genes hg38 or --genes hg19 (data/gene_annotation)"

char *genescore_genes_path(const char *genes) {
    if (!genes || !*genes) FATAL(GS_SHIPPED_HINT, "ATAC gene activity needs gene coordinates (--genes is empty)");
    const char *shipped = NULL;
    if (!strcasecmp(genes, "hg38") || !strcasecmp(genes, "GRCh38")) shipped = "gene_annotation/hg38_genes.bed.gz";
    if (!strcasecmp(genes, "hg19") || !strcasecmp(genes, "GRCh37")) shipped = "gene_annotation/hg19_genes.bed.gz";
    if (shipped) {
        char *p = config_data_path(shipped);
        if (!p)
            FATAL("set KIDA_DATADIR to the data folder of the kida sources, or `make install` kida",
                  "--genes %s: the shipped table %s was not found (source tree, KIDA_DATADIR or installed data)", genes,
                  shipped);
        return p;
    }
    FILE *f = fopen(genes, "rb");
    if (f) {
        fclose(f);
        return xstrdup(genes);
    }
    int err = errno;
    char *p = config_data_path(genes);
    if (!p) {
        size_t n = strlen(genes) + 32;
        char *rel = xmalloc(n);
        snprintf(rel, n, "gene_annotation/%s", genes);
        p = config_data_path(rel);
        free(rel);
    }
    if (!p) FATAL(GS_SHIPPED_HINT, "cannot open gene annotation '%s' (--genes): %s", genes, strerror(err));
    return p;
}

GeneScorer genescore_for_file(const char *counts_path, char *const *var_names, size_t n_vars,
                              const char *peaks_bed, const char *genes, const GeneScoreOptions *o,
                              const char *names_hint) {
    char *gp = genescore_genes_path(genes);
    GeneCoords g = gene_coords_read(gp);
    PeakCoord *pk = peaks_bed ? genescore_peaks_from_bed(peaks_bed, var_names, n_vars, counts_path)
                              : genescore_peaks_from_names(var_names, n_vars, counts_path, names_hint);
    GeneScorer s = genescore_build(pk, n_vars, &g, o, counts_path, gp);
    genescore_peaks_free(pk, n_vars);
    gene_coords_free(&g);
    free(gp);
    return s;
}
