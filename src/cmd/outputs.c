// outputs: see outputs.h (outputs_summary is in summary.c).
#include "cmd/outputs.h"

#include <math.h>
#include <string.h>

#include "analysis/majority.h"
#include "analysis/novelty.h"
#include "prep/profiles.h"
#include "config.h"
#include "core/log.h"
#include "core/runstats.h"
#include "io/h5ad.h"
#include "train/fit.h"

static int majority_on(const Config *c) { return c->majority_voting || (c->over_clustering && *c->over_clustering); }

// Rank 0: FATAL unless every file of the query list has obs[key] as labels.
static void check_column(const Config *c, const char *key) {
    if (log_rank() != 0) return;
    char *list = xstrdup(c->query), *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        H5ad *h = h5ad_open(t, NULL, c->use_gene_ids, NULL);
        if (!h5ad_has_obs(h, key)) {
            size_t n = 0;
            char **keys = h5ad_obs_keys(h, &n), have[1024] = "";
            for (size_t k = 0; k < n; k++) {
                size_t l = strlen(have);
                snprintf(have + l, sizeof have - l, "%s%s", k ? ", " : "", keys[k]);
            }
            FATAL("give --over-clustering an obs column of every query file, or leave it out to over-cluster with Leiden",
                  "%s: --over-clustering: no obs column '%s' (the file has: %s)", t, key, n ? have : "none");
        }
        size_t n_cats = 0;
        char **cats = NULL;   // read now, so that a column that holds no labels is refused before any work
        free(h5ad_obs_labels(h, key, 0, h5ad_n_obs(h), &cats, &n_cats));
        strv_free(cats, n_cats);
        h5ad_close(h);
    }
    free(list);
}

void outputs_check(const Config *c) {
    const char *p = c->predictions_out;
    if (p && *p) {
        if ((c->out && !strcmp(p, c->out)) || (c->model_out && !strcmp(p, c->model_out)))
            FATAL("give --predictions-out its own path (a .tsv)", "--predictions-out %s is also the path of --out or --model-out", p);
        fit_check_output(p, c->overwrite, "--predictions-out");
    }
    if (!majority_on(c)) return;
    if (c->over_clustering && *c->over_clustering) check_column(c, c->over_clustering);
#ifndef HAVE_IGRAPH
    else
        FATAL("install the igraph C library (apt-get install libigraph-dev) and re-run configure, or give "
              "--over-clustering an obs column of clusters",
              "--majority-voting over-clusters with Leiden, and this build has no igraph");
#endif
}

void outputs_check_size(const Config *c, size_t n_total, size_t C) {
    if (!majority_on(c) || (c->over_clustering && *c->over_clustering)) return;
    if ((double)n_total * (double)C > (double)MAJORITY_MAX_VALUES)
        FATAL("give --over-clustering an obs column of clusters instead (no embedding is gathered then)",
              "--majority-voting: the embedding of %zu cells x width %zu is more than the %zu values rank 0 gathers "
              "(nothing was trained yet)", n_total, C, MAJORITY_MAX_VALUES);
    if (n_total > 200000)
        log_warn("--majority-voting: an exact %d-NN graph of %zu cells on rank 0 takes a while (it grows with the square "
                 "of the cells); --over-clustering with an obs column of clusters avoids it", MAJORITY_K, n_total);
}

// Majority voting of o's cells labelled l: the clusters of --over-clustering or Leiden's.
static Majority vote(const Config *c, const Dist *d, const OutputSpec *o, const OutputLabels *l) {
    const Dataset *q = o->query;
    Majority m;
    if (c->over_clustering && *c->over_clustering) {
        size_t n_cats = 0;
        char **cats = NULL;
        int32_t *codes = sources_read_column(&q->src, c->over_clustering, c, d, &cats, &n_cats);
        m = majority_given(codes + q->start, q->count, cats, n_cats);
        free(codes);
        strv_free(cats, n_cats);
        log_info("majority voting: over obs '%s' (%zu clusters)", c->over_clustering, n_cats);
    } else m = majority_leiden(o->final->emb, q->count, o->final->C, (uint64_t)c->seed, d);
    majority_vote(&m, l->label, l->n, l->n_cats, d);
    size_t changed = 0;
    for (size_t i = 0; i < l->n; i++) changed += m.label[i] != l->label[i];
    changed = dist_sum_size(d, changed);
    log_info("majority voting: %zu of %zu cells take their cluster's majority label instead of their own", changed,
             l->n_total);
    return m;
}

