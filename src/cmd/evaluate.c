// evaluate: `kida evaluate` — compare kida's labels in an annotated file with true labels:
// accuracy, macro-F1, per-class precision/recall/F1, confusion matrix, unknown rate, for the
// student (kida_label) and, when present, the teacher (kida_teacher_label: KI).
#include <errno.h>
#include <string.h>

#include "analysis/embed_eval.h"
#include "analysis/metrics.h"
#include "cmd/commands.h"
#include "core/log.h"
#include "io/h5ad.h"

// Labels of obs[key] with "unknown" mapped to -1 (predicted unknown).
static int32_t *read_pred(H5ad *h, const char *key, size_t n, char ***cats, size_t *n_cats) {
    int32_t *codes = h5ad_obs_labels(h, key, 0, n, cats, n_cats);
    for (size_t i = 0; i < n; i++)
        if (codes[i] >= 0 && !strcmp((*cats)[codes[i]], "unknown")) codes[i] = -1;
    return codes;
}

static FILE *open_out(const char *prefix, const char *ext, int overwrite) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s", prefix, ext);
    FILE *probe = fopen(path, "r");
    if (probe && !overwrite) {
        fclose(probe);
        FATAL("choose another --metrics-out, or add --overwrite", "%s already exists", path);
    }
    if (probe) fclose(probe);
    FILE *f = fopen(path, "w");
    if (!f) FATAL("check that the folder exists and is writable", "cannot write %s: %s", path, strerror(errno));
    return f;
}

int cmd_evaluate(const Config *c, const Dist *d) {
    const char *path = c->pred && *c->pred ? c->pred : c->input;
    if (!path) FATAL("give an annotated file: kida evaluate --pred OUT.h5ad", "kida evaluate needs --pred");
    if (d->rank != 0) return 0;
    H5ad *h = h5ad_open(path, NULL, 0, NULL);
    size_t n = h5ad_n_obs(h), n_truth = 0, n_pred = 0, n_teach = 0;
    char **truth_cats = NULL, **pred_cats = NULL, **teach_cats = NULL;
    if (!h5ad_has_obs(h, "kida_label"))
        FATAL("give a file written by kida annotate or kida predict", "%s: obs has no kida_label column", path);
    if (c->embedding) {   // the embedding's columns are checked before any table is printed
        if (c->batch_key && *c->batch_key && !h5ad_has_obs(h, c->batch_key))
            FATAL("give an obs column of the annotated file with --batch-key (kida inspect lists them)",
                  "%s: obs has no column %s (--batch-key)", path, c->batch_key);
        if (c->modality_key && *c->modality_key && strcmp(c->modality_key, EMBED_EVAL_MODALITY_KEY) &&
            !h5ad_has_obs(h, c->modality_key))
            FATAL("give an obs column of the annotated file with --modality-key (kida inspect lists them)",
                  "%s: obs has no column %s (--modality-key)", path, c->modality_key);
    }
    int32_t *truth = h5ad_obs_labels(h, c->truth_key, 0, n, &truth_cats, &n_truth);
    int32_t *pred = read_pred(h, "kida_label", n, &pred_cats, &n_pred);
    int has_teacher = h5ad_has_obs(h, "kida_teacher_label");
    int32_t *teach = has_teacher ? read_pred(h, "kida_teacher_label", n, &teach_cats, &n_teach) : NULL;
    h5ad_close(h);

    ClassMetrics ms = metrics_classify(truth, truth_cats, n_truth, pred, pred_cats, n_pred, n);
    ClassMetrics mt = {0};
    if (has_teacher) mt = metrics_classify(truth, truth_cats, n_truth, teach, teach_cats, n_teach, n);
    metrics_print_table(&ms, has_teacher ? "KIDA (student)" : "kida", stdout);
    metrics_print_confusion(&ms, stdout);
    if (has_teacher) {
        metrics_print_table(&mt, "KI (teacher)", stdout);
        metrics_print_confusion(&mt, stdout);
    }
    printf("\nsummary: %zu labelled cells of %zu\n", ms.n_labelled, n);
    if (has_teacher) printf("  KI   accuracy %.4f  macro-F1 %.4f  unknown %.4f\n", mt.accuracy, mt.macro_f1, mt.unknown_rate);
    printf("  %-4s accuracy %.4f  macro-F1 %.4f  unknown %.4f\n", has_teacher ? "KIDA" : "kida", ms.accuracy, ms.macro_f1,
           ms.unknown_rate);
    if (c->embedding) embed_eval_report(path, c->truth_key, c->batch_key, c->modality_key, stdout);
    if (c->metrics_out && *c->metrics_out) {
        FILE *j = open_out(c->metrics_out, ".json", c->overwrite);
        fprintf(j, "{\"file\": \"%s\", \"results\": [", path);
        metrics_write_json(&ms, has_teacher ? "KIDA" : "kida", j);
        if (has_teacher) {
            fputs(", ", j);
            metrics_write_json(&mt, "KI", j);
        }
        fputs("]}\n", j);
        fclose(j);
        FILE *t = open_out(c->metrics_out, ".tsv", c->overwrite);
        metrics_write_tsv(&ms, t);
        fclose(t);
        printf("metrics written to %s.json and %s.tsv\n", c->metrics_out, c->metrics_out);
    }
    metrics_free(&ms);
    if (has_teacher) metrics_free(&mt);
    strv_free(truth_cats, n_truth);
    strv_free(pred_cats, n_pred);
    if (teach_cats) strv_free(teach_cats, n_teach);
    free(truth); free(pred); free(teach);
    return 0;
}
