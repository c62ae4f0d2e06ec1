// output_labels: the labels of a run's cells, made once for every output (see output.h).
#include <math.h>
#include <string.h>

#include "core/log.h"
#include "train/output.h"

static char UNKNOWN[] = "unknown";

// Codes of n cells: the predicted class, or K (unknown) below the threshold or out of reference
// (novel[i]; novel may be NULL) when with_unknown.
static int32_t *label_codes(const int32_t *pred, const float *conf, const uint8_t *novel, size_t n, size_t K, double thr,
                            int with_unknown) {
    int32_t *codes = xcalloc_for(n ? n : 1, sizeof(int32_t), "output: labels of %zu cells", n);
    for (size_t i = 0; i < n; i++) {
        codes[i] = pred[i];
        if (with_unknown && (conf[i] < thr || (novel && novel[i]))) codes[i] = (int32_t)K;
    }
    return codes;
}

// kida_is_anchor of this rank's cells [start, start + n), from the ascending global anchor rows.
static uint8_t *anchor_flags(const int64_t *anchors, size_t n_anchor, size_t start, size_t n) {
    uint8_t *is = xcalloc(n ? n : 1, 1);
    size_t lo = 0, hi = n_anchor;
    while (lo < hi) {   // the first anchor at or after start
        size_t mid = lo + (hi - lo) / 2;
        if ((size_t)anchors[mid] < start) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i < n_anchor && (size_t)anchors[i] < start + n; i++) is[(size_t)anchors[i] - start] = 1;
    return is;
}

OutputLabels output_labels(const OutputSpec *o, const Dist *d) {
    const Predictions *p = o->final;
    size_t n = p->n, K = o->spec->K;
    OutputLabels l = {.n = n, .n_cats = K + 1};
    l.cats = xmalloc((K + 1) * sizeof(char *));
    for (size_t k = 0; k < K; k++) l.cats[k] = o->spec->classes[k];
    l.cats[K] = UNKNOWN;
    // out-of-reference (novel) cells are unknown with --oor-unknown
    l.label = label_codes(p->pred, p->conf, o->oor_flag ? o->novel : NULL, n, K, o->unknown_threshold, 1);
    l.label_raw = label_codes(p->pred, p->conf, NULL, n, K, 0, 0);
    if (o->teacher) {
        const Predictions *t = o->teacher;
        l.teacher = label_codes(t->pred, t->conf, NULL, n, K, o->unknown_threshold, 1);
        l.teacher_raw = label_codes(t->pred, t->conf, NULL, n, K, 0, 0);
    }
    if (o->anchors) l.is_anchor = anchor_flags(o->anchors, o->n_anchor, o->query->start, n);
    if (o->novel) {
        l.oor = xcalloc(n ? n : 1, 1);
        memcpy(l.oor, o->novel, n);
    }
    l.count = xcalloc(K + 1, sizeof(int64_t));
    for (size_t i = 0; i < n; i++)
        if (l.label[i] >= 0 && (size_t)l.label[i] <= K) l.count[l.label[i]]++;
    dist_allreduce_sum_i64(d, l.count, K + 1);
    l.n_unknown = (size_t)l.count[K];
    l.n_total = dist_sum_size(d, n);
    return l;
}

void output_labels_free(OutputLabels *l) {
    free(l->cats);
    free(l->label);
    free(l->label_raw);
    free(l->teacher);
    free(l->teacher_raw);
    free(l->is_anchor);
    free(l->oor);
    free(l->count);
    memset(l, 0, sizeof *l);
}
