// fit: see fit.h.
#include "train/fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/log.h"
#include "core/runstats.h"
#include "core/rng.h"
#include "core/signals.h"
#include "io/gmt.h"
#include "kernels/gpu.h"
#include "model/matmul.h"
#include "train/ckptdir.h"
#include "train/fingerprint.h"
#include "prep/markers.h"
#include "prep/profiles.h"
#include "train/infer.h"
#include "train/output.h"
#include "train/preflight.h"

void fit_check_output(const char *path, int overwrite, const char *option) {
    if (!path || !*path) return;
    if (path_exists(path) && !overwrite) {
        char hint[512];
        snprintf(hint, sizeof hint, "choose another %s, or add --overwrite to replace it", option);
        FATAL(hint, "%s: output file already exists (%s)", path, option);
    }
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        struct stat sb;
        if (*dir && (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
            FATAL("create the folder first", "%s: folder %s of %s does not exist", path, dir, option);
    }
    free(dir);
    preflight_writable(path, option);
}

// The GMT list: comma-separated; a relative name that is not a file is looked up in kida's data.
static GeneSets read_gene_sets(const Config *c) {
    char *list = xstrdup(c->gmt), *save = NULL;
    char **paths = NULL;
    size_t n = 0;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *p = path_exists(t) ? xstrdup(t) : config_data_path(t);
        if (!p) FATAL("give an existing GMT file with --gmt (or set KIDA_DATADIR to kida's data folder)", "gene set file %s not found", t);
        paths = xrealloc(paths, (n + 1) * sizeof(char *));
        paths[n++] = p;
    }
    if (n == 0) FATAL("give at least one GMT file with --gmt", "no gene set file given");
    GeneSets gs = gmt_read(paths, n);
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
    free(list);
    return gs;
}

static void check_options(const Config *c) {
    if (c->heads == 0 || c->width == 0 || c->width % c->heads)
        FATAL("choose --heads that divides --width (e.g. width 128, heads 8)", "--width %ld is not a multiple of --heads %ld", c->width,
              c->heads);
    if (c->layers == 0) FATAL("use at least one layer", "--layers must be >= 1");
    if (c->batch_size == 0) FATAL("use a batch of at least 1 cell", "--batch-size must be >= 1");
    if (c->dropout < 0 || c->dropout >= 1) FATAL("use a value in [0, 1)", "--dropout %g out of range", c->dropout);
    if (c->holdout < 0 || c->holdout >= 1) FATAL("use a value in [0, 1)", "--holdout %g out of range", c->holdout);
    if (c->anchor_fraction <= 0 || c->anchor_fraction > 1)
        FATAL("use a value in (0, 1]", "--anchor-fraction %g out of range", c->anchor_fraction);
    if (c->unknown_threshold < 0 || c->unknown_threshold > 1)
        FATAL("use a value in [0, 1]", "--unknown-threshold %g out of range", c->unknown_threshold);
    if (c->n_pathways == 0) FATAL("use at least one pathway", "--n-pathways must be >= 1");
    if (c->epochs == 0 && c->cmd == CMD_ANNOTATE)
        FATAL("give --epochs 1 or more: an untrained teacher labels every cell `unknown`", "--epochs 0 trains no teacher");
    if (c->epochs == 0)
        log_warn("--epochs 0: the model saved is untrained (its predictions are noise); use it only to time the setup");
    if (c->cmd == CMD_ANNOTATE && !strcmp(c->mode, "kida") && c->alpha == 0 && c->beta == 0)
        FATAL("give --alpha or --beta above 0, or use --mode ki for the teacher alone",
              "--alpha 0 and --beta 0: the student would learn nothing");
}

// Stratified hold-out: in each class, the round(f * n) cells with the smallest seeded hash.
typedef struct {
    int32_t cls;
    uint64_t key;
    size_t i;
} SplitKey;

