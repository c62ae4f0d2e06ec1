// metrics: classification scores of predicted against true labels, and their reports.
#include "analysis/metrics.h"

#include <math.h>
#include <string.h>

#include "core/log.h"

// Index of name in names[0..k), or -1.
static long find_name(char *const *names, size_t k, const char *name) {
    for (size_t i = 0; i < k; i++)
        if (strcmp(names[i], name) == 0) return (long)i;
    return -1;
}

// Fatal if a category array has a NULL or repeated name (matching by name would be ambiguous).
static void check_categories(char *const *cats, size_t n_cats, const char *which) {
    for (size_t i = 0; i < n_cats; i++) {
        if (!cats[i])
            FATAL("fix the categories of the label column", "%s category %zu is NULL", which, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(cats[i], cats[j]) == 0)
                FATAL("make the category names of the label column unique",
                      "%s categories %zu and %zu are both named '%s'", which, j, i, cats[i]);
    }
}

// Fatal if a code points past its category array.
static void check_codes(const int32_t *codes, size_t n, size_t n_cats, const char *which) {
    for (size_t i = 0; i < n; i++)
        if (codes[i] >= 0 && (size_t)codes[i] >= n_cats)
            FATAL("the label codes and categories do not belong together; re-export the column",
                  "%s code of cell %zu is out of range (got %d, want < %zu or negative)", which, i,
                  (int)codes[i], n_cats);
}

ClassMetrics metrics_classify(const int32_t *truth, char *const *truth_cats, size_t n_truth_cats,
                              const int32_t *pred, char *const *pred_cats, size_t n_pred_cats,
                              size_t n) {
    check_categories(truth_cats, n_truth_cats, "truth");
    check_categories(pred_cats, n_pred_cats, "prediction");
    check_codes(truth, n, n_truth_cats, "truth");
    check_codes(pred, n, n_pred_cats, "prediction");

    // which categories any cell uses
    char *truth_used = xcalloc(n_truth_cats + 1, 1), *pred_used = xcalloc(n_pred_cats + 1, 1);
    for (size_t i = 0; i < n; i++) {
        if (truth[i] >= 0) truth_used[truth[i]] = 1;
        if (pred[i] >= 0) pred_used[pred[i]] = 1;
    }
    // class list: used truth names, then used prediction names not among them ("unknown" is no class)
    ClassMetrics m = {0};
    m.n = n;
    m.classes = xmalloc((n_truth_cats + n_pred_cats + 1) * sizeof(char *));
    long *truth_map = xmalloc((n_truth_cats + 1) * sizeof(long));  // truth code -> class
    long *pred_map = xmalloc((n_pred_cats + 1) * sizeof(long));    // pred code -> class, -1 unknown
    for (size_t c = 0; c < n_truth_cats; c++) {
        truth_map[c] = -1;
        if (truth_used[c]) {
            truth_map[c] = (long)m.K;
            m.classes[m.K++] = xstrdup(truth_cats[c]);
        }
    }
    for (size_t c = 0; c < n_pred_cats; c++) {
        pred_map[c] = -1;
        if (!pred_used[c] || strcmp(pred_cats[c], METRICS_UNKNOWN) == 0) continue;
        long k = find_name(m.classes, m.K, pred_cats[c]);
        if (k < 0) {
            k = (long)m.K;
            m.classes[m.K++] = xstrdup(pred_cats[c]);
        }
        pred_map[c] = k;
    }
    free(truth_used);
    free(pred_used);

    size_t K = m.K;
    m.confusion = xcalloc(K * (K + 1), sizeof(size_t));
    m.support = xcalloc(K + 1, sizeof(size_t));
    m.precision = xcalloc(K + 1, sizeof(double));
    m.recall = xcalloc(K + 1, sizeof(double));
    m.f1 = xcalloc(K + 1, sizeof(double));
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        long p = pred[i] >= 0 ? pred_map[pred[i]] : -1;
        if (p < 0) m.n_unknown++;
        if (truth[i] < 0) continue;
        long t = truth_map[truth[i]];
        m.n_labelled++;
        m.support[t]++;
        m.confusion[(size_t)t * (K + 1) + (p < 0 ? K : (size_t)p)]++;
        if (p == t) correct++;
    }
    free(truth_map);
    free(pred_map);

    size_t n_present = 0;
    double f1_sum = 0.0;
    for (size_t k = 0; k < K; k++) {
        size_t tp = m.confusion[k * (K + 1) + k], predicted = 0;
        for (size_t t = 0; t < K; t++) predicted += m.confusion[t * (K + 1) + k];
        m.precision[k] = predicted ? (double)tp / (double)predicted : 0.0;
        m.recall[k] = m.support[k] ? (double)tp / (double)m.support[k] : 0.0;
        double pr = m.precision[k] + m.recall[k];
        m.f1[k] = pr > 0.0 ? 2.0 * m.precision[k] * m.recall[k] / pr : 0.0;
        if (m.support[k]) {
            n_present++;
            f1_sum += m.f1[k];
        }
    }
    m.accuracy = m.n_labelled ? (double)correct / (double)m.n_labelled : NAN;
    m.macro_f1 = n_present ? f1_sum / (double)n_present : NAN;
    m.unknown_rate = n ? (double)m.n_unknown / (double)n : 0.0;
    return m;
}

