// annotate: `kida annotate` (teacher → anchors → student → annotated query) and `kida train`
// (teacher only, saved as a model).
#include <math.h>
#include <string.h>

#include "analysis/novelty.h"
#include "analysis/spatial.h"
#include "cmd/commands.h"
#include "cmd/outputs.h"
#include "core/log.h"
#include "core/runstats.h"
#include "core/signals.h"
#include "train/anchors.h"
#include "train/fit.h"
#include "train/infer.h"
#include "train/oor.h"
#include "train/output.h"
#include "train/preflight.h"
#include "train/teacher_in.h"

static size_t local_batch(const Config *c, const Dist *d) {
    return ((size_t)c->batch_size + (size_t)d->size - 1) / (size_t)d->size;
}

// The teacher: trained from scratch, or from the checkpoint's position; loaded as is when the
// checkpoint is past the teacher phase or --teacher names a trained one. Returns 0 or
// KIDA_EXIT_RESUMABLE.
static int run_teacher(Fit *f, Model *T) {
    const Config *c = f->c;
    model_init(T, &f->spec.mc, &f->map, local_batch(c, f->d), 1);
    memcpy(T->gene_zero, f->spec.prep.zero, f->spec.mc.G * sizeof(float));
    model_init_weights(T, (uint64_t)c->seed);
    if (c->teacher && *c->teacher) {
        modelfile_read_params(c->teacher, "teacher", T, 0);
        log_info("teacher: the one in %s (its training skipped)", c->teacher);
        return 0;
    }
    if (f->resumed) modelfile_read_params(f->ckpt_path, "teacher", T, f->st.phase == PHASE_TEACHER);
    if (f->resumed && f->st.phase != PHASE_TEACHER) return 0;
    float *w = fit_class_weights(f);
    TrainData td = {.x = &f->ref.x, .n_total = f->ref.n_total, .ids = f->train_ids, .n_ids = f->n_train, .labels = f->lab.y,
                    .class_weight = w};
    double t0 = wall_time();
    PhaseClock p0 = phase_clock();
    size_t epochs = fit_epochs("teacher", "--teacher-min-steps", (size_t)c->epochs, (size_t)c->teacher_min_steps, f->n_train,
                               (size_t)c->batch_size);
    int rc = fit_train_phase(f, T, NULL, PHASE_TEACHER, &td, epochs);
    free(w);
    if (rc == 0) {
        phase_since("teacher training", p0, 0);
        log_info("teacher trained in %.1f s", wall_time() - t0);
    }
    return rc;
}


// Anchors per predicted type (the paper) or, with --anchor-groups type-modality, per (type,
// modality of the query file) so that every modality of a mixed query gets its share.
static int64_t *pick_anchors(const Config *c, const Dist *d, const Dataset *q, const Predictions *tq,
                             const int32_t *pred, size_t K, size_t *n_anchor) {
    if (strcmp(c->anchor_groups, "type-modality") || q->src.n < 2)
        return anchors_select(d, pred, tq->entropy, q->count, q->n_total, K, c->anchor_fraction, (size_t)c->anchor_min, n_anchor);
    const Sources *s = &q->src;
    int32_t *mod_of_file = xmalloc(s->n * sizeof(int32_t));
    size_t M = 0;
    for (size_t f = 0; f < s->n; f++) {
        size_t m = 0;
        while (m < f && strcmp(s->modality[m], s->modality[f])) m++;
        mod_of_file[f] = m == f ? (int32_t)M++ : mod_of_file[m];
    }
    int32_t *group = xmalloc((q->count ? q->count : 1) * sizeof(int32_t));
    for (size_t i = 0; i < q->count; i++)
        group[i] = pred[i] < 0 ? -1 : pred[i] + (int32_t)K * mod_of_file[sources_file_of(s, q->start + i)];
    int64_t *a = anchors_select(d, group, tq->entropy, q->count, q->n_total, K * M, c->anchor_fraction, (size_t)c->anchor_min, n_anchor);
    free(group);
    free(mod_of_file);
    return a;
}

