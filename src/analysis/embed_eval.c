// embed_eval: see embed_eval.h.
#include "analysis/embed_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/metrics.h"
#include "core/log.h"
#include "core/rng.h"
#include "io/h5ad.h"
#include "mpi/dist.h"
#include "prep/preprocess.h"

// EVAL_MAX_EMB: the embeddings compared, X_kida and the PCA baseline.
enum { EVAL_K = 15, EVAL_PCS = 50, PCA_POWER_ITERS = 20, EVAL_MAX_EMB = 2 };

// ---- randomized PCA --------------------------------------------------------------------------

// Y (n,l) = (D − 1 muᵀ) W, W (G,l), all row-major.
static void mul_xc(double *Y, const Csr *D, const double *mu, const double *W, size_t l) {
    size_t n = D->n_rows, G = D->n_cols;
    double *c = xcalloc(l, sizeof(double));  // (l) muᵀ W
    for (size_t g = 0; g < G; g++)
        for (size_t j = 0; j < l; j++) c[j] += mu[g] * W[g * l + j];
    for (size_t i = 0; i < n; i++) {
        double *y = &Y[i * l];
        for (size_t j = 0; j < l; j++) y[j] = -c[j];
        for (int64_t p = D->indptr[i]; p < D->indptr[i + 1]; p++) {
            const double *w = &W[(size_t)D->indices[p] * l];
            double v = D->data[p];
            for (size_t j = 0; j < l; j++) y[j] += v * w[j];
        }
    }
    free(c);
}

// Z (G,l) = (D − 1 muᵀ)ᵀ Y, Y (n,l), all row-major.
static void mul_xct(double *Z, const Csr *D, const double *mu, const double *Y, size_t l) {
    size_t n = D->n_rows, G = D->n_cols;
    double *s = xcalloc(l, sizeof(double));  // (l) 1ᵀ Y
    memset(Z, 0, G * l * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        const double *y = &Y[i * l];
        for (size_t j = 0; j < l; j++) s[j] += y[j];
        for (int64_t p = D->indptr[i]; p < D->indptr[i + 1]; p++) {
            double *z = &Z[(size_t)D->indices[p] * l];
            double v = D->data[p];
            for (size_t j = 0; j < l; j++) z[j] += v * y[j];
        }
    }
    for (size_t g = 0; g < G; g++)
        for (size_t j = 0; j < l; j++) Z[g * l + j] -= mu[g] * s[j];
    free(s);
}

// Orthonormal columns of A (r,l) row-major in place: modified Gram–Schmidt, twice. A column
// that vanishes (rank deficiency) is set to zero.
static void orthonormalize(double *A, size_t r, size_t l) {
    double *T = xmalloc(r * l * sizeof(double));  // (l,r) column-major copy
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < l; j++) T[j * r + i] = A[i * l + j];
    for (int pass = 0; pass < 2; pass++)
        for (size_t j = 0; j < l; j++) {
            double *a = &T[j * r];
            double before = 0.0;
            for (size_t i = 0; i < r; i++) before += a[i] * a[i];
            for (size_t k = 0; k < j; k++) {
                const double *b = &T[k * r];
                double d = 0.0;
                for (size_t i = 0; i < r; i++) d += a[i] * b[i];
                for (size_t i = 0; i < r; i++) a[i] -= d * b[i];
            }
            double nn = 0.0;
            for (size_t i = 0; i < r; i++) nn += a[i] * a[i];
            double scale = (nn > 1e-24 * before && nn > 0.0) ? 1.0 / sqrt(nn) : 0.0;
            for (size_t i = 0; i < r; i++) a[i] *= scale;
        }
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < l; j++) A[i * l + j] = T[j * r + i];
    free(T);
}

