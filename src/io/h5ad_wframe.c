// h5ad_wframe: two writer elements built on the row plan of h5ad_wimpl.h: a categorical obs
// column that keeps only the categories in use, and a float32 DataFrame in obsm (one column a
// dataset, its index a copy of the obs index), as anndata reads it into adata.obsm[key].
#include <string.h>

#include "core/log.h"
#include "io/h5ad_wimpl.h"
#include "io/h5util.h"

void h5ad_write_obs_categorical_used(H5adWriter *w, const char *key, const int32_t *codes, size_t n, char *const *cats,
                                     size_t n_cats) {
    int64_t *used = xcalloc(n_cats ? n_cats : 1, sizeof(int64_t));
    for (size_t i = 0; i < n; i++)
        if (codes[i] >= 0 && codes[i] < (int32_t)n_cats) used[codes[i]]++;
    if (w->d) dist_allreduce_sum_i64(w->d, used, n_cats);
    int32_t *to = xmalloc((n_cats ? n_cats : 1) * sizeof(int32_t));
    char **kept = xmalloc((n_cats ? n_cats : 1) * sizeof(char *));
    size_t m = 0;
    for (size_t k = 0; k < n_cats; k++) {
        to[k] = used[k] ? (int32_t)m : -1;
        if (used[k]) kept[m++] = cats[k];
    }
    int32_t *c = xmalloc((n ? n : 1) * sizeof(int32_t));
    // codes out of range are left as they are: the writer's own check names them
    for (size_t i = 0; i < n; i++) c[i] = codes[i] >= 0 && codes[i] < (int32_t)n_cats ? to[codes[i]] : codes[i];
    h5ad_write_obs_categorical(w, key, c, n, kept, m);
    free(c);
    free(kept);
    free(to);
    free(used);
}

int h5ad_frame_names_ok(char *const *names, size_t n) {
    for (size_t k = 0; k < n; k++) {
        const char *s = names[k];
        if (!s || !*s || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "_index")) return 0;
        for (size_t j = 0; j < k; j++)
            if (!strcmp(names[j], s)) return 0;
    }
    return 1;
}

// The meta rank: the obs index of the file so far copied to frame/_index (default names first
// when obs has none yet, as commit would write them).
static void copy_obs_index(H5adWriter *w, hid_t frame, const char *key) {
    hid_t obs = h5w_group(w, "obs");
    char *ix = h5u_attr_string(obs, "_index");
    if (!ix || H5Lexists(obs, ix, H5P_DEFAULT) <= 0) {
        H5Gclose(obs);
        free(ix);
        char **v = xmalloc((w->n_obs ? w->n_obs : 1) * sizeof(char *));
        for (size_t i = 0; i < w->n_obs; i++) {
            char b[32];
            snprintf(b, sizeof b, "%zu", i);
            v[i] = xstrdup(b);
        }
        h5ad_write_obs_names(w, v, w->n_obs);
        strv_free(v, w->n_obs);
        obs = h5w_group(w, "obs");
        ix = h5u_attr_string(obs, "_index");
    }
    if (H5Ocopy(obs, ix, frame, "_index", H5P_DEFAULT, H5P_DEFAULT) < 0) h5w_fail(w, "copying the obs index into obsm", key);
    free(ix);
    H5Gclose(obs);
}

void h5ad_write_obsm_frame_f32(H5adWriter *w, const char *key, const float *m, size_t n, char *const *cols,
                               size_t n_cols) {
    if (!key || !*key || strchr(key, '/')) FATAL(HINT_BUG, "%s: obsm key '%s' is not allowed", w->path, key ? key : "");
    if (!h5ad_frame_names_ok(cols, n_cols))
        FATAL(HINT_BUG, "%s: obsm '%s': column names must be unique, non-empty, without '/' and not '_index'", w->path, key);
    h5w_check_rows(w, n, key);
    size_t tl = strlen(key) + 8;
    char *target = xmalloc(tl);
    snprintf(target, tl, "obsm/%s", key);
    h5w_drop(w, target);
    if (w->meta) {
        hid_t g = h5w_group(w, "obsm");
        hid_t f = H5Gcreate2(g, key, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (f < 0) h5w_fail(w, "creating obsm dataframe", key);
        h5w_set_enc(f, "dataframe", "0.2.0", w->tmp);
        h5u_set_attr_string(f, "_index", "_index", w->tmp);
        h5u_set_attr_strings(f, "column-order", cols, n_cols, w->tmp);
        copy_obs_index(w, f, key);
        hsize_t d = w->n_obs;
        for (size_t k = 0; k < n_cols; k++) {
            hid_t ds = h5w_create_rows(w, f, cols[k], H5T_IEEE_F32LE, 1, &d);
            h5w_set_enc(ds, "array", "0.2.0", w->tmp);
            H5Dclose(ds);
        }
        H5Gclose(f);
        H5Gclose(g);
    }
    for (size_t k = 0; k < n_cols; k++) {   // column k of this rank's rows, one write each
        float *v = xmalloc((n ? n : 1) * sizeof(float));
        for (size_t i = 0; i < n; i++) v[i] = m[i * n_cols + k];
        size_t len = strlen(target) + strlen(cols[k]) + 2;
        char *at = xmalloc(len);
        snprintf(at, len, "%s/%s", target, cols[k]);
        h5w_op_mem(w, at, H5T_NATIVE_FLOAT, v, w->row0, n, 1);
        free(at);
    }
    free(target);
}