void metrics_free(ClassMetrics *m) {
    if (!m) return;
    for (size_t k = 0; k < m->K; k++) free(m->classes[k]);
    free(m->classes);
    free(m->precision);
    free(m->recall);
    free(m->f1);
    free(m->support);
    free(m->confusion);
    memset(m, 0, sizeof(*m));
}

// Predictions of class k over labelled cells (column sum of the confusion matrix).
static size_t predicted_count(const ClassMetrics *m, size_t k) {
    size_t s = 0;
    for (size_t t = 0; t < m->K; t++) s += m->confusion[t * (m->K + 1) + k];
    return s;
}

// Checks a stdio result (a negative printf count or an error flag on the stream).
static void check_stream(FILE *out, const char *what) {
    if (ferror(out)) FATAL("check free disk space and permissions", "writing %s failed", what);
}

void metrics_print_table(const ClassMetrics *m, const char *title, FILE *out) {
    int w = 5;
    for (size_t k = 0; k < m->K; k++)
        if ((int)strlen(m->classes[k]) > w) w = (int)strlen(m->classes[k]);
    fprintf(out, "== %s ==\n", title ? title : "metrics");
    fprintf(out, "cells %zu, labelled %zu, unknown %zu (%.2f%%)\n", m->n, m->n_labelled,
            m->n_unknown, 100.0 * m->unknown_rate);
    if (m->n_labelled)
        fprintf(out, "accuracy %.4f   macro-F1 %.4f (over %s)\n", m->accuracy, m->macro_f1,
                "classes present in the truth");
    else
        fprintf(out, "accuracy n/a   macro-F1 n/a (no labelled cells)\n");
    fprintf(out, "%-*s %9s %9s %9s %8s %9s\n", w, "class", "precision", "recall", "f1", "support",
            "predicted");
    for (size_t k = 0; k < m->K; k++) {
        size_t predicted = predicted_count(m, k);
        if (!m->support[k] && !predicted) continue;
        fprintf(out, "%-*s %9.4f %9.4f %9.4f %8zu %9zu%s\n", w, m->classes[k], m->precision[k],
                m->recall[k], m->f1[k], m->support[k], predicted,
                m->support[k] ? "" : "  (not in truth)");
    }
    check_stream(out, "the metrics table");
}

// Writes s as a JSON string literal.
static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", out);
        else if (*p == '\t') fputs("\\t", out);
        else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
        else fputc(*p, out);
    }
    fputc('"', out);
}

static void json_double(FILE *out, double v) {
    if (isfinite(v)) fprintf(out, "%.17g", v);
    else fputs("null", out);
}

void metrics_write_json(const ClassMetrics *m, const char *title, FILE *out) {
    fputs("{\"title\":", out);
    json_string(out, title ? title : "metrics");
    fprintf(out, ",\"n\":%zu,\"n_labelled\":%zu,\"n_unknown\":%zu,\"accuracy\":", m->n,
            m->n_labelled, m->n_unknown);
    json_double(out, m->accuracy);
    fputs(",\"macro_f1\":", out);
    json_double(out, m->macro_f1);
    fputs(",\"unknown_rate\":", out);
    json_double(out, m->unknown_rate);
    fputs(",\"classes\":[", out);
    for (size_t k = 0; k < m->K; k++) {
        if (k) fputc(',', out);
        json_string(out, m->classes[k]);
    }
    const struct { const char *name; const double *v; } cols[3] = {
        {"precision", m->precision}, {"recall", m->recall}, {"f1", m->f1}};
    for (int c = 0; c < 3; c++) {
        fprintf(out, "],\"%s\":[", cols[c].name);
        for (size_t k = 0; k < m->K; k++) {
            if (k) fputc(',', out);
            json_double(out, cols[c].v[k]);
        }
    }
    fputs("],\"support\":[", out);
    for (size_t k = 0; k < m->K; k++) fprintf(out, k ? ",%zu" : "%zu", m->support[k]);
    fputs("],\"confusion\":[", out);  // rows = truth classes, cols = classes + unknown
    for (size_t t = 0; t < m->K; t++) {
        fputs(t ? ",[" : "[", out);
        for (size_t p = 0; p <= m->K; p++)
            fprintf(out, p ? ",%zu" : "%zu", m->confusion[t * (m->K + 1) + p]);
        fputc(']', out);
    }
    fputs("]}\n", out);
    check_stream(out, "the metrics JSON");
}

void metrics_write_tsv(const ClassMetrics *m, FILE *out) {
    fputs("class\tprecision\trecall\tf1\tsupport\n", out);
    for (size_t k = 0; k < m->K; k++)
        fprintf(out, "%s\t%.6f\t%.6f\t%.6f\t%zu\n", m->classes[k], m->precision[k], m->recall[k],
                m->f1[k], m->support[k]);
    fputs("\ntruth\\predicted", out);
    for (size_t k = 0; k < m->K; k++) fprintf(out, "\t%s", m->classes[k]);
    fputs("\t" METRICS_UNKNOWN "\n", out);
    for (size_t t = 0; t < m->K; t++) {
        fputs(m->classes[t], out);
        for (size_t p = 0; p <= m->K; p++) fprintf(out, "\t%zu", m->confusion[t * (m->K + 1) + p]);
        fputc('\n', out);
    }
    check_stream(out, "the metrics TSV");
}