// The out-of-reference model of a trained model, from its embeddings of the reference's cells.
// Only the rows the fit reads are embedded (inference is per cell: the same bits as in any batch).
static OorModel fit_oor(const Fit *f, const Model *m) {
    enum { MAX_FIT = 20000 };
    size_t n = f->ref.count, C = m->cfg.C;
    uint8_t *use = oor_rows_used(f->lab.y, f->holdout, f->ref.start, n, f->ref.n_total, MAX_FIT);
    Csr sub = csr_select_rows(&f->ref.x, use);
    Predictions r = infer_rows(&m->cfg, &f->map, m->gene_zero, m->params, &sub, 64, f->gpu);
    float *emb = xcalloc((n ? n : 1) * C, sizeof(float)), *conf = xcalloc(n ? n : 1, sizeof(float));
    for (size_t i = 0, j = 0; i < n; i++)
        if (use[i]) {
            memcpy(emb + i * C, r.emb + j * C, C * sizeof(float));
            conf[i] = r.conf[j++];
        }
    OorModel o = oor_fit(emb, conf, f->ref.start, n, C, f->spec.K, f->lab.y, f->holdout, f->ref.n_total, f->c->oor_quantile,
                         MAX_FIT, f->d);
    predictions_free(&r);
    csr_free(&sub);
    free(emb);
    free(conf);
    free(use);
    return o;
}

static void save_model(Fit *f, const char *path, const Model *T, const Model *S) {
    if (!path || !*path) return;
    if (f->d->rank == 0) modelfile_write(path, &f->spec, T, S, NULL);
    dist_barrier(f->d);
    log_info("model saved to %s", path);
}

int cmd_train(const Config *c, const Dist *d) {
    if (!c->model_out || !*c->model_out) FATAL("give --model-out MODEL.h5", "kida train needs --model-out");
    fit_check_output(c->model_out, c->overwrite, "--model-out");
    Fit f;
    fit_setup(&f, c, d, c->model_out);
    Model T;
    int rc = run_teacher(&f, &T);
    if (rc == 0) {
        save_model(&f, c->model_out, &T, NULL);
        fit_finish(&f);
    }
    model_free(&T);
    fit_free(&f);
    return rc;
}

