// output: see output.h.
#include "train/output.h"

#include <math.h>
#include <string.h>

#include "config.h"
#include "core/log.h"
#include "io/h5ad.h"

// Labels with "unknown" (code K) below the threshold or out of reference (oor[i] above cutoff;
// oor may be NULL); categories = classes + "unknown". This rank's n cells; *n_unknown counts this
// rank's unknown.
static void write_labels(H5adWriter *w, const char *key, const int32_t *pred, const float *conf, const float *oor,
                         double cutoff, size_t n, const ModelSpec *s, double thr, int with_unknown, size_t *n_unknown) {
    int32_t *codes = xcalloc_for(n ? n : 1, sizeof(int32_t), "output: '%s' of %zu cells", key, n);
    char **cats = xcalloc_for(szadd(s->K, 1), sizeof(char *), "output: '%s' of %zu classes", key, s->K);
    for (size_t k = 0; k < s->K; k++) cats[k] = s->classes[k];
    cats[s->K] = "unknown";
    size_t unk = 0;
    for (size_t i = 0; i < n; i++) {
        codes[i] = pred[i];
        if (with_unknown && (conf[i] < thr || (oor && oor[i] > cutoff))) {
            codes[i] = (int32_t)s->K;
            unk++;
        }
    }
    h5ad_write_obs_categorical(w, key, codes, n, cats, s->K + (with_unknown ? 1 : 0));
    if (n_unknown) *n_unknown = unk;
    free(codes);   // the writer converted the codes already
    free(cats);
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

// The uns entries of a run: classes, pathways, config, mode and threshold, training history.
static void write_uns(H5adWriter *w, const OutputSpec *o) {
    const ModelSpec *s = o->spec;
    size_t P = s->pw.P;
    h5ad_write_uns_strings(w, "kida/classes", s->classes, s->K);
    h5ad_write_uns_strings(w, "kida/pathways", s->pw.names, P);
    int64_t *sizes = xmalloc((P ? P : 1) * sizeof(int64_t));
    for (size_t j = 0; j < P; j++) sizes[j] = (int64_t)(s->pw.path_ptr[j + 1] - s->pw.path_ptr[j]);
    h5ad_write_uns_i64_array(w, "kida/pathway_genes", sizes, P);
    for (size_t j = 0; j < P; j++) sizes[j] = (int64_t)s->pw.set_size[j];
    h5ad_write_uns_i64_array(w, "kida/pathway_set_sizes", sizes, P);
    free(sizes);
    h5ad_write_uns_f64_array(w, "kida/pathway_pvalues", s->pw.pvalue, P);
    h5ad_write_uns_string(w, "kida/config", s->config_text ? s->config_text : "");
    h5ad_write_uns_string(w, "kida/version", PACKAGE_VERSION);
    h5ad_write_uns_string(w, "kida/mode", o->mode);
    const Sources *src = &o->query->src;
    char **inputs = xmalloc(src->n * sizeof(char *));
    for (size_t f = 0; f < src->n; f++) inputs[f] = sources_describe(src, f);
    h5ad_write_uns_strings(w, "kida/query_inputs", inputs, src->n);
    strv_free(inputs, src->n);
    h5ad_write_uns_f64(w, "kida/unknown_threshold", o->unknown_threshold);
    if (o->oor_score) {
        h5ad_write_uns_f64(w, "kida/oor_cutoff", o->oor_cutoff);
        if (o->n_oor_holdout) {
            double *h = xcalloc_for(o->n_oor_holdout, sizeof(double), "output: %zu hold-out scores", o->n_oor_holdout);
            for (size_t i = 0; i < o->n_oor_holdout; i++) h[i] = o->oor_holdout[i];
            h5ad_write_uns_f64_array(w, "kida/oor_holdout_scores", h, o->n_oor_holdout);
            for (size_t i = 0; i < o->n_oor_holdout; i++) h[i] = o->holdout_conf[i];
            h5ad_write_uns_f64_array(w, "kida/holdout_conf", h, o->n_oor_holdout);
            free(h);
        }
    }
    if (o->hist && o->n_hist) {
        float *h = xmalloc_for(szmul(szmul(o->n_hist, 5), sizeof(float)), "output: training history of %zu epochs", o->n_hist);
        for (size_t i = 0; i < o->n_hist * 5; i++) h[i] = (float)o->hist[i];
        h5ad_write_uns_f32_matrix(w, "kida/history", h, o->n_hist, 5);
        char *cols[5] = {"phase(0=teacher,1=student)", "loss", "kd", "ada", "holdout_accuracy"};
        h5ad_write_uns_strings(w, "kida/history_columns", cols, 5);
        free(h);
    }
}

size_t output_write(const OutputSpec *o, const Dist *d) {
    Predictions *p = o->final;
    const Sources *src = &o->query->src;
    size_t n = p->n, start = o->query->start, n_unknown = 0;
    if (n != o->query->count) FATAL("a bug in kida", "output: %zu predictions for a block of %zu cells", n, o->query->count);
    H5adWriter *w = src->n > 1 ? output_list_base(o->out_path, o->overwrite, o->query, o->spec, o->c, d)
                               : h5ad_writer_copy_rows_of(o->out_path, o->overwrite, src->path[0], d, n);
    if (h5ad_writer_row0(w) != start)
        FATAL("a bug in kida", "output: this rank's rows start at %zu in the file, %zu in the query", h5ad_writer_row0(w), start);
    // out-of-reference cells are unknown with --oor-quantile
    const float *flag = o->oor_flag && !isnan(o->oor_cutoff) ? o->oor_score : NULL;
    const float *tflag = o->oor_flag && !isnan(o->teacher_oor_cutoff) ? o->teacher_oor_score : NULL;
    write_labels(w, "kida_label", p->pred, p->conf, flag, o->oor_cutoff, n, o->spec, o->unknown_threshold, 1, &n_unknown);
    write_labels(w, "kida_label_raw", p->pred, p->conf, NULL, 0, n, o->spec, 0, 0, NULL);
    if (o->teacher) {
        write_labels(w, "kida_teacher_label", o->teacher->pred, o->teacher->conf, tflag, o->teacher_oor_cutoff, n, o->spec,
                     o->unknown_threshold, 1, NULL);
        write_labels(w, "kida_teacher_label_raw", o->teacher->pred, o->teacher->conf, NULL, 0, n, o->spec, 0, 0, NULL);
    }
    if (o->oor_score) {
        h5ad_write_obs_f32(w, "kida_oor_score", o->oor_score, n);
        uint8_t *out = xcalloc(n ? n : 1, 1);
        for (size_t i = 0; i < n; i++) out[i] = !isnan(o->oor_cutoff) && o->oor_score[i] > o->oor_cutoff;
        h5ad_write_obs_bool(w, "kida_out_of_reference", out, n);
        free(out);
    }
    if (o->teacher_oor_score && o->teacher != p) h5ad_write_obs_f32(w, "kida_teacher_oor_score", o->teacher_oor_score, n);
    h5ad_write_obs_f32(w, "kida_conf", p->conf, n);
    h5ad_write_obs_f32(w, "kida_entropy", p->entropy, n);
    if (o->anchors) {
        uint8_t *is = anchor_flags(o->anchors, o->n_anchor, start, n);
        h5ad_write_obs_bool(w, "kida_is_anchor", is, n);
        free(is);
    }
    h5ad_write_obsm_f32_take(w, "X_kida", &p->emb, n, p->C);   // the largest outputs: given, not copied
    h5ad_write_obsm_f32_take(w, "kida_proba", &p->probs, n, p->K);
    h5ad_write_obsm_f32_take(w, "kida_pathway_attn", &p->attn, n, p->P);
    if (o->teacher && o->teacher != p) h5ad_write_obsm_f32(w, "kida_teacher_proba", o->teacher->probs, n, p->K);
    write_uns(w, o);
    h5ad_writer_commit(w);
    int64_t u = (int64_t)n_unknown;
    dist_allreduce_sum_i64(d, &u, 1);
    return (size_t)u;
}

void output_check_query(const char *query_list) {
    if (log_rank() != 0 || !query_list) return;
    char *list = xstrdup(query_list), *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) h5ad_check_copy_source(t);
    free(list);
}
