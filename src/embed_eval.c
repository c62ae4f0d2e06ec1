// embed_eval: see embed_eval.h.
#include "embed_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "h5ad.h"
#include "log.h"
#include "metrics.h"
#include "preprocess.h"
#include "rng.h"

enum { EVAL_K = 15, EVAL_PCS = 50, PCA_POWER_ITERS = 20 };

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

typedef struct {
    const char *name;
    size_t dims, clusters;
    double nmi, ari, mixing;
} EvalRow;

// Leiden clusters of x (n,d) scored against truth (labelled cells) and batch mixing.
static EvalRow score_embedding(const char *name, const float *x, size_t n, size_t d, const int32_t *truth,
                               const int32_t *batch) {
    EvalRow r = {name, d, 0, NAN, NAN, NAN};
    int32_t *cl = metrics_leiden(x, n, d, EVAL_K, 1.0, 0, &r.clusters);
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
        size_t m = 0;
        float *xs = xmalloc((n ? n : 1) * d * sizeof(float));
        int32_t *bs = xmalloc((n ? n : 1) * sizeof(int32_t));
        for (size_t i = 0; i < n; i++)
            if (batch[i] >= 0) {
                memcpy(&xs[m * d], &x[i * d], d * sizeof(float));
                bs[m++] = batch[i];
            }
        if (m > EVAL_K) r.mixing = metrics_batch_entropy(xs, m, d, bs, EVAL_K);
        free(xs);
        free(bs);
    }
    free(cl);
    return r;
}

static void print_num(FILE *out, double v) {
    if (isnan(v)) fprintf(out, "  %8s", "n/a");
    else fprintf(out, "  %8.4f", v);
}

void embed_eval_report(const char *pred_path, const char *truth_key, const char *batch_key, FILE *out) {
    H5ad *h = h5ad_open(pred_path, NULL, 0, NULL);
    size_t n = h5ad_n_obs(h), C = 0;
    float *emb = h5ad_obsm(h, "X_kida", 0, n, &C);  // (n,C)
    if (!emb) FATAL("give a file written by kida annotate or kida predict", "%s: obsm has no X_kida (the kida embedding)",
                    pred_path);
    int32_t *truth = NULL, *batch = NULL;
    char **tcats = NULL, **bcats = NULL;
    size_t n_t = 0, n_b = 0, n_lab = 0;
    if (truth_key && *truth_key && h5ad_has_obs(h, truth_key)) {
        truth = h5ad_obs_labels(h, truth_key, 0, n, &tcats, &n_t);
        for (size_t i = 0; i < n; i++) n_lab += truth[i] >= 0;
    }
    if (batch_key && *batch_key) {
        if (!h5ad_has_obs(h, batch_key))
            FATAL("give an obs column of the annotated file with --batch-key (kida inspect lists them)",
                  "%s: obs has no column %s (--batch-key)", pred_path, batch_key);
        batch = h5ad_obs_labels(h, batch_key, 0, n, &bcats, &n_b);
    }
    // the PCA baseline from the file's own counts
    Csr X = h5ad_read_rows(h, 0, n);
    char **var = h5ad_var_names(h);
    size_t G0 = h5ad_n_vars(h);
    h5ad_close(h);
    int counts = n > EVAL_PCS + 1;
    for (size_t p = 0; p < csr_nnz(&X) && counts; p++) counts = isfinite(X.data[p]) && X.data[p] >= 0.0f;
    EvalRow row[2];
    size_t n_rows = 0;
    row[n_rows++] = score_embedding("X_kida", emb, n, C, truth, batch);
    char pca_name[64] = "";
    double explained = NAN, pc1 = NAN;
    size_t n_hvg = 0, n_pcs = 0;
    if (counts) {
        Dist self = {.rank = 0, .size = 1, .local_rank = 0, .local_size = 1, .node = 0, .n_nodes = 1,
                     .comm = MPI_COMM_SELF, .local_comm = MPI_COMM_SELF, .host = "local"};
        PrepOptions po = prep_options_default();
        PrepStats st = prep_fit(&X, var, &po, &self);
        int32_t *col = xmalloc((G0 ? G0 : 1) * sizeof(int32_t));  // (G0) HVG position of each column
        for (size_t j = 0; j < G0; j++) col[j] = -1;
        for (size_t g = 0; g < st.G; g++) col[st.ref_col[g]] = (int32_t)g;
        Csr D = prep_transform(&st, &X, col);
        n_hvg = st.G;
        size_t k = EVAL_PCS < st.G ? EVAL_PCS : st.G - 1;
        n_pcs = k;
        float *pcs = xmalloc(n * k * sizeof(float));
        double *pv = xmalloc(k * sizeof(double)), sum = 0.0;
        double total = embed_eval_pca(pcs, pv, &D, k, 0);
        for (size_t c = 0; c < k; c++) sum += pv[c];
        explained = total > 0 ? sum / total : NAN;
        pc1 = total > 0 ? pv[0] / total : NAN;
        snprintf(pca_name, sizeof pca_name, "PCA-%zu", k);
        row[n_rows++] = score_embedding(pca_name, pcs, n, k, truth, batch);
        free(pcs); free(pv); free(col);
        csr_free(&D);
        prep_stats_free(&st);
    }
    fprintf(out, "\nembedding clustering: Leiden (modularity, resolution 1, seed 0) on the %d-NN graph\n", EVAL_K);
    if (truth) fprintf(out, "  against obs %s: %zu labelled cells of %zu\n", truth_key, n_lab, n);
    else fprintf(out, "  no obs %s in %s: clusters only\n", truth_key ? truth_key : "(none)", pred_path);
    fprintf(out, "  %-24s %5s %9s %9s %9s%s\n", "embedding", "dims", "clusters", "NMI", "ARI",
            batch ? "  batch-mixing" : "");
    for (size_t r = 0; r < n_rows; r++) {
        fprintf(out, "  %-24s %5zu %9zu", row[r].name, row[r].dims, row[r].clusters);
        print_num(out, row[r].nmi);
        print_num(out, row[r].ari);
        if (batch) {
            if (isnan(row[r].mixing)) fprintf(out, "  n/a (%zu batch)", n_b);
            else fprintf(out, "  %8.4f", row[r].mixing);
        }
        fputc('\n', out);
    }
    if (counts)
        fprintf(out, "  PCA-%zu: normalize_total 1e4, log1p, %zu Seurat HVGs of this file, scale (clip 10), PCA; "
                "the components hold %.2f%% of the variance (PC1 %.2f%%)\n", n_pcs, n_hvg, 100.0 * explained, 100.0 * pc1);
    else
        fprintf(out, "  PCA baseline left out: X of %s is not raw counts (or has too few cells)\n", pred_path);
    if (batch)
        fprintf(out, "  batch-mixing: entropy of obs %s among each cell's %d neighbours / log(batches); 1 = mixed\n",
                batch_key, EVAL_K);
    csr_free(&X);
    strv_free(var, G0);
    free(emb);
    free(truth);
    free(batch);
    if (tcats) strv_free(tcats, n_t);
    if (bcats) strv_free(bcats, n_b);
}