static int split_cmp(const void *a, const void *b) {
    const SplitKey *x = a, *y = b;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static void split_holdout(Fit *f) {
    size_t n = f->ref.n_total, m = 0;
    f->holdout = xcalloc_for(n, 1, "hold-out split of %zu reference cells", n);
    SplitKey *k = xcalloc_for(n, sizeof(SplitKey), "hold-out split of %zu reference cells", n);
    for (size_t i = 0; i < n; i++)
        if (f->lab.y[i] >= 0) k[m++] = (SplitKey){f->lab.y[i], rng_u64((uint64_t)f->c->seed, RNG_STREAM_SPLIT, i, 0), i};
    qsort(k, m, sizeof(SplitKey), split_cmp);
    for (size_t a = 0; a < m;) {
        size_t b = a;
        while (b < m && k[b].cls == k[a].cls) b++;
        size_t nk = b - a, take = nk < 3 ? 0 : (size_t)llround(f->c->holdout * (double)nk);
        for (size_t t = 0; t < take; t++) f->holdout[k[a + t].i] = 1;
        a = b;
    }
    f->train_ids = xcalloc_for(n, sizeof(int64_t), "hold-out split of %zu reference cells", n);
    for (size_t i = 0; i < n; i++)
        if (f->lab.y[i] >= 0 && !f->holdout[i]) f->train_ids[f->n_train++] = (int64_t)i;
    free(k);
}

// The outputs and the network checked before any work: room on disk and in memory.
static void preflight_before_training(const Fit *f, const Config *c, const Dist *d) {
    int annotate = c->cmd == CMD_ANNOTATE, models = annotate && !strcmp(c->mode, "kida") ? 2 : 1;
    preflight_network(&f->spec.mc, ((size_t)c->batch_size + (size_t)d->size - 1) / (size_t)d->size, models, d);
    double query = 0;   // the annotated output is a copy of the query files plus the results
    char *list = annotate ? xstrdup(c->query) : xstrdup(""), *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        struct stat st;
        if (stat(t, &st) == 0) query += (double)st.st_size;
    }
    free(list);
    if (annotate) output_check_query(c->query);
    PlannedOutput o[3] = {{c->out, "--out", query},
                          {c->model_out, "--model-out", preflight_model_bytes(&f->spec.mc, models, 0)},
                          {f->ckpt_path, "the checkpoint", preflight_model_bytes(&f->spec.mc, models, 1)}};
    if (!annotate) o[0].path = NULL;
    preflight_space(o, 3);
}

static char *default_ckpt_dir(const Config *c, const char *main_out) {
    if (c->checkpoint_dir && *c->checkpoint_dir) return xstrdup(c->checkpoint_dir);
    size_t n = strlen(main_out) + 8;
    char *p = xmalloc(n);
    snprintf(p, n, "%s.ckpt", main_out);
    return p;
}

