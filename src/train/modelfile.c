// modelfile: see modelfile.h. Layout:
//   /            attrs format = "kida-model", format_version, kida_version
//   /config      resolved options (string)
//   /dims        attrs G P T M C NH L F K, dropout
//   /prep        genes (strings), mean, std, zero (G); target_sum_clip (2); type_profile (K,G)
//   /pathways    names, path_ptr, member_gene, pvalue, set_size
//   /classes     (K strings)
//   /teacher/<param name>, /student/<param name>   weights, shapes as docs/model.md
//   /state       attrs phase epoch batch step; adam_m, adam_v (of the model in training),
//                hist (n,5), anchors
#include "train/modelfile.h"

#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "core/atomic.h"
#include "core/log.h"
#include "core/options.h"
#include "io/h5ad.h"
#include "io/h5util.h"

static const char *DIM_NAMES[] = {"G", "P", "T", "M", "C", "NH", "L", "F", "K"};

static void dims_to_array(const ModelConfig *c, int64_t v[9]) {
    size_t a[9] = {c->G, c->P, c->T, c->M, c->C, c->NH, c->L, c->F, c->K};
    for (int i = 0; i < 9; i++) v[i] = (int64_t)a[i];
}

static void write_1d(hid_t loc, const char *name, hid_t ft, hid_t mt, const void *buf, size_t n, const char *path) {
    hsize_t dims[1] = {n};
    h5u_close(h5u_write_dset(loc, name, ft, mt, 1, dims, buf, path), path);
}

static void write_model(hid_t file, const char *group, const Model *m, const char *path) {
    hid_t g = H5Gcreate2(file, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) FATAL("check disk space and permissions", "%s: cannot create group /%s", path, group);
    size_t sizes[N_PARAM_TENSORS], at = 0;
    model_param_shapes(&m->cfg, sizes);
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) {
        size_t d3[3];
        size_t rank = model_param_dims(&m->cfg, i, d3);
        hsize_t dims[3] = {d3[0], d3[1], d3[2]};
        h5u_close(h5u_write_dset(g, MODEL_PARAM_NAMES[i], H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, (int)rank, dims,
                                 m->params + at, path), path);
        at += sizes[i];
    }
    h5u_close(g, path);
}