// The expression profiles of the novel-type clusters: from the query rows in memory (annotate) or
// read again in blocks (predict streams the query). Collective.
static float *cluster_profiles(const OutputSpec *o, const Novelty *nv, const Dist *d) {
    const Dataset *q = o->query;
    const PrepStats *ps = &o->spec->prep;
    ProfileSums s = profiles_begin(nv->n_clusters, ps->G);
    if (q->x.n_rows == q->count) {
        profiles_add(&s, &q->x, nv->cluster);
    } else {
        for (size_t lo = 0; lo < q->count; lo += DATASET_BLOCK) {
            size_t n = q->count - lo < DATASET_BLOCK ? q->count - lo : DATASET_BLOCK;
            Csr x = dataset_query_rows(q, ps, q->start + lo, n, 1);
            profiles_add(&s, &x, nv->cluster + lo);
            csr_free(&x);
        }
    }
    return profiles_finish(&s, ps, NULL, d);
}

OutputLabels outputs_write(const Config *c, const Dist *d, OutputSpec *o) {
    Novelty nv = {0};
    char **ncats = NULL;
    if (c->novel_cutoff > 0) {  // before the labels: with --oor-unknown a novel cell is unknown
        PhaseClock t0 = phase_clock();
        double far = o->oor_score && c->novel_distance ? o->oor_cutoff : NAN;
        double cut = novelty_cutoff(c->novel_cutoff, o->holdout_conf, o->n_oor_holdout, c->novel_holdout_quantile);
        nv = novelty_find(o->final->emb, o->final->conf, o->oor_score, o->final->n, o->final->C, c->novel_resolution, cut,
                          far, NOVELTY_MAX_CELLS, (uint64_t)c->seed, d);
        if (c->novel_profile_r > -1 && o->spec->profile) {
            float *cp = cluster_profiles(o, &nv, d);
            novelty_by_profile(&nv, o->final->n, cp, o->final->pred, o->spec->profile, o->spec->K, o->spec->prep.G,
                               c->novel_profile_r, d);
            free(cp);
        } else if (c->novel_profile_r > -1)
            log_warn("novel types: %s holds no reference type profiles (saved before kida kept them); only the "
                     "confidence rule runs (retrain the model to add them)", c->model ? c->model : "the model");
        phase_since("novel types", t0, o->final->n);
        ncats = majority_cluster_names(nv.n_clusters);
        o->novel = nv.novel;
        o->novel_cluster = nv.cluster;
        o->novel_cats = ncats;
        o->n_novel_cats = nv.n_clusters;
        o->cluster_conf = nv.cluster_conf;
        o->cluster_score = nv.cluster_score;
        o->cluster_r = nv.cluster_r;
        o->novel_profile_r = c->novel_profile_r;
        o->novel_cutoff = cut;
        o->novel_resolution = c->novel_resolution;
    }
    OutputLabels l = output_labels(o, d);
    Majority m = {0};
    if (majority_on(c)) {
        PhaseClock t0 = phase_clock();
        m = vote(c, d, o, &l);
        phase_since("majority voting", t0, l.n);
        o->majority = m.label;
        o->over_cluster = m.cluster;
        o->cluster_cats = m.cats;
        o->n_cluster_cats = m.n_cats;
    }
    PhaseClock t0 = phase_clock();
    output_write(o, &l, d);
    if (c->predictions_out && *c->predictions_out) output_write_tsv(c->predictions_out, c->overwrite, o, &l, d);
    phase_since("write", t0, l.n);
    log_info("annotated %zu cells -> %s (%zu unknown below max probability %.2f)", l.n_total, o->out_path, l.n_unknown,
             o->unknown_threshold);
    o->majority = o->over_cluster = NULL;
    o->cluster_cats = NULL;
    o->novel = NULL;
    o->novel_cluster = NULL;
    o->novel_cats = NULL;
    o->cluster_conf = o->cluster_score = o->cluster_r = NULL;
    majority_free(&m);
    strv_free(ncats, nv.n_clusters);
    novelty_free(&nv);
    return l;
}
