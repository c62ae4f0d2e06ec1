// summary: the lines that end an annotate or predict run (see outputs.h).
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/outputs.h"
#include "core/atomic.h"
#include "core/log.h"
#include "core/runstats.h"
#include "io/h5ad.h"
#include "train/preflight.h"

enum { SUMMARY_TOP = 20 };

char *outputs_config_value(const char *text, const char *key) {
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        while (*p == ' ' || *p == '\t') p++;
        if (strncmp(p, key, kl) != 0) continue;
        const char *q = p + kl;
        while (*q == ' ' || *q == '\t') q++;
        if (*q != '=') continue;
        q++;
        while (*q == ' ' || *q == '\t') q++;
        const char *e = q;
        while (*e && *e != '\n' && *e != '#') e++;
        while (e > q && isspace((unsigned char)e[-1])) e--;
        char *v = xmalloc((size_t)(e - q) + 1);
        memcpy(v, q, (size_t)(e - q));
        v[e - q] = '\0';
        return v;
    }
    return NULL;
}

static const int64_t *g_count;   // for the sort below
static int by_count(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (g_count[x] != g_count[y]) return g_count[x] < g_count[y] ? 1 : -1;
    return (x > y) - (x < y);
}

// Cells per predicted type, largest first: the SUMMARY_TOP largest, then the others together.
static void print_types(const OutputLabels *l) {
    size_t *order = xmalloc(l->n_cats * sizeof(size_t)), used = 0;
    for (size_t k = 0; k < l->n_cats; k++)
        if (l->count[k] > 0) order[used++] = k;
    g_count = l->count;
    qsort(order, used, sizeof(size_t), by_count);
    double N = l->n_total ? (double)l->n_total : 1;
    log_info("result: %zu cells in %zu predicted types (kida_label), largest first:", l->n_total, used);
    int64_t rest = 0;
    for (size_t j = 0; j < used; j++) {
        int64_t c = l->count[order[j]];
        if (j < SUMMARY_TOP) log_info("  %-32s %10lld  %5.1f%%", l->cats[order[j]], (long long)c, 100.0 * (double)c / N);
        else rest += c;
    }
    if (used > SUMMARY_TOP)
        log_info("  %-32s %10lld  %5.1f%%", "others", (long long)rest, 100.0 * (double)rest / N);
    free(order);
}

// 1 when the annotated file has obs[key] (rank 0).
static int out_has_obs(const char *out, const char *key) {
    if (!key || !*key) return 0;
    H5ad *h = h5ad_open(out, NULL, 0, NULL);
    int has = h5ad_has_obs(h, key);
    h5ad_close(h);
    return has;
}

void outputs_summary(const Config *c, const Dist *d, const OutputLabels *l, const char *truth_key,
                     const char *metrics_path) {
    if (d->rank == 0) {
        print_types(l);
        log_info("result: %zu of %zu cells unknown (%.1f%%)", l->n_unknown, l->n_total,
                 l->n_total ? 100.0 * (double)l->n_unknown / (double)l->n_total : 0.0);
    }
    preflight_warn_unknown(l->n_unknown, l->n_total, c->unknown_threshold);
    run_summary(d);
    if (d->rank != 0) return;
    log_info("output: annotated file %s", c->out);
    if (c->predictions_out && *c->predictions_out) log_info("output: predictions table %s", c->predictions_out);
    if (c->model_out && *c->model_out && (c->cmd & CMD_ANNOTATE)) log_info("output: model %s", c->model_out);
    if (metrics_path && path_exists(metrics_path)) log_info("output: training metrics %s", metrics_path);
    if (!c->quiet && out_has_obs(c->out, truth_key))
        log_info("next: kida evaluate --pred %s --truth-key %s", c->out, truth_key);
    log_info("next: kida report %s", c->out);
}