void modelfile_write(const char *path, const ModelSpec *s, const Model *teacher, const Model *student,
                     const TrainState *st) {
    h5u_init();
    char *tmp = atomic_tmp_path(path);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) FATAL("check that the folder exists and is writable", "cannot create model file %s", tmp);
    h5u_set_attr_string(f, "format", KIDA_MODEL_FORMAT, path);
    int64_t ver = KIDA_MODEL_FORMAT_VERSION;
    h5u_set_attr_i64s(f, "format_version", &ver, 1, path);
    h5u_set_attr_string(f, "kida_version", PACKAGE_VERSION, path);
    char *cfg[1] = {s->config_text ? s->config_text : ""};
    h5u_close(h5u_write_strings(f, "config", cfg, 1, path), path);
    if (s->fingerprint) h5u_close(h5u_write_strings(f, "fingerprint", &s->fingerprint, 1, path), path);

    hid_t g = H5Gcreate2(f, "dims", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int64_t dv[9];
    dims_to_array(&s->mc, dv);
    for (int i = 0; i < 9; i++) h5u_set_attr_i64s(g, DIM_NAMES[i], &dv[i], 1, path);
    int64_t drop = (int64_t)llround((double)s->mc.dropout * 1e6);
    h5u_set_attr_i64s(g, "dropout_ppm", &drop, 1, path);
    h5u_close(g, path);

    size_t G = s->prep.G, P = s->pw.P, M = s->pw.path_ptr[P];
    g = H5Gcreate2(f, "prep", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    h5u_close(h5u_write_strings(g, "genes", s->prep.gene_names, G, path), path);
    write_1d(g, "mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, s->prep.mean, G, path);
    write_1d(g, "std", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, s->prep.std, G, path);
    write_1d(g, "zero", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, s->prep.zero, G, path);
    double sc[2] = {s->prep.target_sum, s->prep.clip};
    write_1d(g, "target_sum_clip", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sc, 2, path);
    if (s->profile) {
        hsize_t pd[2] = {s->K, G};
        h5u_close(h5u_write_dset(g, "type_profile", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, pd, s->profile, path), path);
    }
    h5u_close(g, path);

    g = H5Gcreate2(f, "pathways", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    h5u_close(h5u_write_strings(g, "names", s->pw.names, P, path), path);
    int64_t *pp = xmalloc((P + 1) * sizeof(int64_t)), *ss = xmalloc(P * sizeof(int64_t));
    for (size_t j = 0; j <= P; j++) pp[j] = (int64_t)s->pw.path_ptr[j];
    for (size_t j = 0; j < P; j++) ss[j] = (int64_t)s->pw.set_size[j];
    write_1d(g, "path_ptr", H5T_STD_I64LE, H5T_NATIVE_INT64, pp, P + 1, path);
    write_1d(g, "member_gene", H5T_STD_I32LE, H5T_NATIVE_INT32, s->pw.member_gene, M, path);
    write_1d(g, "pvalue", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->pw.pvalue, P, path);
    write_1d(g, "set_size", H5T_STD_I64LE, H5T_NATIVE_INT64, ss, P, path);
    free(pp); free(ss);
    h5u_close(g, path);
    h5u_close(h5u_write_strings(f, "classes", s->classes, s->K, path), path);

    if (teacher) write_model(f, "teacher", teacher, path);
    if (student) write_model(f, "student", student, path);
    if (st) {
        g = H5Gcreate2(f, "state", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int64_t v[4] = {st->phase, (int64_t)st->epoch, (int64_t)st->batch, (int64_t)st->step};
        h5u_set_attr_i64s(g, "phase_epoch_batch_step", v, 4, path);
        const Model *m = st->phase == PHASE_TEACHER ? teacher : student;
        if (m && m->adam_m) {
            write_1d(g, "adam_m", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m->adam_m, m->n_params, path);
            write_1d(g, "adam_v", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m->adam_v, m->n_params, path);
        }
        hsize_t hd[2] = {st->n_hist, 5};
        h5u_close(h5u_write_dset(g, "hist", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, hd, st->hist ? st->hist : (double[5]){0}, path), path);
        write_1d(g, "partial", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, st->partial, 5, path);
        write_1d(g, "anchors", H5T_STD_I64LE, H5T_NATIVE_INT64, st->anchors ? st->anchors : (int64_t[1]){0}, st->n_anchor, path);
        if (st->avg_sum) {
            write_1d(g, "avg_sum", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, st->avg_sum, st->n_params, path);
            int64_t an = (int64_t)st->avg_n;
            h5u_set_attr_i64s(g, "avg_n", &an, 1, path);
        }
        if (st->best) {
            write_1d(g, "best_params", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, st->best, st->n_params, path);
            write_1d(g, "best_acc", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &st->best_acc, 1, path);
        }
        int64_t sb = (int64_t)st->since_best;
        h5u_set_attr_i64s(g, "since_best", &sb, 1, path);
        h5u_close(g, path);
    }
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0 || H5Fclose(f) < 0)
        FATAL("check disk space", "cannot finish writing model file %s", tmp);
    atomic_commit(tmp, path);
    free(tmp);
}

static hid_t open_model(const char *path) {
    h5u_init();
    hid_t f = h5u_open_read(path, NULL);
    char *fmt = h5u_attr_string(f, "format");
    if (!fmt || strcmp(fmt, KIDA_MODEL_FORMAT) != 0)
        FATAL("give a model written by `kida train` or `kida annotate --model-out`", "%s: not a kida model file (attribute format = %s, want %s)",
              path, fmt ? fmt : "(missing)", KIDA_MODEL_FORMAT);
    free(fmt);
    int64_t ver = -1;
    h5u_attr_i64(f, "format_version", &ver, 1);
    if (ver != KIDA_MODEL_FORMAT_VERSION)
        FATAL("retrain the model with this kida version", "%s: model format version %lld, this kida reads version %d", path,
              (long long)ver, KIDA_MODEL_FORMAT_VERSION);
    return f;
}

static void *read_all(hid_t loc, const char *name, hid_t mt, size_t elem, size_t want, const char *path) {
    hid_t ds = h5u_open_dset(loc, name, path, "the model file is damaged; use another copy or retrain");
    size_t n = h5u_dset_len(ds, path, name);
    if (want != (size_t)-1 && n != want)
        FATAL("the model file is damaged; use another copy or retrain", "%s: dataset %s has %zu values, want %zu", path, name, n, want);
    void *buf = xmalloc_for(szmul(n ? n : 1, elem), "%s: dataset %s of %zu values", path, name, n);
    h5u_read_1d(ds, mt, 0, n, buf, path, name);
    h5u_close(ds, path);
    return buf;
}

// prep/type_profile, (K,G) float32.
static float *read_profile(hid_t g, size_t K, size_t G, const char *path) {
    hid_t ds = h5u_open_dset(g, "type_profile", path, "the model file is damaged; use another copy or retrain");
    hsize_t dims[8];
    int rank = h5u_dset_dims(ds, dims, path, "prep/type_profile");
    if (rank != 2 || dims[0] != K || dims[1] != G)
        FATAL("the model file is damaged; use another copy or retrain", "%s: prep/type_profile is not %zu x %zu", path, K, G);
    float *p = xmalloc_for(szmul(K ? K : 1, G ? G : 1) * sizeof(float), "%s: prep/type_profile %zu x %zu", path, K, G);
    if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) < 0)
        FATAL("the model file is damaged", "%s: cannot read prep/type_profile", path);
    h5u_close(ds, path);
    return p;
}

// FATAL unless the network in /dims is one the options can ask for: width, heads and layers in
// the ranges of --width, --heads, --layers, the MLP 4 x width, T = P + 1, and counts that fit
// the int32 indices (a damaged file once gave sizes whose products wrapped around).
static void check_dims(const char *path, const int64_t v[9]) {
    static const struct { int dim; const char *option; } ranged[] = {{4, "width"}, {5, "heads"}, {6, "layers"}};
    const char *hint = "the model file is damaged or not one kida wrote: use another copy or retrain";
    for (int i = 0; i < 9; i++)
        if (v[i] < 1 || v[i] > INT32_MAX)
            FATAL(hint, "%s: /dims attribute %s = %lld is outside [1, %d]", path, DIM_NAMES[i], (long long)v[i], INT32_MAX);
    for (size_t k = 0; k < sizeof ranged / sizeof *ranged; k++) {
        double lo = 0, hi = 0;
        int64_t x = v[ranged[k].dim];
        if (config_range(ranged[k].option, &lo, &hi) && ((double)x < lo || (double)x > hi))
            FATAL(hint, "%s: /dims attribute %s = %lld is outside the range of --%s [%.0f, %.0f]", path,
                  DIM_NAMES[ranged[k].dim], (long long)x, ranged[k].option, lo, hi);
    }
    if (v[4] % v[5] != 0 || v[7] != 4 * v[4] || v[2] != v[1] + 1)
        FATAL(hint, "%s: /dims do not describe a kida network (C = %lld, NH = %lld, F = %lld, P = %lld, T = %lld; want C "
              "divisible by NH, F = 4 C, T = P + 1)", path, (long long)v[4], (long long)v[5], (long long)v[7],
              (long long)v[1], (long long)v[2]);
}

void modelfile_read_spec(const char *path, ModelSpec *s) {
    memset(s, 0, sizeof *s);
    hid_t f = open_model(path);
    hid_t ds = h5u_open_dset(f, "config", path, "the model file is damaged");
    char **cfg = h5u_read_strings(ds, 0, 1, path, "config");
    s->config_text = cfg[0];
    free(cfg);
    h5u_close(ds, path);
    if (h5u_exists(f, "fingerprint")) {
        ds = h5u_open_dset(f, "fingerprint", path, "the model file is damaged");
        char **fp = h5u_read_strings(ds, 0, 1, path, "fingerprint");
        s->fingerprint = fp[0];
        free(fp);
        h5u_close(ds, path);
    }
    hid_t g = h5u_open_group(f, "dims", path, "the model file is damaged");
    int64_t dv[9], drop = 0;
    for (int i = 0; i < 9; i++)
        if (h5u_attr_i64(g, DIM_NAMES[i], &dv[i], 1) != 1) FATAL("the model file is damaged", "%s: /dims lacks %s", path, DIM_NAMES[i]);
    h5u_attr_i64(g, "dropout_ppm", &drop, 1);
    h5u_close(g, path);
    check_dims(path, dv);
    if (drop < 0 || drop >= 1000000)
        FATAL("the model file is damaged or not one kida wrote: use another copy or retrain",
              "%s: /dims attribute dropout_ppm = %lld is outside [0, 1000000)", path, (long long)drop);
    s->mc = (ModelConfig){(size_t)dv[0], (size_t)dv[1], (size_t)dv[2], (size_t)dv[3], (size_t)dv[4],
                          (size_t)dv[5], (size_t)dv[6], (size_t)dv[7], (size_t)dv[8], (float)drop * 1e-6f};
    size_t G = s->mc.G, P = s->mc.P, M = s->mc.M, K = s->mc.K;
    g = h5u_open_group(f, "prep", path, "the model file is damaged");
    ds = h5u_open_dset(g, "genes", path, "the model file is damaged");
    if (h5u_dset_len(ds, path, "prep/genes") != G) FATAL("the model file is damaged", "%s: prep/genes length differs from G = %zu", path, G);
    s->prep.G = G;
    s->prep.gene_names = h5u_read_strings(ds, 0, G, path, "prep/genes");
    h5u_close(ds, path);
    s->prep.mean = read_all(g, "mean", H5T_NATIVE_FLOAT, 4, G, path);
    s->prep.std = read_all(g, "std", H5T_NATIVE_FLOAT, 4, G, path);
    s->prep.zero = read_all(g, "zero", H5T_NATIVE_FLOAT, 4, G, path);
    double *sc = read_all(g, "target_sum_clip", H5T_NATIVE_DOUBLE, 8, 2, path);
    s->prep.target_sum = sc[0];
    s->prep.clip = sc[1];
    free(sc);
    s->profile = NULL;  // models before the profile rule have none
    if (h5u_exists(g, "type_profile")) s->profile = read_profile(g, K, G, path);
    h5u_close(g, path);
    g = h5u_open_group(f, "pathways", path, "the model file is damaged");
    s->pw.P = P;
    ds = h5u_open_dset(g, "names", path, "the model file is damaged");
    s->pw.names = h5u_read_strings(ds, 0, P, path, "pathways/names");
    h5u_close(ds, path);
    int64_t *pp = read_all(g, "path_ptr", H5T_NATIVE_INT64, 8, P + 1, path);
    int64_t *ss = read_all(g, "set_size", H5T_NATIVE_INT64, 8, P, path);
    s->pw.path_ptr = xcalloc_for(szadd(P, 1), sizeof(size_t), "%s: %zu pathways", path, P);
    s->pw.set_size = xcalloc_for(P, sizeof(size_t), "%s: %zu pathways", path, P);
    for (size_t j = 0; j <= P; j++) s->pw.path_ptr[j] = (size_t)pp[j];
    for (size_t j = 0; j < P; j++) s->pw.set_size[j] = (size_t)ss[j];
    free(pp); free(ss);
    s->pw.member_gene = read_all(g, "member_gene", H5T_NATIVE_INT32, 4, M, path);
    s->pw.pvalue = read_all(g, "pvalue", H5T_NATIVE_DOUBLE, 8, P, path);
    h5u_close(g, path);
    ds = h5u_open_dset(f, "classes", path, "the model file is damaged");
    s->K = K;
    s->classes = h5u_read_strings(ds, 0, K, path, "classes");
    h5u_close(ds, path);
    h5u_close(f, path);
    for (size_t k = 0; k < K; k++)
        if (!strcmp(s->classes[k], "unknown"))
            FATAL("retrain the model from a reference whose labels do not use the name `unknown` (kida gives it to "
                  "unsure cells)", "%s: class %zu of the model is named `unknown`, which kida reserves", path, k);
}

int modelfile_has(const char *path, const char *which) {
    hid_t f = open_model(path);
    int has = h5u_exists(f, which);
    h5u_close(f, path);
    return has;
}

void modelfile_read_params(const char *path, const char *which, Model *m, int with_adam) {
    hid_t f = open_model(path);
    hid_t g = h5u_open_group(f, which, path, "the model file has no such model; was its training finished?");
    size_t sizes[N_PARAM_TENSORS], at = 0;
    model_param_shapes(&m->cfg, sizes);
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) {
        hid_t ds = h5u_open_dset(g, MODEL_PARAM_NAMES[i], path, "the model file is damaged");
        hsize_t dims[8];
        int rank = h5u_dset_dims(ds, dims, path, MODEL_PARAM_NAMES[i]);
        size_t n = 1;
        for (int r = 0; r < rank; r++) n *= (size_t)dims[r];
        if (n != sizes[i])
            FATAL("the model file does not match this network; retrain", "%s: /%s/%s has %zu values, want %zu", path, which,
                  MODEL_PARAM_NAMES[i], n, sizes[i]);
        if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, m->params + at) < 0)
            FATAL("the model file is damaged", "%s: cannot read /%s/%s", path, which, MODEL_PARAM_NAMES[i]);
        h5u_close(ds, path);
        at += sizes[i];
    }
    h5u_close(g, path);
    if (with_adam && m->adam_m && h5u_exists(f, "state/adam_m")) {
        float *am = read_all(f, "state/adam_m", H5T_NATIVE_FLOAT, 4, m->n_params, path);
        float *av = read_all(f, "state/adam_v", H5T_NATIVE_FLOAT, 4, m->n_params, path);
        memcpy(m->adam_m, am, m->n_params * sizeof(float));
        memcpy(m->adam_v, av, m->n_params * sizeof(float));
        free(am); free(av);
    }
    h5u_close(f, path);
}

