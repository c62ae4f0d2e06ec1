// fingerprint: see fingerprint.h.
#include "train/fingerprint.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/atomic.h"
#include "core/log.h"
#include "core/strmap.h"

// Options a resumed run may change (each change is warned about).
static const char *const RESUMABLE[] = {"lr", "clip-grad", "epochs", "student-epochs", "student-min-steps", "student-lr",
                                        "early-stop", "best-checkpoint", "unknown-threshold", "attn-all-layers",
                                        "device", "precision", "majority-voting", "over-clustering", NULL};
// Left out: how the run is carried out (not what it computes), and paths (inputs are compared by
// content, so a moved file is the same input).
static const char *const IGNORED[] = {"threads", "log-every", "quiet", "overwrite", "debug-sync", "checkpoint-every",
                                      "resume", "out", "model-out", "checkpoint-dir", "reference", "query", "gmt",
                                      "genes", "gene-map", "model", "predictions-out", "teacher", NULL};

static int listed(const char *const *list, const char *key) {
    for (; *list; list++)
        if (!strcmp(*list, key)) return 1;
    return 0;
}

// FNV-1a over n bytes.
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

// "size=<bytes> hash=<hex of the first and last 64 KiB>", or "missing" when it cannot be read.
static void content_sig(const char *path, char *out, size_t n) {
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        if (f) fclose(f);
        snprintf(out, n, "missing");
        return;
    }
    enum { PART = 65536 };
    unsigned char *buf = xmalloc(PART);
    uint64_t h = 1469598103934665603ull;
    size_t got = fread(buf, 1, PART, f);
    h = fnv(h, buf, got);
    if (st.st_size > 2 * PART && fseeko(f, st.st_size - PART, SEEK_SET) == 0) {
        got = fread(buf, 1, PART, f);
        h = fnv(h, buf, got);
    }
    free(buf);
    fclose(f);
    snprintf(out, n, "size=%lld hash=%016llx", (long long)st.st_size, (unsigned long long)h);
}

// Appends "input <opt>[i] = <sig>" for each comma-separated entry of list; a name that is no file
// is looked up among kida's shipped data (gene sets), else recorded as written (e.g. --genes hg38).
static void add_inputs(FILE *out, const char *opt, const char *list) {
    if (!list || !*list) return;
    char *copy = xstrdup(list), *save = NULL, sig[96];
    size_t i = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save), i++) {
        char *p = path_exists(t) ? xstrdup(t) : config_data_path(t);
        if (p) content_sig(p, sig, sizeof sig);
        else snprintf(sig, sizeof sig, "name=%s", t);
        fprintf(out, "input %s[%zu] = %s\n", opt, i, sig);
        free(p);
    }
    free(copy);
}

char *fingerprint_make(const Config *c) {
    char *buf = NULL, *cfg = config_to_text(c);
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) FATAL("the machine is out of memory", "open_memstream failed for the run's fingerprint");
    fprintf(out, "command = %s\n", c->cmd_name ? c->cmd_name : "");
    char *save = NULL;
    for (char *l = strtok_r(cfg, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (l[0] == '#') continue;
        char key[128];
        if (sscanf(l, "%127s", key) != 1 || listed(IGNORED, key)) continue;
        fprintf(out, "%s\n", l);
    }
    free(cfg);
    add_inputs(out, "reference", c->reference);
    if (c->cmd != CMD_TRAIN) add_inputs(out, "query", c->query);
    add_inputs(out, "gmt", c->gmt);
    add_inputs(out, "genes", c->genes);
    add_inputs(out, "gene-map", c->gene_map);
    add_inputs(out, "teacher", c->teacher);
    fclose(out);
    return buf;
}

// Splits "key = value" lines into a map key -> line index; keys and values in parallel arrays.
typedef struct {
    StrMap map;
    char **key, **val;
    size_t n;
} Lines;

static Lines lines_parse(const char *text) {
    Lines L = {strmap_new(256), NULL, NULL, 0};
    char *copy = xstrdup(text), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *eq = strstr(l, " = ");
        if (!eq) continue;
        *eq = '\0';
        L.key = xrealloc(L.key, (L.n + 1) * sizeof *L.key);
        L.val = xrealloc(L.val, (L.n + 1) * sizeof *L.val);
        L.key[L.n] = xstrdup(l);
        L.val[L.n] = xstrdup(eq + 3);
        strmap_put(&L.map, l, (int64_t)L.n, NULL);
        L.n++;
    }
    free(copy);
    return L;
}

static void lines_free(Lines *L) {
    for (size_t i = 0; i < L->n; i++) free(L->key[i]), free(L->val[i]);
    free(L->key);
    free(L->val);
    strmap_free(&L->map);
}

// Appends "key: was -> now" to the message in *msg (at most `max` items, then "...").
static void note(char **msg, size_t *n_items, size_t max, const char *key, const char *was, const char *now) {
    (*n_items)++;
    if (*n_items > max) {
        if (*n_items == max + 1) {
            size_t l = strlen(*msg);
            *msg = xrealloc(*msg, l + 8);
            strcpy(*msg + l, "; ...");
        }
        return;
    }
    size_t l = strlen(*msg), add = strlen(key) + strlen(was) + strlen(now) + 32;
    *msg = xrealloc(*msg, l + add);
    snprintf(*msg + l, add, "%s%s: %s -> %s", l ? "; " : "", key, was, now);
}

void fingerprint_check(const char *ckpt_path, const char *stored, const char *now) {
    if (!stored || !*stored) {
        log_warn("%s has no fingerprint (written by an older kida): cannot check that it belongs to this run's "
                 "options and inputs", ckpt_path);
        return;
    }
    Lines a = lines_parse(stored), b = lines_parse(now);
    char *bad = xstrdup(""), *soft = xstrdup("");
    size_t n_bad = 0, n_soft = 0;
    for (int pass = 0; pass < 2; pass++) {   // keys of the checkpoint, then keys only this run has
        const Lines *x = pass ? &b : &a, *y = pass ? &a : &b;
        for (size_t i = 0; i < x->n; i++) {
            int64_t j = strmap_get(&y->map, x->key[i], -1);
            if (pass && j >= 0) continue;   // compared in the first pass
            const char *other = j < 0 ? "(absent)" : y->val[j];
            const char *was = pass ? other : x->val[i], *is = pass ? x->val[i] : other;
            if (!strcmp(was, is)) continue;
            if (listed(RESUMABLE, x->key[i])) note(&soft, &n_soft, 8, x->key[i], was, is);
            else note(&bad, &n_bad, 8, x->key[i], was, is);
        }
    }
    if (n_bad)
        FATAL("resume only the run that wrote this checkpoint (same inputs and options), give this run its own "
              "--checkpoint-dir, or start afresh without --resume",
              "%s was written by another run: %zu difference(s) (checkpoint -> this run): %s", ckpt_path, n_bad, bad);
    if (n_soft) log_warn("resuming %s with changed options (checkpoint -> this run): %s", ckpt_path, soft);
    free(bad);
    free(soft);
    lines_free(&a);
    lines_free(&b);
}
