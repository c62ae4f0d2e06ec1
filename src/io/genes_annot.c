// genes_annot: see genes_annot.h.
#include "io/genes_annot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "io/gzline.h"

enum { ANNOT_GTF, ANNOT_BED };

// ANNOT_GTF or ANNOT_BED from the file name (case-insensitive, optional .gz); FATAL otherwise.
static int annot_format(const char *path) {
    size_t n = strlen(path);
    if (n > 3 && strcasecmp(path + n - 3, ".gz") == 0) n -= 3;
    if (n > 4 && strncasecmp(path + n - 4, ".gtf", 4) == 0) return ANNOT_GTF;
    if (n > 4 && strncasecmp(path + n - 4, ".bed", 4) == 0) return ANNOT_BED;
    FATAL("name the annotation .gtf, .gtf.gz, .bed or .bed.gz after its format",
          "gene annotation '%s': unknown format (got extension of '%s', want .gtf/.gtf.gz/.bed/.bed.gz)", path, path);
}

// Parses a whole decimal integer field; FATAL naming file:line and the field otherwise.
static int64_t annot_int(const GzLines *f, const char *field, const char *s) {
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        FATAL("fix the line or regenerate the annotation file",
              "gene annotation '%s' line %zu: field %s is not an integer (got '%.40s')", gzlines_path(f),
              gzlines_lineno(f), field, s);
    if (v < -GENOME_COORD_MAX || v > GENOME_COORD_MAX)   // checked before any arithmetic on it
        FATAL("fix the coordinates or regenerate the annotation file",
              "gene annotation '%s' line %zu: field %s is out of range (got %lld, want |value| <= 2^40)",
              gzlines_path(f), gzlines_lineno(f), field, v);
    return (int64_t)v;
}

static char annot_strand(const GzLines *f, const char *field, const char *s) {
    if ((s[0] == '+' || s[0] == '-' || s[0] == '.') && s[1] == '\0') return s[0];
    FATAL("strand must be +, - or .", "gene annotation '%s' line %zu: field %s is not a strand (got '%.40s')",
          gzlines_path(f), gzlines_lineno(f), field, s);
}

// The value of GTF attribute `key` (key "value"; key "value"; ...) as a new string, or NULL.
static char *gtf_attr(const char *attrs, const char *key) {
    size_t kl = strlen(key);
    const char *p = attrs;
    while (*p) {
        while (*p == ' ' || *p == ';') p++;
        const char *k = p;
        while (*p && *p != ' ' && *p != ';') p++;
        size_t klen = (size_t)(p - k);
        while (*p == ' ') p++;
        const char *v = p, *vend;
        if (*p == '"') {
            v = ++p;
            while (*p && *p != '"') p++;
            vend = p;
            if (*p) p++;
        } else {
            while (*p && *p != ';') p++;
            vend = p;
            while (vend > v && vend[-1] == ' ') vend--;
        }
        if (klen == kl && strncmp(k, key, kl) == 0) {
            char *out = xmalloc((size_t)(vend - v) + 1);
            memcpy(out, v, (size_t)(vend - v));
            out[vend - v] = '\0';
            return out;
        }
        while (*p && *p != ';') p++;
    }
    return NULL;
}

static void annot_push(GeneCoords *g, size_t *cap, GeneCoord c) {
    if (g->n == *cap) {
        *cap = *cap ? 2 * *cap : 4096;
        g->genes = xrealloc(g->genes, *cap * sizeof *g->genes);
    }
    g->genes[g->n++] = c;
}

// Checks start/end of a parsed line (0-based half-open, end > start >= 0).
static void annot_check_range(const GzLines *f, int64_t start, int64_t end, int gtf) {
    if (start < 0 || end <= start)
        FATAL("fix the coordinates (start <= end, positive) or regenerate the file",
              "gene annotation '%s' line %zu: bad interval in fields %s (got start %lld, end %lld%s)", gzlines_path(f),
              gzlines_lineno(f), gtf ? "4-5" : "2-3", (long long)(gtf ? start + 1 : start), (long long)end,
              gtf ? ", 1-based closed" : ", 0-based half-open");
}

