// output: see output.h.
#include "train/output.h"

#include <string.h>

#include "config.h"
#include "core/log.h"
#include "io/h5ad.h"

// Gathers an (n_local, width) float block of every rank onto rank 0 as (n_total, width).
static float *gather(const Dist *d, const float *local, size_t n_local, size_t width, size_t n_total) {
    float *all = d->rank == 0 ? xmalloc((n_total ? n_total : 1) * width * sizeof(float)) : NULL;
    dist_gatherv_f32(d, local, n_local * width, all, 0);
    return all;
}

static float *gather_i32(const Dist *d, const int32_t *local, size_t n_local, size_t n_total) {
    float *f = xmalloc((n_local ? n_local : 1) * sizeof(float));
    for (size_t i = 0; i < n_local; i++) f[i] = (float)local[i];
    float *all = gather(d, f, n_local, 1, n_total);
    free(f);
    return all;
}

// Labels with "unknown" (code K) below the threshold; categories = classes + "unknown".
static void write_labels(H5adWriter *w, const char *key, const float *pred, const float *conf, size_t n,
                         const ModelSpec *s, double thr, int with_unknown, size_t *n_unknown) {
    int32_t *codes = xmalloc((n ? n : 1) * sizeof(int32_t));
    char **cats = xmalloc((s->K + 1) * sizeof(char *));
    for (size_t k = 0; k < s->K; k++) cats[k] = s->classes[k];
    cats[s->K] = "unknown";
    size_t unk = 0;
    for (size_t i = 0; i < n; i++) {
        codes[i] = (int32_t)pred[i];
        if (with_unknown && conf[i] < thr) {
            codes[i] = (int32_t)s->K;
            unk++;
        }
    }
    h5ad_write_obs_categorical(w, key, codes, n, cats, s->K + (with_unknown ? 1 : 0));
    if (n_unknown) *n_unknown = unk;
    free(codes);
    free(cats);
}

size_t output_write(const OutputSpec *o, const Dist *d) {
    const Predictions *p = o->final;
    size_t n = o->n_total, K = p->K, C = p->C, P = p->P, n_unknown = 0;
    float *pred = gather_i32(d, p->pred, p->n, n), *conf = gather(d, p->conf, p->n, 1, n);
    float *ent = gather(d, p->entropy, p->n, 1, n), *emb = gather(d, p->emb, p->n, C, n);
    float *attn = gather(d, p->attn, p->n, P, n), *probs = gather(d, p->probs, p->n, K, n);
    float *tpred = NULL, *tconf = NULL;
    if (o->teacher) {
        tpred = gather_i32(d, o->teacher->pred, o->teacher->n, n);
        tconf = gather(d, o->teacher->conf, o->teacher->n, 1, n);
    }
    if (d->rank == 0) {
        const Sources *src = &o->query->src;
        H5adWriter *w = src->n > 1 ? output_list_base(o->out_path, o->overwrite, o->query, o->spec, o->c)
                                   : h5ad_writer_copy_of(o->out_path, o->overwrite, src->path[0]);
        write_labels(w, "kida_label", pred, conf, n, o->spec, o->unknown_threshold, 1, &n_unknown);
        write_labels(w, "kida_label_raw", pred, conf, n, o->spec, 0, 0, NULL);
        if (tpred) {
            write_labels(w, "kida_teacher_label", tpred, tconf, n, o->spec, o->unknown_threshold, 1, NULL);
            write_labels(w, "kida_teacher_label_raw", tpred, tconf, n, o->spec, 0, 0, NULL);
        }
        h5ad_write_obs_f32(w, "kida_conf", conf, n);
        h5ad_write_obs_f32(w, "kida_entropy", ent, n);
        if (o->anchors) {
            uint8_t *is = xcalloc(n ? n : 1, 1);
            for (size_t i = 0; i < o->n_anchor; i++) is[o->anchors[i]] = 1;
            h5ad_write_obs_bool(w, "kida_is_anchor", is, n);
            free(is);
        }
        h5ad_write_obsm_f32(w, "X_kida", emb, n, C);
        h5ad_write_obsm_f32(w, "kida_proba", probs, n, K);
        h5ad_write_obsm_f32(w, "kida_pathway_attn", attn, n, P);
        const ModelSpec *s = o->spec;
        h5ad_write_uns_strings(w, "kida/classes", s->classes, s->K);
        h5ad_write_uns_strings(w, "kida/pathways", s->pw.names, s->pw.P);
        int64_t *sizes = xmalloc(P * sizeof(int64_t));
        for (size_t j = 0; j < P; j++) sizes[j] = (int64_t)(s->pw.path_ptr[j + 1] - s->pw.path_ptr[j]);
        h5ad_write_uns_i64_array(w, "kida/pathway_genes", sizes, P);
        for (size_t j = 0; j < P; j++) sizes[j] = (int64_t)s->pw.set_size[j];
        h5ad_write_uns_i64_array(w, "kida/pathway_set_sizes", sizes, P);
        free(sizes);
        h5ad_write_uns_f64_array(w, "kida/pathway_pvalues", s->pw.pvalue, P);
        h5ad_write_uns_string(w, "kida/config", s->config_text ? s->config_text : "");
        h5ad_write_uns_string(w, "kida/version", PACKAGE_VERSION);
        h5ad_write_uns_string(w, "kida/mode", o->mode);
        h5ad_write_uns_f64(w, "kida/unknown_threshold", o->unknown_threshold);
        if (o->hist && o->n_hist) {
            float *h = xmalloc(o->n_hist * 5 * sizeof(float));
            for (size_t i = 0; i < o->n_hist * 5; i++) h[i] = (float)o->hist[i];
            h5ad_write_uns_f32_matrix(w, "kida/history", h, o->n_hist, 5);
            char *cols[5] = {"phase(0=teacher,1=student)", "loss", "kd", "ada", "holdout_accuracy"};
            h5ad_write_uns_strings(w, "kida/history_columns", cols, 5);
            free(h);
        }
        h5ad_writer_commit(w);
    }
    int64_t u = (int64_t)n_unknown;
    dist_allreduce_sum_i64(d, &u, 1);
    free(pred); free(conf); free(ent); free(emb); free(attn); free(probs); free(tpred); free(tconf);
    return (size_t)u;
}