int cmd_annotate(const Config *c, const Dist *d) {
    if (!c->query || !*c->query) FATAL("give the cells to annotate with --query FILE.h5ad", "kida annotate needs --query");
    if (!c->out || !*c->out) FATAL("give the output file with --out OUT.h5ad", "kida annotate needs --out");
    fit_check_output(c->out, c->overwrite, "--out");
    fit_check_output(c->model_out, c->overwrite, "--model-out");
    outputs_check(c);
    if (c->teacher && *c->teacher) teacher_in_check_file(c->teacher);
    Fit f;
    fit_setup(&f, c, d, c->out);
    if (c->teacher && *c->teacher) teacher_in_check_spec(c->teacher, &f.spec);
    Dataset q;
    double t0 = wall_time();
    PhaseClock p0 = phase_clock();
    dataset_load_query(&q, &f.spec.prep, c, d);  // checked before any training
    phase_since("query read + preprocess", p0, q.count);
    log_info("query %s: %zu cells (%.1f s)", c->query, q.n_total, wall_time() - t0);
    outputs_check_size(c, q.n_total, f.spec.mc.C);

    Model T, S;
    int have_student = 0, rc = run_teacher(&f, &T);
    Predictions tq = {0}, sq = {0};
    OorModel t_oor = {0}, s_oor = {0};
    float *t_score = NULL, *s_score = NULL;
    if (rc == 0) {
        p0 = phase_clock();
        tq = infer_rows(&T.cfg, &f.map, T.gene_zero, T.params, &q.x, 64, f.gpu);
        phase_since("teacher inference", p0, q.count);
        t_oor = fit_oor(&f, &T);
        t_score = xmalloc((q.count ? q.count : 1) * sizeof(float));
        oor_score(&t_oor, tq.emb, q.count, t_score);
        // with --oor-unknown, the cells of the teacher's novel-type clusters are never anchors (they
        // will be unknown; a type the reference lacks is not taught as its nearest known type). Not
        // by default: it cost the student on DLPFC and on PBMC without monocytes (docs/results.md)
        Novelty tn = {0};
        if (c->oor_unknown && c->novel_cutoff > 0 && !strcmp(c->mode, "kida"))
            tn = novelty_find(tq.emb, tq.conf, t_score, q.count, T.cfg.C, c->novel_resolution,
                              novelty_cutoff(c->novel_cutoff, t_oor.holdout_conf, t_oor.n_holdout, c->novel_holdout_quantile),
                              c->novel_distance ? t_oor.cutoff : NAN,
                              NOVELTY_MAX_CELLS, (uint64_t)c->seed, d);
        int32_t *pred = xmalloc((q.count ? q.count : 1) * sizeof(int32_t));
        for (size_t i = 0; i < q.count; i++) pred[i] = tn.novel && tn.novel[i] ? -1 : tq.pred[i];
        if (tn.n_novel) log_info("anchors: the %zu cells of the teacher's novel-type clusters are not anchors", tn.n_novel);
        novelty_free(&tn);
        size_t n_anchor = 0;
        int64_t *anchors = pick_anchors(c, d, &q, &tq, pred, f.spec.K, &n_anchor);
        free(pred);
        free(f.st.anchors);
        f.st.anchors = anchors;
        f.st.n_anchor = n_anchor;
        log_info("anchors: %zu of %zu query cells (%.0f%% lowest entropy per predicted type%s)", n_anchor, q.n_total,
                 100 * c->anchor_fraction, strcmp(c->anchor_groups, "type-modality") ? "" : " and modality");
        if (n_anchor == 0 && !strcmp(c->mode, "kida"))
            log_warn("no anchors: the student learns nothing and its labels are the teacher's (with --oor-unknown every "
                     "query cluster of the teacher was novel)");
        if (!strcmp(c->mode, "kida")) {
            model_init(&S, &f.spec.mc, &f.map, local_batch(c, d), 1);
            have_student = 1;
            memcpy(S.gene_zero, f.spec.prep.zero, f.spec.mc.G * sizeof(float));
            model_init_weights(&S, (uint64_t)c->seed + 1);
            if (!strcmp(c->student_init, "teacher")) memcpy(S.params, T.params, S.n_params * sizeof(float));
            if (f.resumed && f.st.phase == PHASE_STUDENT) modelfile_read_params(f.ckpt_path, "student", &S, 1);
            if (!(f.resumed && f.st.phase == PHASE_DONE)) {
                TrainData td = {.x = &q.x, .n_total = q.n_total, .ids = anchors, .n_ids = n_anchor, .soft = tq.logits};
                t0 = wall_time();
                p0 = phase_clock();
                size_t epochs = fit_epochs("student", "--student-min-steps", (size_t)c->student_epochs,
                                           (size_t)c->student_min_steps, n_anchor, (size_t)c->batch_size);
                rc = fit_train_phase(&f, &S, &T, PHASE_STUDENT, &td, epochs);
                if (rc == 0) {
                    phase_since("student training", p0, 0);
                    log_info("student trained in %.1f s", wall_time() - t0);
                }
            }
            if (rc == 0) {
                p0 = phase_clock();
                sq = infer_rows(&S.cfg, &f.map, S.gene_zero, S.params, &q.x, 64, f.gpu);
                phase_since("student inference", p0, q.count);
                if (!strcmp(c->final_label, "blend")) predictions_blend(&sq, &tq);
            }
            if (rc == 0) {
                s_oor = fit_oor(&f, &S);
                s_score = xmalloc((q.count ? q.count : 1) * sizeof(float));
                oor_score(&s_oor, sq.emb, q.count, s_score);
            }
        }
    }
    if (rc == 0) {
        int ki = strcmp(c->mode, "kida") != 0;
        Predictions *both[2] = {&tq, &sq};
        size_t smooth = spatial_smooth_query(&q, c, d, both, ki ? 1 : 2);
        OutputSpec o = {.query = &q, .c = c, .out_path = c->out, .overwrite = c->overwrite, .spec = &f.spec,
                        .final = ki ? &tq : &sq, .teacher = &tq, .anchors = f.st.anchors, .n_anchor = f.st.n_anchor,
                        .n_total = q.n_total, .unknown_threshold = c->unknown_threshold, .mode = c->mode,
                        .hist = f.st.hist, .n_hist = f.st.n_hist, .oor_flag = c->oor_unknown,
                        .oor_score = ki ? t_score : s_score, .teacher_oor_score = t_score,
                        .oor_cutoff = ki ? t_oor.cutoff : s_oor.cutoff};
        const OorModel *fo = ki ? &t_oor : &s_oor;
        o.oor_holdout = fo->holdout;
        o.holdout_conf = fo->holdout_conf;
        o.n_oor_holdout = fo->n_holdout;
        o.spatial_smooth = smooth;
        OutputLabels l = outputs_write(c, d, &o);
        save_model(&f, c->model_out, &T, have_student ? &S : NULL);
        fit_finish(&f);
        outputs_summary(c, d, &l, c->label_key, f.metrics_path);
        output_labels_free(&l);
    }
    predictions_free(&tq);
    predictions_free(&sq);
    oor_free(&t_oor);
    oor_free(&s_oor);
    free(t_score);
    free(s_score);
    if (have_student) model_free(&S);
    model_free(&T);
    dataset_free(&q);
    fit_free(&f);
    return rc;
}