void fit_setup(Fit *f, const Config *c, const Dist *d, const char *main_out) {
    memset(f, 0, sizeof *f);
    f->c = c;
    f->d = d;
    signals_install();  // a stop asked for while loading takes effect at the first step
    check_options(c);
    f->gpu = gpu_choose_device(c->device, c->precision, d);  // collective; a bad --device fails before any work
    if (f->gpu == GPU_NONE) mm_choose_precision(c->precision, d);  // collective too
    if (!c->reference || !*c->reference) FATAL("give the labelled reference with --reference FILE.h5ad", "no reference given");
    char *dir = default_ckpt_dir(c, main_out);
    if (d->rank == 0) ckptdir_open(dir, c->checkpoint_dir && *c->checkpoint_dir ? "--checkpoint-dir" : "<out>.ckpt");
    dist_barrier(d);
    size_t n = strlen(dir) + 32;
    f->ckpt_path = xmalloc(n);
    snprintf(f->ckpt_path, n, "%s/checkpoint.h5", dir);
    f->metrics_path = xmalloc(n);
    snprintf(f->metrics_path, n, "%s/metrics.jsonl", dir);
    free(dir);
    if (!c->resume && path_exists(f->ckpt_path))
        log_warn("%s exists from an earlier run; it will be replaced (add --resume to continue from it)", f->ckpt_path);
    if (c->resume && !path_exists(f->ckpt_path))
        log_warn("--resume: no checkpoint at %s; starting from the beginning", f->ckpt_path);

    double t0 = wall_time();
    PhaseClock p0 = phase_clock();
    dataset_load_reference(&f->ref, &f->lab, &f->spec.prep, c, d);
    phase_since("reference read + preprocess", p0, f->ref.count);
    log_info("reference %s: %zu cells, %zu labelled in %zu classes; %zu model genes (%.1f s)", c->reference, f->ref.n_total,
             f->lab.n_labelled, f->lab.K, f->spec.prep.G, wall_time() - t0);
    split_holdout(f);  // before the pathways: the markers see the training cells only
    // every labelled cell's type profile (the novel-type rule compares query clusters with them)
    f->spec.profile = profiles_means(&f->ref.x, f->lab.y + f->ref.x.row_start, f->lab.K, &f->spec.prep, NULL, d);
    GeneSets gs = read_gene_sets(c);
    PathwayOptions po = pathway_options_default();
    po.n_pathways = (size_t)c->n_pathways;
    po.min_size = (size_t)c->min_set_size;
    po.max_size = (size_t)c->max_set_size;
    po.unannotated = c->unannotated;
    Markers mk = {0};
    if (!strcmp(c->pathway_choice, "markers")) {
        int32_t *y = xcalloc_for(f->ref.n_total ? f->ref.n_total : 1, sizeof(int32_t), "marker genes: labels of %zu cells",
                                 f->ref.n_total);
        for (size_t i = 0; i < f->ref.n_total; i++) y[i] = f->holdout[i] ? -1 : f->lab.y[i];
        mk = markers_find(&f->ref.x, y, f->lab.K, (size_t)c->n_markers, d);
        free(y);
        po.markers = &mk;
    }
    f->spec.pw = pathways_select(&gs, f->spec.prep.gene_names, f->spec.prep.G, &po);
    markers_free(&mk);
    gmt_free(&gs);
    size_t P = f->spec.pw.P, M = f->spec.pw.path_ptr[P];
    f->spec.mc = (ModelConfig){.G = f->spec.prep.G, .P = P, .T = P + 1, .M = M, .C = (size_t)c->width,
                               .NH = (size_t)c->heads, .L = (size_t)c->layers, .F = 4 * (size_t)c->width,
                               .K = f->lab.K, .dropout = (float)c->dropout};
    f->spec.K = f->lab.K;
    f->spec.classes = xcalloc_for(f->lab.K, sizeof(char *), "%zu classes", f->lab.K);
    for (size_t k = 0; k < f->lab.K; k++) f->spec.classes[k] = xstrdup(f->lab.classes[k]);
    f->spec.config_text = config_to_text(c);
    f->spec.fingerprint = fingerprint_make(c);
    preflight_before_training(f, c, d);
    f->map = pathmap_build(P, f->spec.prep.G, f->spec.pw.path_ptr, f->spec.pw.member_gene);
    log_info("network: %zu pathway tokens + cls, %zu memberships, width %zu, %zu layers x %zu heads, %zu classes; "
             "training on %zu cells, %zu held out",
             P, M, f->spec.mc.C, f->spec.mc.L, f->spec.mc.NH, f->spec.mc.K, f->n_train,
             f->lab.n_labelled - f->n_train);

    if (c->resume && path_exists(f->ckpt_path)) {
        ModelSpec old;
        modelfile_read_spec(f->ckpt_path, &old);
        char why[512];
        const char *diff = modelspec_diff(&old, &f->spec, why, sizeof why);
        fingerprint_check(f->ckpt_path, old.fingerprint, f->spec.fingerprint);
        modelspec_free(&old);
        if (diff)
            FATAL("resume with the same data and model options, or start afresh without --resume",
                  "%s: checkpoint was written for other data or model options (%s)", f->ckpt_path, diff);
        if (!modelfile_read_state(f->ckpt_path, &f->st))
            FATAL("start afresh without --resume", "%s: file holds a model but no training state", f->ckpt_path);
        f->resumed = 1;
        log_info("resuming from %s: %s phase, epoch %zu, batch %zu, step %llu", f->ckpt_path,
                 f->st.phase == PHASE_TEACHER ? "teacher" : f->st.phase == PHASE_STUDENT ? "student" : "finished",
                 f->st.epoch + 1, f->st.batch, (unsigned long long)f->st.step);
    }
}