GeneCoords gene_coords_read(const char *path) {
    int fmt = annot_format(path);
    GzLines *f = gzlines_open(path, fmt == ANNOT_GTF ? "GTF file" : "BED file");
    log_push_context("reading gene annotation '%s'", path);
    GeneCoords g = {0};
    size_t cap = 0, len;
    char *line, *fl[16];
    while ((line = gzlines_next(f, &len))) {
        if (str_is_blank(line) || line[0] == '#') continue;
        if (fmt == ANNOT_BED && (strncmp(line, "track", 5) == 0 || strncmp(line, "browser", 7) == 0)) continue;
        size_t nf = str_split(line, '\t', fl, 16);
        if (fmt == ANNOT_GTF) {
            if (nf < 9)
                FATAL("GTF lines have 9 tab-separated fields: seqname source feature start end score strand frame attributes",
                      "GTF file '%s' line %zu: %zu tab-separated field(s) (want 9)", path, gzlines_lineno(f), nf);
            if (strcmp(fl[2], "gene") != 0) continue;
            GeneCoord c = {0};
            c.start = annot_int(f, "4 (start)", fl[3]) - 1;
            c.end = annot_int(f, "5 (end)", fl[4]);
            annot_check_range(f, c.start, c.end, 1);
            c.strand = annot_strand(f, "7 (strand)", fl[6]);
            c.name = gtf_attr(fl[8], "gene_name");
            if (!c.name) c.name = gtf_attr(fl[8], "gene_id");
            if (!c.name || !*c.name)
                FATAL("each gene line needs a gene_name or gene_id attribute",
                      "GTF file '%s' line %zu: field 9 (attributes) has no gene_name or gene_id", path, gzlines_lineno(f));
            c.type = gtf_attr(fl[8], "gene_type");
            if (!c.type) c.type = gtf_attr(fl[8], "gene_biotype");
            if (!c.type) c.type = xstrdup("");
            c.chrom = xstrdup(fl[0]);
            annot_push(&g, &cap, c);
        } else {
            if (nf < 4)
                FATAL("gene BED lines are chrom<TAB>start<TAB>end<TAB>name[<TAB>strand] or BED6 with strand in column 6",
                      "BED file '%s' line %zu: %zu tab-separated field(s) (want >= 4: chrom, start, end, name)", path,
                      gzlines_lineno(f), nf);
            GeneCoord c = {0};
            c.start = annot_int(f, "2 (start)", fl[1]);
            c.end = annot_int(f, "3 (end)", fl[2]);
            annot_check_range(f, c.start, c.end, 0);
            char *name = str_trim(fl[3]);
            if (!*name)
                FATAL("column 4 of a gene BED is the gene name", "BED file '%s' line %zu: field 4 (name) is empty", path,
                      gzlines_lineno(f));
            // column 5: strand in the KIDA/ArchR gene BEDs, score in BED6 (strand in column 6)
            if (nf >= 6) c.strand = annot_strand(f, "6 (strand)", fl[5]);
            else if (nf == 5 && (!strcmp(fl[4], "+") || !strcmp(fl[4], "-") || !strcmp(fl[4], "."))) c.strand = fl[4][0];
            else c.strand = '.';
            c.chrom = xstrdup(fl[0]);
            c.name = xstrdup(name);
            c.type = xstrdup("");
            annot_push(&g, &cap, c);
        }
    }
    gzlines_close(f);
    log_pop_context();
    if (g.n == 0)
        FATAL(fmt == ANNOT_GTF ? "give a GTF with feature type \"gene\" lines (column 3)"
                               : "give a BED with one gene per line: chrom start end name [strand]",
              "gene annotation '%s': no genes read (got 0)", path);
    log_info("gene annotation: %zu genes from %s", g.n, path);
    return g;
}

void gene_coords_free(GeneCoords *g) {
    for (size_t i = 0; i < g->n; i++) {
        free(g->genes[i].chrom);
        free(g->genes[i].name);
        free(g->genes[i].type);
    }
    free(g->genes);
    memset(g, 0, sizeof *g);
}