// Eigen-decomposition of the symmetric S (l,l) by cyclic Jacobi rotations: eigenvalues into ev
// (l), descending, eigenvectors into the columns of V (l,l) row-major. S is destroyed.
static void jacobi_eigen(double *S, size_t l, double *ev, double *V) {
    for (size_t i = 0; i < l * l; i++) V[i] = 0.0;
    for (size_t i = 0; i < l; i++) V[i * l + i] = 1.0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, tot = 0.0;
        for (size_t i = 0; i < l; i++)
            for (size_t j = 0; j < l; j++) {
                tot += S[i * l + j] * S[i * l + j];
                if (i != j) off += S[i * l + j] * S[i * l + j];
            }
        if (off <= 1e-30 * tot || off == 0.0) break;
        for (size_t p = 0; p < l; p++)
            for (size_t q = p + 1; q < l; q++) {
                double apq = S[p * l + q];
                if (apq == 0.0) continue;
                double theta = (S[q * l + q] - S[p * l + p]) / (2.0 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (size_t k = 0; k < l; k++) {  // columns p, q
                    double a = S[k * l + p], b = S[k * l + q];
                    S[k * l + p] = c * a - s * b;
                    S[k * l + q] = s * a + c * b;
                }
                for (size_t k = 0; k < l; k++) {  // rows p, q
                    double a = S[p * l + k], b = S[q * l + k];
                    S[p * l + k] = c * a - s * b;
                    S[q * l + k] = s * a + c * b;
                }
                for (size_t k = 0; k < l; k++) {
                    double a = V[k * l + p], b = V[k * l + q];
                    V[k * l + p] = c * a - s * b;
                    V[k * l + q] = s * a + c * b;
                }
            }
    }
    // sort descending (selection sort on l <= a few hundred)
    for (size_t i = 0; i < l; i++) ev[i] = S[i * l + i];
    for (size_t i = 0; i < l; i++) {
        size_t b = i;
        for (size_t j = i + 1; j < l; j++)
            if (ev[j] > ev[b]) b = j;
        if (b == i) continue;
        double t = ev[i]; ev[i] = ev[b]; ev[b] = t;
        for (size_t k = 0; k < l; k++) {
            t = V[k * l + i]; V[k * l + i] = V[k * l + b]; V[k * l + b] = t;
        }
    }
}