size_t fit_epochs(const char *phase, const char *option, size_t epochs, size_t min_steps, size_t n_ids, size_t batch) {
    size_t nb = train_n_batches(n_ids, batch);
    size_t need = nb ? (min_steps + nb - 1) / nb : epochs;
    if (need > epochs) {
        log_info("%s: %zu cells make %zu steps an epoch; training %zu epochs to reach %s %zu", phase, n_ids, nb, need, option,
                 min_steps);
        epochs = need;
    }
    return epochs;
}

float *fit_class_weights(const Fit *f) {
    const char *mode = f->c->class_weights;
    if (!strcmp(mode, "none")) return NULL;
    size_t K = f->lab.K;
    double *n = xcalloc_for(K, sizeof(double), "class weights of %zu classes", K), tot = 0, norm = 0;
    for (size_t i = 0; i < f->n_train; i++) n[f->lab.y[f->train_ids[i]]] += 1;
    float *w = xcalloc_for(K, sizeof(float), "class weights of %zu classes", K);
    double p = !strcmp(mode, "sqrt") ? 0.5 : 1.0;
    for (size_t k = 0; k < K; k++) {
        double wk = n[k] > 0 ? pow(n[k], -p) : 0;
        tot += n[k];
        norm += n[k] * wk;
        w[k] = (float)wk;
    }
    for (size_t k = 0; k < K; k++) w[k] = (float)((double)w[k] * tot / norm);
    free(n);
    return w;
}

TrainOptions fit_train_options(const Fit *f, Phase phase, size_t epochs, const Model *m) {
    const Config *c = f->c;
    TrainOptions o = {0};
    o.loss = phase == PHASE_TEACHER ? LOSS_CE : LOSS_STUDENT;
    o.name = phase == PHASE_TEACHER ? "teacher" : "student";
    o.phase_id = (uint64_t)phase;
    o.epochs = epochs;
    o.batch = (size_t)c->batch_size;
    o.adam = adam_defaults();
    o.adam.lr = (float)(phase == PHASE_STUDENT && c->student_lr > 0 ? c->student_lr : c->lr);
    o.adam.adamw = !strcmp(c->optimizer, "adamw");
    o.adam.weight_decay = (float)c->weight_decay;
    o.adam.clip_norm = (float)c->clip_grad;
    o.schedule = !strcmp(c->lr_schedule, "cosine") ? LR_COSINE : LR_CONSTANT;
    o.warmup = (size_t)c->warmup_steps;
    o.alpha = (float)c->alpha;
    o.beta = (float)c->beta;
    o.tau = (float)c->kd_temperature;
    o.gene_dropout = (float)c->gene_dropout;
    o.seed = (uint64_t)c->seed;
    o.log_every = (size_t)c->log_every;
    o.debug_sync = c->debug_sync;
    o.metrics_path = f->metrics_path;
    (void)m;
    return o;
}

typedef struct {
    Fit *f;
    Model *m;                // the model being trained
    struct ModelCuda *gpu;   // its device twin, or NULL
    const Model *teacher, *student;
    EpochStats *es;
    uint64_t *step;
    uint64_t avg_after;      // steps after this one are summed into the weight average (UINT64_MAX: off)
    int stopped;
} HookCtx;

static void record_partial(Fit *f, const EpochStats *es) {
    f->st.partial[0] = es->loss;
    f->st.partial[1] = es->kd;
    f->st.partial[2] = es->ada;
    f->st.partial[3] = (double)es->steps;
    f->st.partial[4] = (double)es->cells;
}

// Adds the weights after this step to the phase's average (every rank holds the same weights and
// sums them in the same order, so the average is the same bits on any rank count).
static void average_add(Fit *f, HookCtx *h) {
    Model *m = h->m;
    if (!f->st.avg_sum) {
        f->st.n_params = m->n_params;
        f->st.avg_sum = xcalloc_for(m->n_params, sizeof(double), "weight average: %zu parameters", m->n_params);
    }
    if (h->gpu) model_cuda_download_params(h->gpu, m);
    for (size_t i = 0; i < m->n_params; i++) f->st.avg_sum[i] += m->params[i];
    f->st.avg_n++;
}

