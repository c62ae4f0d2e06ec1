// metrics_confusion: the confusion matrix as a table a person reads (kida evaluate).
#include <string.h>

#include "analysis/metrics.h"
#include "core/log.h"

void metrics_print_confusion(const ClassMetrics *m, FILE *out) {
    size_t K = m->K, *shown = xmalloc((K ? K : 1) * sizeof *shown), ns = 0, big = 0;
    for (size_t k = 0; k < K; k++) {
        size_t predicted = 0;
        for (size_t t = 0; t < K; t++) predicted += m->confusion[t * (K + 1) + k];
        if (m->support[k] || predicted) shown[ns++] = k;
    }
    int w = 5, cw = 4;
    for (size_t i = 0; i < ns; i++)
        if ((int)strlen(m->classes[shown[i]]) > w) w = (int)strlen(m->classes[shown[i]]);
    for (size_t i = 0; i < K * (K + 1); i++) big = m->confusion[i] > big ? m->confusion[i] : big;
    while (big >= 1000) { big /= 10; cw++; }
    fprintf(out, "confusion matrix (rows: true type, columns: predicted type by number, u = unknown):\n");
    fprintf(out, "%*s", w + 4, "");
    for (size_t j = 0; j < ns; j++) fprintf(out, " %*zu", cw, j + 1);
    fprintf(out, " %*s\n", cw, "u");
    for (size_t i = 0; i < ns; i++) {
        size_t t = shown[i];
        if (!m->support[t]) continue;   // predicted only: a column, never a row
        fprintf(out, "%3zu %-*s", i + 1, w, m->classes[t]);
        for (size_t j = 0; j < ns; j++) fprintf(out, " %*zu", cw, m->confusion[t * (K + 1) + shown[j]]);
        fprintf(out, " %*zu\n", cw, m->confusion[t * (K + 1) + K]);
    }
    for (size_t i = 0; i < ns; i++)   // types only predicted still need their number explained
        if (!m->support[shown[i]]) fprintf(out, "%3zu %s (predicted only, not in the truth)\n", i + 1, m->classes[shown[i]]);
    free(shown);
    if (ferror(out)) FATAL("check free disk space and permissions", "writing the confusion matrix failed");
}