int modelfile_read_state(const char *path, TrainState *st) {
    memset(st, 0, sizeof *st);
    hid_t f = open_model(path);
    if (!h5u_exists(f, "state")) {
        h5u_close(f, path);
        return 0;
    }
    hid_t g = h5u_open_group(f, "state", path, "the checkpoint is damaged");
    int64_t v[4];
    if (h5u_attr_i64(g, "phase_epoch_batch_step", v, 4) != 4) FATAL("the checkpoint is damaged", "%s: /state lacks its position", path);
    st->phase = (Phase)v[0];
    st->epoch = (size_t)v[1];
    st->batch = (size_t)v[2];
    st->step = (uint64_t)v[3];
    hid_t ds = h5u_open_dset(g, "hist", path, "the checkpoint is damaged");
    hsize_t dims[8];
    int rank = h5u_dset_dims(ds, dims, path, "state/hist");
    if (rank != 2 || dims[1] != 5)   // H5S_ALL below reads every element the file declares
        FATAL("the checkpoint is damaged; delete it (or use another checkpoint folder) and train again",
              "%s: dataset state/hist has %d dimensions of %llu columns (want 2 dimensions, 5 columns)", path, rank,
              rank >= 2 ? (unsigned long long)dims[1] : 0ULL);
    st->n_hist = (size_t)dims[0];
    st->hist = xmalloc_for(szmul(szmul(st->n_hist ? st->n_hist : 1, 5), sizeof(double)), "%s: state/hist of %zu epochs",
                           path, st->n_hist);
    if (st->n_hist && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, st->hist) < 0)
        FATAL("the checkpoint is damaged", "%s: cannot read state/hist", path);
    h5u_close(ds, path);
    double *part = read_all(g, "partial", H5T_NATIVE_DOUBLE, 8, 5, path);
    memcpy(st->partial, part, sizeof st->partial);
    free(part);
    ds = h5u_open_dset(g, "anchors", path, "the checkpoint is damaged");
    st->n_anchor = h5u_dset_len(ds, path, "state/anchors");
    h5u_close(ds, path);
    st->anchors = read_all(g, "anchors", H5T_NATIVE_INT64, 8, st->n_anchor, path);
    // weight average and best epoch: absent in checkpoints of older kida versions (none held)
    st->best_acc = -1;
    if (h5u_exists(g, "avg_sum")) {
        hid_t a = h5u_open_dset(g, "avg_sum", path, "the checkpoint is damaged");
        st->n_params = h5u_dset_len(a, path, "state/avg_sum");
        h5u_close(a, path);
        st->avg_sum = read_all(g, "avg_sum", H5T_NATIVE_DOUBLE, 8, st->n_params, path);
        int64_t an = 0;
        if (h5u_attr_i64(g, "avg_n", &an, 1) != 1 || an < 0) FATAL("the checkpoint is damaged", "%s: /state lacks avg_n", path);
        st->avg_n = (uint64_t)an;
    }
    if (h5u_exists(g, "best_params")) {
        hid_t a = h5u_open_dset(g, "best_params", path, "the checkpoint is damaged");
        size_t n = h5u_dset_len(a, path, "state/best_params");
        h5u_close(a, path);
        if (st->avg_sum && n != st->n_params)
            FATAL("the checkpoint is damaged", "%s: state/best_params has %zu values, state/avg_sum %zu", path, n, st->n_params);
        st->n_params = n;
        st->best = read_all(g, "best_params", H5T_NATIVE_FLOAT, 4, n, path);
        double *ba = read_all(g, "best_acc", H5T_NATIVE_DOUBLE, 8, 1, path);
        st->best_acc = ba[0];
        free(ba);
    }
    int64_t sb = 0;
    if (h5u_attr_i64(g, "since_best", &sb, 1) == 1 && sb >= 0) st->since_best = (uint64_t)sb;
    h5u_close(g, path);
    h5u_close(f, path);
    return 1;
}