double embed_eval_pca(float *scores, double *var, const Csr *D, size_t k, uint64_t seed) {
    size_t n = D->n_rows, G = D->n_cols;
    if (k < 1 || k >= n || k >= G)
        FATAL("this is a bug in the caller of embed_eval_pca", "%zu components of a %zu x %zu matrix (want 1 <= k < "
              "min(n, G))", k, n, G);
    size_t l = k + (k > 10 ? k : 10);
    if (l > n) l = n;
    if (l > G) l = G;
    double *mu = xcalloc(G, sizeof(double)), *sq = xcalloc(G, sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (int64_t p = D->indptr[i]; p < D->indptr[i + 1]; p++) {
            mu[D->indices[p]] += D->data[p];
            sq[D->indices[p]] += (double)D->data[p] * D->data[p];
        }
    double total = 0.0;
    for (size_t g = 0; g < G; g++) {
        mu[g] /= (double)n;
        total += (sq[g] - (double)n * mu[g] * mu[g]) / (double)(n - 1);
    }
    free(sq);
    double *W = xmalloc(G * l * sizeof(double)), *Y = xmalloc(n * l * sizeof(double));  // (G,l), (n,l)
    for (size_t g = 0; g < G; g++)
        for (size_t j = 0; j < l; j++) W[g * l + j] = rng_normal(seed, 0x9ca, g, j);
    mul_xc(Y, D, mu, W, l);
    orthonormalize(Y, n, l);
    for (int it = 0; it < PCA_POWER_ITERS; it++) {
        mul_xct(W, D, mu, Y, l);
        orthonormalize(W, G, l);
        mul_xc(Y, D, mu, W, l);
        orthonormalize(Y, n, l);
    }
    mul_xct(W, D, mu, Y, l);  // W = X_cᵀ Q, so B = Wᵀ and B Bᵀ = Wᵀ W
    double *S = xcalloc(l * l, sizeof(double)), *V = xmalloc(l * l * sizeof(double)), *ev = xmalloc(l * sizeof(double));
    for (size_t g = 0; g < G; g++)
        for (size_t a = 0; a < l; a++)
            for (size_t b = a; b < l; b++) S[a * l + b] += W[g * l + a] * W[g * l + b];
    for (size_t a = 0; a < l; a++)
        for (size_t b = 0; b < a; b++) S[a * l + b] = S[b * l + a];
    jacobi_eigen(S, l, ev, V);
    // scores = Q V S: column c = Q V[:,c] sqrt(ev_c)
    for (size_t c = 0; c < k; c++) {
        double s = ev[c] > 0 ? sqrt(ev[c]) : 0.0, best = 0.0;
        var[c] = (ev[c] > 0 ? ev[c] : 0.0) / (double)(n - 1);
        for (size_t i = 0; i < n; i++) {
            double v = 0.0;
            for (size_t j = 0; j < l; j++) v += Y[i * l + j] * V[j * l + c];
            v *= s;
            scores[i * k + c] = (float)v;
            if (fabs(v) > fabs(best)) best = v;
        }
        if (best < 0)
            for (size_t i = 0; i < n; i++) scores[i * k + c] = -scores[i * k + c];
    }
    free(mu); free(W); free(Y); free(S); free(V); free(ev);
    return total;
}

// ---- the report ------------------------------------------------------------------------------

// One obs column as labels; code is NULL when the column was not read.
typedef struct {
    int32_t *code;  // (n) category per cell, -1 for missing
    char **cats;    // (n_cats)
    size_t n_cats;
} ObsCol;

static ObsCol obs_col(H5ad *h, const char *key, size_t n) {
    ObsCol c = {0};
    c.code = h5ad_obs_labels(h, key, 0, n, &c.cats, &c.n_cats);
    return c;
}

static void obs_col_free(ObsCol *c) {
    free(c->code);
    if (c->cats) strv_free(c->cats, c->n_cats);
}

// Number of categories of c that some of the n cells hold (0 when c was not read).
static size_t obs_col_used(const ObsCol *c, size_t n) {
    if (!c->code) return 0;
    char *seen = xcalloc(c->n_cats + 1, 1);
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        if (c->code[i] >= 0 && !seen[c->code[i]]) {
            seen[c->code[i]] = 1;
            used++;
        }
    free(seen);
    return used;
}

// What the report reads from the annotated file.
typedef struct {
    const char *path, *truth_key, *batch_key, *mod_key, *grp_key;
    size_t n, C, G;
    float *emb;                     // (n,C) obsm X_kida
    ObsCol truth, batch, mod, grp;  // grp: the types modality mixing is measured within
    Csr X;                          // (n,G) raw counts
    char **var;                     // (G)
} EvalData;

// obs[key] as modalities: a missing default column is no modality column, a missing named one
// is fatal.
static ObsCol read_modality(H5ad *h, const char *path, const char *key, size_t n) {
    ObsCol m = {0};
    if (!key || !*key) return m;
    if (!h5ad_has_obs(h, key)) {
        if (!strcmp(key, EMBED_EVAL_MODALITY_KEY)) return m;
        FATAL("give an obs column of the annotated file with --modality-key (kida inspect lists them)",
              "%s: obs has no column %s (--modality-key)", path, key);
    }
    return obs_col(h, key, n);
}

static EvalData eval_read(const char *path, const char *truth_key, const char *batch_key, const char *mod_key) {
    EvalData d = {.path = path, .truth_key = truth_key, .batch_key = batch_key, .mod_key = mod_key};
    H5ad *h = h5ad_open(path, NULL, 0, NULL);
    d.n = h5ad_n_obs(h);
    d.emb = h5ad_obsm(h, "X_kida", 0, d.n, &d.C);
    if (!d.emb)
        FATAL("give a file written by kida annotate or kida predict",
              "%s: obsm has no X_kida (the kida embedding)", path);
    if (truth_key && *truth_key && h5ad_has_obs(h, truth_key)) d.truth = obs_col(h, truth_key, d.n);
    if (batch_key && *batch_key) {
        if (!h5ad_has_obs(h, batch_key))
            FATAL("give an obs column of the annotated file with --batch-key (kida inspect lists them)",
                  "%s: obs has no column %s (--batch-key)", path, batch_key);
        d.batch = obs_col(h, batch_key, d.n);
    }
    d.mod = read_modality(h, path, mod_key, d.n);
    d.grp_key = d.truth.code ? truth_key : "kida_label";
    if (obs_col_used(&d.mod, d.n) >= 2 && h5ad_has_obs(h, d.grp_key)) d.grp = obs_col(h, d.grp_key, d.n);
    d.X = h5ad_read_rows(h, 0, d.n);
    d.var = h5ad_var_names(h);
    d.G = h5ad_n_vars(h);
    h5ad_close(h);
    return d;
}

static void eval_data_free(EvalData *d) {
    free(d->emb);
    obs_col_free(&d->truth);
    obs_col_free(&d->batch);
    obs_col_free(&d->mod);
    obs_col_free(&d->grp);
    csr_free(&d->X);
    strv_free(d->var, d->G);
}

// The PCA baseline from the file's own counts; scores is NULL when X is not raw counts or
// holds too few cells.
typedef struct {
    float *scores;  // (n,k)
    size_t k, n_hvg;
    double explained, pc1;  // shares of the total variance: all k components, the first
    char name[64];
} Baseline;

static Baseline pca_baseline(const EvalData *d) {
    Baseline b = {.explained = NAN, .pc1 = NAN};
    int counts = d->n > EVAL_PCS + 1;
    for (size_t p = 0; p < csr_nnz(&d->X) && counts; p++) counts = isfinite(d->X.data[p]) && d->X.data[p] >= 0.0f;
    if (!counts) return b;
    Dist self = {.rank = 0, .size = 1, .local_rank = 0, .local_size = 1, .node = 0, .n_nodes = 1,
                 .comm = MPI_COMM_SELF, .local_comm = MPI_COMM_SELF, .host = "local"};
    PrepOptions po = prep_options_default();
    PrepStats st = prep_fit(&d->X, d->var, &po, &self);
    int32_t *col = xmalloc((d->G ? d->G : 1) * sizeof(int32_t));  // (G) HVG position of each column
    for (size_t j = 0; j < d->G; j++) col[j] = -1;
    for (size_t g = 0; g < st.G; g++) col[st.ref_col[g]] = (int32_t)g;
    Csr D = prep_transform(&st, &d->X, col);
    b.n_hvg = st.G;
    b.k = EVAL_PCS < st.G ? EVAL_PCS : st.G - 1;
    b.scores = xmalloc(d->n * b.k * sizeof(float));
    double *pv = xmalloc(b.k * sizeof(double)), sum = 0.0;
    double total = embed_eval_pca(b.scores, pv, &D, b.k, 0);
    for (size_t c = 0; c < b.k; c++) sum += pv[c];
    b.explained = total > 0 ? sum / total : NAN;
    b.pc1 = total > 0 ? pv[0] / total : NAN;
    snprintf(b.name, sizeof b.name, "PCA-%zu", b.k);
    free(pv); free(col);
    csr_free(&D);
    prep_stats_free(&st);
    return b;
}

// An embedding under evaluation.
typedef struct {
    const char *name;
    const float *x;  // (n,d)
    size_t d;
} Emb;

typedef struct {
    const char *name;
    size_t dims, clusters;
    double nmi, ari, mixing;
} EvalRow;

// kNN mixing entropy (metrics_batch_entropy, EVAL_K neighbours) of the labels lab among the m
// cells rows of e alone, their neighbours sought among these m only; NAN for m <= EVAL_K or a
// single label.
static double mixing_of_rows(const Emb *e, const int32_t *lab, const size_t *rows, size_t m) {
    if (m <= EVAL_K) return NAN;
    float *xs = xmalloc(m * e->d * sizeof(float));  // (m,d)
    int32_t *ls = xmalloc(m * sizeof(int32_t));     // (m)
    for (size_t r = 0; r < m; r++) {
        memcpy(&xs[r * e->d], &e->x[rows[r] * e->d], e->d * sizeof(float));
        ls[r] = lab[rows[r]];
    }
    double v = metrics_batch_entropy(xs, m, e->d, ls, EVAL_K);
    free(xs);
    free(ls);
    return v;
}

// Leiden clusters of e (n cells) scored against truth (labelled cells) and batch mixing.
static EvalRow score_embedding(const Emb *e, size_t n, const int32_t *truth, const int32_t *batch) {
    EvalRow r = {e->name, e->d, 0, NAN, NAN, NAN};
    int32_t *cl = metrics_leiden(e->x, n, e->d, EVAL_K, 1.0, 0, &r.clusters);
    if (truth) {
        size_t m = 0;
        int32_t *a = xmalloc((n ? n : 1) * sizeof(int32_t)), *b = xmalloc((n ? n : 1) * sizeof(int32_t));
        for (size_t i = 0; i < n; i++)
            if (truth[i] >= 0) {
                a[m] = truth[i];
                b[m++] = cl[i];
            }
        if (m > 0) {
            r.nmi = metrics_nmi(a, b, m);
            r.ari = metrics_ari(a, b, m);
        }
        free(a);
        free(b);
    }
    if (batch) {  // over the cells with a batch
        size_t m = 0, *rows = xmalloc((n ? n : 1) * sizeof(size_t));
        for (size_t i = 0; i < n; i++)
            if (batch[i] >= 0) rows[m++] = i;
        r.mixing = mixing_of_rows(e, batch, rows, m);
        free(rows);
    }
    free(cl);
    return r;
}

static void print_num(FILE *out, double v) {
    if (isnan(v)) fprintf(out, "  %8s", "n/a");
    else fprintf(out, "  %8.4f", v);
}

static void print_cluster_table(const EvalData *d, const EvalRow *row, size_t n_rows, const Baseline *pca, FILE *out) {
    size_t n_lab = 0;
    for (size_t i = 0; i < d->n && d->truth.code; i++) n_lab += d->truth.code[i] >= 0;
    fprintf(out, "\nembedding clustering: Leiden (modularity, resolution 1, seed 0) on the %d-NN graph\n", EVAL_K);
    if (d->truth.code) fprintf(out, "  against obs %s: %zu labelled cells of %zu\n", d->truth_key, n_lab, d->n);
    else fprintf(out, "  no obs %s in %s: clusters only\n", d->truth_key ? d->truth_key : "(none)", d->path);
    fprintf(out, "  %-24s %5s %9s %9s %9s%s\n", "embedding", "dims", "clusters", "NMI", "ARI",
            d->batch.code ? "  batch-mixing" : "");
    for (size_t r = 0; r < n_rows; r++) {
        fprintf(out, "  %-24s %5zu %9zu", row[r].name, row[r].dims, row[r].clusters);
        print_num(out, row[r].nmi);
        print_num(out, row[r].ari);
        if (d->batch.code) {
            if (isnan(row[r].mixing)) fprintf(out, "  n/a (%zu batch)", d->batch.n_cats);
            else fprintf(out, "  %8.4f", row[r].mixing);
        }
        fputc('\n', out);
    }
    if (pca->scores)
        fprintf(out, "  %s: normalize_total 1e4, log1p, %zu Seurat HVGs of this file, scale (clip 10), PCA; "
                "the components hold %.2f%% of the variance (PC1 %.2f%%)\n", pca->name, pca->n_hvg,
                100.0 * pca->explained, 100.0 * pca->pc1);
    else
        fprintf(out, "  PCA baseline left out: X of %s is not raw counts (or has too few cells)\n", d->path);
    if (d->batch.code)
        fprintf(out, "  batch-mixing: entropy of obs %s among each cell's %d neighbours / log(batches); 1 = mixed\n",
                d->batch_key, EVAL_K);
}

// ---- modality mixing within types ------------------------------------------------------------

// One type (category of the group column) and the mixing of modality among its cells.
typedef struct {
    int32_t id;
    size_t cells, n_mod;           // cells with a modality; modalities among them
    double mix[EVAL_MAX_EMB];      // per embedding; NAN when not measured
    double random;                 // H(p) / log(n_mod) of the type's modality shares p
    char per[160];                 // "rna 181, atac 100"
} TypeMix;

// Entropy of the shares count / Σ count over the M modalities present, divided by log M.
static double share_entropy(const size_t *count, size_t n_cats) {
    size_t total = 0, M = 0;
    for (size_t c = 0; c < n_cats; c++) {
        total += count[c];
        M += count[c] > 0;
    }
    if (M < 2) return NAN;
    double h = 0.0;
    for (size_t c = 0; c < n_cats; c++)
        if (count[c]) {
            double p = (double)count[c] / (double)total;
            h -= p * log(p);
        }
    return h / log((double)M);
}

// The cells of type t->id that have a modality, and the mixing of modality among them in each of
// the n_e embeddings (types with one modality or at most EVAL_K cells are left unmeasured).
static void type_mixing(TypeMix *t, const EvalData *d, const Emb *e, size_t n_e) {
    size_t *rows = xmalloc((d->n ? d->n : 1) * sizeof(size_t));
    size_t *count = xcalloc(d->mod.n_cats + 1, sizeof(size_t));  // (n_cats) cells per modality
    for (size_t i = 0; i < d->n; i++)
        if (d->grp.code[i] == t->id && d->mod.code[i] >= 0) {
            rows[t->cells++] = i;
            count[d->mod.code[i]]++;
        }
    size_t len = 0;
    t->per[0] = '\0';
    for (size_t c = 0; c < d->mod.n_cats; c++) {
        if (!count[c]) continue;
        if (len < sizeof t->per)
            len += (size_t)snprintf(t->per + len, sizeof t->per - len, "%s%s %zu", t->n_mod ? ", " : "",
                                    d->mod.cats[c], count[c]);
        t->n_mod++;
    }
    t->random = share_entropy(count, d->mod.n_cats);
    for (size_t k = 0; k < n_e; k++)
        t->mix[k] = t->n_mod >= 2 ? mixing_of_rows(&e[k], d->mod.code, rows, t->cells) : NAN;
    free(count);
    free(rows);
}

static int cmp_type_cells(const void *a, const void *b) {
    const TypeMix *x = a, *y = b;
    if (x->cells != y->cells) return x->cells > y->cells ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

// The measured types of the group column (not "unknown", with cells), largest first; count in *n_t.
static TypeMix *measure_types(const EvalData *d, const Emb *e, size_t n_e, size_t *n_t) {
    TypeMix *t = xcalloc(d->grp.n_cats + 1, sizeof(TypeMix));
    *n_t = 0;
    for (size_t g = 0; g < d->grp.n_cats; g++) {
        if (!strcmp(d->grp.cats[g], "unknown")) continue;
        TypeMix *u = &t[*n_t];
        u->id = (int32_t)g;
        type_mixing(u, d, e, n_e);
        if (u->cells) (*n_t)++;
        else memset(u, 0, sizeof *u);
    }
    qsort(t, *n_t, sizeof(TypeMix), cmp_type_cells);
    return t;
}

static void print_type_row(FILE *out, const char *name, int w_name, int w_per, const TypeMix *t, size_t n_e) {
    fprintf(out, "  %-*s %6zu  %-*s", w_name, name, t->cells, w_per, t->per);
    if (t->n_mod < 2) fprintf(out, "  one modality");
    else if (isnan(t->mix[0])) fprintf(out, "  too few cells (<= %d)", EVAL_K);
    else {
        for (size_t k = 0; k < EVAL_MAX_EMB; k++) print_num(out, k < n_e ? t->mix[k] : NAN);
        print_num(out, t->random);
    }
    fputc('\n', out);
}

// The cell-weighted mean over the measured types of each column, as one line.
static void print_overall(FILE *out, int w_name, int w_per, const TypeMix *t, size_t n_t, size_t n_e) {
    double sum[EVAL_MAX_EMB + 1] = {0};
    size_t cells = 0, types = 0;
    for (size_t i = 0; i < n_t; i++) {
        if (t[i].n_mod < 2 || isnan(t[i].mix[0])) continue;
        for (size_t k = 0; k < n_e; k++) sum[k] += (double)t[i].cells * t[i].mix[k];
        sum[EVAL_MAX_EMB] += (double)t[i].cells * t[i].random;
        cells += t[i].cells;
        types++;
    }
    char what[64];
    snprintf(what, sizeof what, "mean of %zu types by cells", types);
    fprintf(out, "  %-*s %6zu  %-*s", w_name, "overall", cells, w_per, what);
    for (size_t k = 0; k <= EVAL_MAX_EMB; k++) {
        int shown = cells > 0 && (k < n_e || k == EVAL_MAX_EMB);  // the last column: random
        print_num(out, shown ? sum[k] / (double)cells : NAN);
    }
    fputc('\n', out);
}

static void modality_report(const EvalData *d, const Emb *e, size_t n_e, FILE *out) {
    size_t n_t = 0;
    TypeMix *t = measure_types(d, e, n_e, &n_t);
    int w_name = 8, w_per = 26;
    for (size_t i = 0; i < n_t; i++) {
        int a = (int)strlen(d->grp.cats[t[i].id]), b = (int)strlen(t[i].per);
        if (a > w_name) w_name = a < 32 ? a : 32;
        if (b > w_per) w_per = b;
    }
    fprintf(out, "\nmodality mixing within types (obs %s, grouped by obs %s%s)\n", d->mod_key, d->grp_key,
            d->truth.code ? "" : ", the predicted types");
    fprintf(out, "  %-*s %6s  %-*s  %8s  %8s  %8s\n", w_name, "type", "cells", w_per, "per modality", e[0].name,
            n_e > 1 ? e[1].name : "PCA", "random");
    for (size_t i = 0; i < n_t; i++) print_type_row(out, d->grp.cats[t[i].id], w_name, w_per, &t[i], n_e);
    print_overall(out, w_name, w_per, t, n_t, n_e);
    fprintf(out, "  mixing: entropy of obs %s among each cell's %d neighbours within its type / log(modalities of "
            "the type); 1 = mixed\n", d->mod_key, EVAL_K);
    fprintf(out, "  random: H(the type's modality shares) / log(modalities), what neighbours drawn at random give "
            "(a little less with %d)\n", EVAL_K);
    free(t);
}

void embed_eval_report(const char *pred_path, const char *truth_key, const char *batch_key, const char *modality_key,
                       FILE *out) {
    EvalData d = eval_read(pred_path, truth_key, batch_key, modality_key);
    Baseline pca = pca_baseline(&d);
    Emb e[EVAL_MAX_EMB] = {{"X_kida", d.emb, d.C}, {pca.name, pca.scores, pca.k}};
    size_t n_e = pca.scores ? 2 : 1;
    EvalRow row[EVAL_MAX_EMB];
    for (size_t k = 0; k < n_e; k++) row[k] = score_embedding(&e[k], d.n, d.truth.code, d.batch.code);
    print_cluster_table(&d, row, n_e, &pca, out);
    size_t n_mod = obs_col_used(&d.mod, d.n);
    if (d.grp.code) modality_report(&d, e, n_e, out);
    else if (d.mod.code && n_mod < 2)
        fprintf(out, "\nmodality mixing within types left out: obs %s holds %s\n", d.mod_key,
                n_mod ? "one modality" : "no modality");
    else if (d.mod.code)
        fprintf(out, "\nmodality mixing within types left out: no obs %s to group the cells by\n", d.grp_key);
    free(pca.scores);
    eval_data_free(&d);
}