static int on_step(void *ctx, size_t epoch, size_t next_batch, int stop) {
    HookCtx *h = ctx;
    Fit *f = h->f;
    if (*h->step > h->avg_after) average_add(f, h);
    int due = f->c->checkpoint_every > 0 && *h->step % (uint64_t)f->c->checkpoint_every == 0;
    if (!due && !stop) return 0;
    f->st.epoch = epoch;
    f->st.batch = next_batch;
    f->st.step = *h->step;
    record_partial(f, h->es);
    if (h->gpu) model_cuda_download_params(h->gpu, h->m);  // the checkpoint is written from the host model
    fit_checkpoint(f, h->teacher, h->student);
    if (stop) h->stopped = 1;
    return stop;
}

void fit_checkpoint(Fit *f, const Model *teacher, const Model *student) {
    if (f->d->rank == 0) modelfile_write(f->ckpt_path, &f->spec, teacher, student, &f->st);
    f->n_ckpt++;
    dist_barrier(f->d);
}

static int params_finite(const Model *m) {
    for (size_t i = 0; m && i < m->n_params; i++)
        if (!isfinite(m->params[i])) return 0;
    return 1;
}

// The epoch stopped at a batch whose loss or gradient norm was not finite (not applied). Leaves a
// checkpoint from before it (the last one written, or one of the current, finite state) and stops.
static _Noreturn void stop_nonfinite(Fit *f, const TrainOptions *o, const EpochStats *es, size_t epoch, size_t batch,
                                     uint64_t step, const Model *m, const Model *teacher, const Model *student) {
    int saved = f->n_ckpt > 0 || f->resumed;
    if (!saved && params_finite(m) && params_finite(m == teacher ? student : teacher)) {
        f->st.epoch = epoch;
        f->st.batch = batch;
        f->st.step = step;
        record_partial(f, es);
        fit_checkpoint(f, teacher, student);
        saved = 1;
    }
    char hint[512];
    snprintf(hint, sizeof hint,
             "lower --lr (now %g), or set --clip-grad (e.g. 1), then %s; check the inputs for extreme values", f->c->lr,
             saved ? "continue with --resume (lr and clip-grad may change on resume)" : "start afresh");
    FATAL(hint, "%s: the %s became %g at epoch %zu, batch %zu (after %llu steps); no update was made with it. %s%s",
          o->name, es->nonfinite == 1 ? "loss" : "gradient norm", es->bad, epoch + 1, batch + 1, (unsigned long long)step,
          saved ? "The state from before it is in " : "No checkpoint could be written (the parameters are not finite)",
          saved ? f->ckpt_path : "");
}

// Hold-out accuracy of the model (teacher) over the held-out cells of all ranks.
static double holdout_accuracy(Fit *f, const Model *m) {
    size_t n = 0, idx = 0;
    for (size_t i = 0; i < f->ref.count; i++) n += f->holdout[f->ref.start + i];
    int64_t cnt[2] = {0, 0};
    if (n) {
        Csr sub = csr_alloc(n, f->ref.x.n_cols, csr_nnz(&f->ref.x));
        int32_t *truth = xcalloc_for(n, sizeof(int32_t), "hold-out accuracy of %zu cells", n);
        for (size_t i = 0; i < f->ref.count; i++) {
            if (!f->holdout[f->ref.start + i]) continue;
            int64_t lo = f->ref.x.indptr[i], hi = f->ref.x.indptr[i + 1], at = sub.indptr[idx];
            memcpy(sub.indices + at, f->ref.x.indices + lo, (size_t)(hi - lo) * sizeof(int32_t));
            memcpy(sub.data + at, f->ref.x.data + lo, (size_t)(hi - lo) * sizeof(float));
            sub.indptr[idx + 1] = at + (hi - lo);
            truth[idx++] = f->lab.y[f->ref.start + i];
        }
        Predictions p = infer_rows(&m->cfg, &f->map, m->gene_zero, m->params, &sub, 64, f->gpu);
        for (size_t i = 0; i < n; i++) cnt[0] += p.pred[i] == truth[i];
        cnt[1] = (int64_t)n;
        predictions_free(&p);
        free(truth);
        csr_free(&sub);
    }
    dist_allreduce_sum_i64(f->d, cnt, 2);
    return cnt[1] ? (double)cnt[0] / (double)cnt[1] : NAN;
}

