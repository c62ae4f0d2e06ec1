// output: see output.h.
#include "train/output.h"

#include <math.h>
#include <string.h>

#include "config.h"
#include "core/log.h"
#include "io/h5ad.h"

// The uns entries of a run: classes, pathways, config, mode and threshold, training history.
static void write_uns(H5adWriter *w, const OutputSpec *o) {
    const ModelSpec *s = o->spec;
    size_t P = s->pw.P;
    h5ad_write_uns_strings(w, "kida/classes", s->classes, s->K);
    h5ad_write_uns_strings(w, "kida/proba_columns", s->classes, s->K);   // the columns of obsm kida_proba
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
    h5ad_write_uns_f64(w, "kida/spatial_smooth", (double)o->spatial_smooth);
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
    if (o->novel) {
        h5ad_write_uns_f64(w, "kida/novel_cutoff", o->novel_cutoff);
        h5ad_write_uns_f64(w, "kida/novel_resolution", o->novel_resolution);
        if (o->cluster_r) h5ad_write_uns_f64(w, "kida/novel_profile_r", o->novel_profile_r);
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

// obsm kida_proba_df: the probabilities as a DataFrame with the class names as columns, when the
// names can be (h5ad_frame_names_ok; otherwise only kida_proba and uns kida/proba_columns).
static void write_proba_frame(H5adWriter *w, const Predictions *p, const ModelSpec *s) {
    if (!h5ad_frame_names_ok(s->classes, s->K)) {
        log_warn("obsm kida_proba_df not written: a class name is empty, holds '/' or is '_index' (kida_proba and "
                 "uns kida/proba_columns hold the probabilities and their classes)");
        return;
    }
    h5ad_write_obsm_frame_f32(w, "kida_proba_df", p->probs, p->n, s->classes, s->K);
}

void output_write(const OutputSpec *o, const OutputLabels *l, const Dist *d) {
    Predictions *p = o->final;
    const Sources *src = &o->query->src;
    size_t n = p->n, start = o->query->start;
    if (n != o->query->count || n != l->n)
        FATAL("a bug in kida", "output: %zu predictions, %zu labels for a block of %zu cells", n, l->n, o->query->count);
    H5adWriter *w = src->n > 1 ? output_list_base(o->out_path, o->overwrite, o->query, o->spec, o->c, d)
                               : h5ad_writer_copy_rows_of(o->out_path, o->overwrite, src->path[0], d, n);
    if (h5ad_writer_row0(w) != start)
        FATAL("a bug in kida", "output: this rank's rows start at %zu in the file, %zu in the query", h5ad_writer_row0(w), start);
    h5ad_write_obs_categorical_used(w, "kida_label", l->label, n, l->cats, l->n_cats);
    h5ad_write_obs_categorical_used(w, "kida_label_raw", l->label_raw, n, l->cats, l->n_cats);
    if (l->teacher) {
        h5ad_write_obs_categorical_used(w, "kida_teacher_label", l->teacher, n, l->cats, l->n_cats);
        h5ad_write_obs_categorical_used(w, "kida_teacher_label_raw", l->teacher_raw, n, l->cats, l->n_cats);
    }
    if (o->majority) {
        h5ad_write_obs_categorical_used(w, "kida_majority_voting", o->majority, n, l->cats, l->n_cats);
        h5ad_write_obs_categorical_used(w, "kida_over_clustering", o->over_cluster, n, o->cluster_cats, o->n_cluster_cats);
    }
    if (o->oor_score) h5ad_write_obs_f32(w, "kida_oor_score", o->oor_score, n);
    if (l->oor) h5ad_write_obs_bool(w, "kida_out_of_reference", l->oor, n);
    if (o->novel) {
        h5ad_write_obs_categorical_used(w, "kida_novel_cluster", o->novel_cluster, n, o->novel_cats, o->n_novel_cats);
        h5ad_write_obs_f32(w, "kida_cluster_conf", o->cluster_conf, n);
        if (o->cluster_score) h5ad_write_obs_f32(w, "kida_cluster_oor_score", o->cluster_score, n);
        if (o->cluster_r) h5ad_write_obs_f32(w, "kida_cluster_profile_r", o->cluster_r, n);
    }
    if (o->teacher_oor_score && o->teacher != p) h5ad_write_obs_f32(w, "kida_teacher_oor_score", o->teacher_oor_score, n);
    h5ad_write_obs_f32(w, "kida_conf", p->conf, n);
    h5ad_write_obs_f32(w, "kida_entropy", p->entropy, n);
    if (l->is_anchor) h5ad_write_obs_bool(w, "kida_is_anchor", l->is_anchor, n);
    write_proba_frame(w, p, o->spec);
    h5ad_write_obsm_f32_take(w, "X_kida", &p->emb, n, p->C);   // the largest outputs: given, not copied
    h5ad_write_obsm_f32_take(w, "kida_proba", &p->probs, n, p->K);
    h5ad_write_obsm_f32_take(w, "kida_pathway_attn", &p->attn, n, p->P);
    if (o->teacher && o->teacher != p) h5ad_write_obsm_f32(w, "kida_teacher_proba", o->teacher->probs, n, p->K);
    write_uns(w, o);
    h5ad_writer_commit(w);
}

void output_check_query(const char *query_list) {
    if (log_rank() != 0 || !query_list) return;
    char *list = xstrdup(query_list), *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) h5ad_check_copy_source(t);
    free(list);
}