#define DIFF(...) (snprintf(buf, n, __VA_ARGS__), buf)
static const char *size_diff(const char *what, size_t m, size_t run, char *buf, size_t n) {
    return m == run ? NULL : DIFF("%s differ: the model has %zu, this run %zu", what, m, run);
}

const char *modelspec_diff(const ModelSpec *m, const ModelSpec *run, char *buf, size_t n) {
    const char *d;
    if ((d = size_diff("the classes", m->K, run->K, buf, n))) return d;
    for (size_t k = 0; k < m->K; k++)
        if (strcmp(m->classes[k], run->classes[k]))
            return DIFF("class %zu differs: the model has `%s`, this reference `%s`", k + 1, m->classes[k], run->classes[k]);
    if ((d = size_diff("the model genes", m->prep.G, run->prep.G, buf, n))) return d;
    for (size_t g = 0; g < m->prep.G; g++) {
        if (strcmp(m->prep.gene_names[g], run->prep.gene_names[g]))
            return DIFF("model gene %zu differs: the model has %s, this run %s", g + 1, m->prep.gene_names[g],
                        run->prep.gene_names[g]);
        float a[2] = {m->prep.mean[g], m->prep.std[g]}, b[2] = {run->prep.mean[g], run->prep.std[g]};
        for (int j = 0; j < 2; j++)
            if (!(fabsf(a[j] - b[j]) <= 1e-4f * (1.0f + fabsf(b[j]))))
                return DIFF("gene %s has %s %.6g in the model and %.6g in this reference: the model was trained on "
                            "other cells", m->prep.gene_names[g], j ? "standard deviation" : "mean", a[j], b[j]);
    }
    if ((d = size_diff("the pathway tokens", m->pw.P, run->pw.P, buf, n))) return d;
    for (size_t p = 0; p < m->pw.P; p++) {
        if (strcmp(m->pw.names[p], run->pw.names[p]))
            return DIFF("pathway token %zu differs: the model has %s, this run %s", p + 1, m->pw.names[p], run->pw.names[p]);
        size_t c = m->pw.path_ptr[p + 1] - m->pw.path_ptr[p];
        if (c != run->pw.path_ptr[p + 1] - run->pw.path_ptr[p] || m->pw.path_ptr[p] != run->pw.path_ptr[p] ||
            memcmp(m->pw.member_gene + m->pw.path_ptr[p], run->pw.member_gene + run->pw.path_ptr[p], c * sizeof(int32_t)))
            return DIFF("pathway token %s has other member genes in the model", m->pw.names[p]);
    }
    if ((d = size_diff("the widths (--width)", m->mc.C, run->mc.C, buf, n))) return d;
    if ((d = size_diff("the layer counts (--layers)", m->mc.L, run->mc.L, buf, n))) return d;
    if ((d = size_diff("the head counts (--heads)", m->mc.NH, run->mc.NH, buf, n))) return d;
    return size_diff("the MLP widths", m->mc.F, run->mc.F, buf, n);
}
#undef DIFF

void modelspec_free(ModelSpec *s) {
    prep_stats_free(&s->prep);
    pathways_free(&s->pw);
    strv_free(s->classes, s->K);
    free(s->config_text);
    free(s->fingerprint);
    free(s->profile);
    memset(s, 0, sizeof *s);
}

void trainstate_free(TrainState *st) {
    free(st->hist);
    free(st->anchors);
    free(st->avg_sum);
    free(st->best);
    memset(st, 0, sizeof *st);
}