static void push_hist(Fit *f, Phase phase, const EpochStats *es, double acc) {
    f->st.hist = xrealloc_for(f->st.hist, szmul(szmul(f->st.n_hist + 1, 5), sizeof(double)), "training history of %zu epochs",
                              f->st.n_hist + 1);
    double *h = f->st.hist + f->st.n_hist * 5;
    double s = es->steps ? (double)es->steps : 1.0;
    h[0] = phase;
    h[1] = es->loss / s;
    h[2] = es->kd / s;
    h[3] = es->ada / s;
    h[4] = acc;
    f->st.n_hist++;
}

// The fraction of a phase's last steps whose weights are averaged (0: none).
static double average_fraction(const Config *c, Phase phase) {
    return phase == PHASE_TEACHER ? c->teacher_average : c->student_average;
}

// Replaces the weights by the phase's average; the teacher's hold-out accuracy before and after
// is logged.
static void average_apply(Fit *f, Model *m, Phase phase, const char *name, double last_acc) {
    for (size_t i = 0; i < m->n_params; i++) m->params[i] = (float)(f->st.avg_sum[i] / (double)f->st.avg_n);
    if (phase == PHASE_TEACHER) {
        double acc = holdout_accuracy(f, m);
        log_info("%s: keeping the mean weights of its last %llu steps (hold-out accuracy %.4f; last step %.4f)", name,
                 (unsigned long long)f->st.avg_n, acc, last_acc);
    } else {
        log_info("%s: keeping the mean weights of its last %llu steps", name, (unsigned long long)f->st.avg_n);
    }
}

static void clear_phase_state(TrainState *st) {
    free(st->avg_sum);
    free(st->best);
    st->avg_sum = NULL;
    st->best = NULL;
    st->avg_n = 0;
    st->n_params = 0;
    st->best_acc = -1;
    st->since_best = 0;
}

int fit_train_phase(Fit *f, Model *m, const Model *other, Phase phase, const TrainData *td, size_t epochs) {
    TrainOptions o = fit_train_options(f, phase, epochs, m);
    uint8_t *mask = train_decay_mask(m);
    o.decay_mask = mask;
    // the device twin starts from the host model (fresh or resumed: params, Adam m and v)
    o.gpu = f->gpu ? model_cuda_new(m, f->gpu == GPU_TF32, mask, f->d) : NULL;
    size_t nb = train_n_batches(td->n_ids, o.batch);
    int resuming = f->resumed && f->st.phase == phase;
    size_t epoch = resuming ? f->st.epoch : 0, batch = resuming ? f->st.batch : 0;
    uint64_t step = resuming ? f->st.step : 0;
    if (!resuming) {
        f->st.phase = phase;
        f->st.epoch = f->st.batch = 0;
        f->st.step = 0;
        clear_phase_state(&f->st);
    } else if ((f->st.avg_sum || f->st.best) && f->st.n_params != m->n_params) {
        FATAL("the checkpoint is damaged; start afresh without --resume",
              "%s: its weight average or best epoch holds %zu parameters, the model %zu", f->ckpt_path, f->st.n_params,
              m->n_params);
    }
    // weight averaging: the last ceil(fraction * steps) optimiser steps of the phase
    double frac = average_fraction(f->c, phase);
    uint64_t total = (uint64_t)epochs * nb, n_avg = (uint64_t)ceil(frac * (double)total);
    uint64_t avg_after = frac > 0 && n_avg > 0 ? total - (n_avg < total ? n_avg : total) : UINT64_MAX;
    int use_best = phase == PHASE_TEACHER && f->c->best_checkpoint && avg_after == UINT64_MAX;
    const Model *teacher = phase == PHASE_TEACHER ? m : other, *student = phase == PHASE_TEACHER ? NULL : m;
    double acc = NAN;
    int rc = 0;
    for (; epoch < epochs; epoch++, batch = 0) {
        EpochStats es = {0};
        if (resuming && batch > 0) {  // the epoch in progress when the checkpoint was written
            es.loss = f->st.partial[0];
            es.kd = f->st.partial[1];
            es.ada = f->st.partial[2];
            es.steps = (size_t)f->st.partial[3];
            es.cells = (size_t)f->st.partial[4];
        }
        HookCtx h = {f, m, o.gpu, teacher, student, &es, &step, avg_after, 0};
        size_t next = train_epoch(m, f->d, td, &o, epoch, batch, &step, &es, on_step, &h);
        if (es.nonfinite) stop_nonfinite(f, &o, &es, epoch, next, step, m, teacher, student);
        if (h.stopped || next < nb) {
            log_info("%s: stopped by signal at epoch %zu, batch %zu; checkpoint %s written. Continue with --resume.", o.name,
                     epoch + 1, next, f->ckpt_path);
            rc = KIDA_EXIT_RESUMABLE;
            break;
        }
        acc = phase == PHASE_TEACHER ? holdout_accuracy(f, m) : NAN;
        push_hist(f, phase, &es, acc);
        char js[256], accs[32] = "null";
        double ns = es.steps ? (double)es.steps : 1.0;
        if (!isnan(acc)) snprintf(accs, sizeof accs, "%.6g", acc);
        snprintf(js, sizeof js, "\"phase\": \"%s\", \"epoch_done\": %zu, \"mean_loss\": %.6g, \"kd\": %.6g, \"ada\": %.6g, \"holdout_accuracy\": %s",
                 o.name, epoch + 1, es.loss / ns, es.kd / ns, es.ada / ns, accs);
        train_log_json(f->metrics_path, f->d, js);
        if (phase == PHASE_TEACHER)
            log_info("teacher epoch %zu/%zu done | mean loss %.4f | hold-out accuracy %.4f", epoch + 1, epochs,
                     es.loss / (es.steps ? es.steps : 1), acc);
        else
            log_info("student epoch %zu/%zu done | mean loss %.4f (kd %.4f, ada %.4f)", epoch + 1, epochs,
                     es.loss / (es.steps ? es.steps : 1), es.kd / (es.steps ? es.steps : 1), es.ada / (es.steps ? es.steps : 1));
        f->st.epoch = epoch + 1;
        f->st.batch = 0;
        f->st.step = step;
        memset(f->st.partial, 0, sizeof f->st.partial);
        train_check_sync(m, f->d, o.name);
        if (phase == PHASE_TEACHER && (use_best || f->c->early_stop) && !isnan(acc)) {
            if (acc > f->st.best_acc) {
                f->st.best_acc = acc;
                f->st.since_best = 0;
                if (use_best) {
                    if (!f->st.best) {
                        f->st.n_params = m->n_params;
                        f->st.best = xcalloc_for(m->n_params, sizeof(float), "best checkpoint: %zu parameters", m->n_params);
                    }
                    memcpy(f->st.best, m->params, m->n_params * sizeof(float));
                }
            } else if (f->c->early_stop && ++f->st.since_best >= (uint64_t)f->c->early_stop) {
                log_info("teacher: no hold-out improvement for %llu epochs; stopping early",
                         (unsigned long long)f->st.since_best);
                epoch++;
                break;
            }
        }
        if (epoch + 1 < epochs) fit_checkpoint(f, teacher, student);
    }
    if (rc == 0 && f->st.avg_n > 0) {
        average_apply(f, m, phase, o.name, acc);
    } else if (rc == 0 && use_best && f->st.best) {   // (--best-checkpoint may be switched off on resume)
        log_info("teacher: keeping the best hold-out epoch (accuracy %.4f)", f->st.best_acc);
        memcpy(m->params, f->st.best, m->n_params * sizeof(float));
    }
    if (rc == 0) clear_phase_state(&f->st);
    free(mask);
    model_cuda_delete(o.gpu);
    f->resumed = f->resumed && f->st.phase != phase;  // later phases start fresh
    return rc;
}

void fit_finish(Fit *f) {
    if (f->d->rank == 0) ckptdir_finish(f->ckpt_path);
    dist_barrier(f->d);
}

void fit_free(Fit *f) {
    dataset_free(&f->ref);
    labels_free(&f->lab);
    modelspec_free(&f->spec);
    pathmap_free(&f->map);
    free(f->holdout);
    free(f->train_ids);
    free(f->ckpt_path);
    free(f->metrics_path);
    trainstate_free(&f->st);
    memset(f, 0, sizeof *f);
}
