// cmd_explain: `kida explain` — reads a model and the file it annotated, runs explain_run on the
// predicted labels and writes the tables, a JSON summary and a copy of the annotated file with
// uns["kida_explain"]. Rank 0 does all the work (the inputs are per-cell summaries).
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/explain.h"
#include "core/atomic.h"
#include "core/log.h"
#include "io/h5ad.h"
#include "model/model.h"
#include "model/pathmap.h"
#include "train/dataset.h"
#include "train/fit.h"

// ---- output files (temp file + atomic rename) ------------------------------------------------

typedef struct {
    FILE *f;
    char *path, *tmp;
} OutFile;

static OutFile out_open(const char *path) {
    OutFile o = {NULL, xstrdup(path), atomic_tmp_path(path)};
    o.f = fopen(o.tmp, "w");
    if (!o.f) FATAL("check that the folder of --out exists and is writable", "cannot write %s: %s", o.tmp, strerror(errno));
    return o;
}

static void out_commit(OutFile *o) {
    if (ferror(o->f) || fflush(o->f) != 0)
        FATAL("check the free space of the output folder", "writing %s failed: %s", o->tmp, strerror(errno));
    if (fclose(o->f) != 0) FATAL("check the free space of the output folder", "closing %s failed: %s", o->tmp, strerror(errno));
    atomic_commit(o->tmp, o->path);
    free(o->tmp);
    free(o->path);
}

static char *cat2(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = xmalloc(n);
    snprintf(s, n, "%s%s", a, b);
    return s;
}

// The output prefix: --out without a trailing ".h5ad", or the annotated file's path with its
// ".h5ad" replaced by ".explain".
static char *output_prefix(const Config *c) {
    const char *base = c->out && *c->out ? c->out : c->pred;
    char *p = xstrdup(base);
    size_t n = strlen(p);
    if (n > 5 && !strcmp(p + n - 5, ".h5ad")) p[n - 5] = 0;
    if (!(c->out && *c->out)) {
        char *q = cat2(p, ".explain");
        free(p);
        p = q;
    }
    return p;
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

// ---- writers ---------------------------------------------------------------------------------

typedef struct {
    const Explain *e;
    const ModelSpec *spec;
    char *const *genes;  // model gene names
} Ctx;

// The kept pathways of group gr that contain model gene `gene`, "; "-joined into buf.
static void kept_with_gene(const Ctx *x, const ExplainGroup *gr, size_t gene, int chosen_only, char *buf, size_t cap) {
    const Pathways *pw = &x->spec->pw;
    size_t per = x->e->opt.genes_per_pathway, len = 0;
    buf[0] = 0;
    for (size_t t = 0; t < gr->n_top; t++) {
        size_t j = gr->top[t];
        int has = 0;
        if (chosen_only) {
            for (size_t k = 0; k < per; k++) has |= gr->top_gene[t * per + k] == gene;
        } else {
            for (size_t r = pw->path_ptr[j]; r < pw->path_ptr[j + 1]; r++) has |= (size_t)pw->member_gene[r] == gene;
        }
        if (has && len + strlen(pw->names[j]) + 3 < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "; " : "", pw->names[j]);
    }
}

// Gene `gene`'s contribution in group gr (NaN without the expression side).
static double contribution_of(const ExplainGroup *gr, size_t gene) {
    for (size_t i = 0; i < gr->n_contrib; i++)
        if (gr->contrib_gene[i] == gene) return gr->contrib[i];
    return NAN;
}

static void write_pathways_tsv(const Ctx *x, const char *path) {
    OutFile o = out_open(path);
    const Explain *e = x->e;
    size_t per = e->opt.genes_per_pathway;
    fputs("group\tn_cells\trank\tpathway\tscore\tauc\tlogfc\tmean_attn_in\tmean_attn_out\tpval\tpadj\tn_genes\ttop_genes\n", o.f);
    for (size_t g = 0; g < e->n_groups; g++) {
        const ExplainGroup *gr = &e->group[g];
        for (size_t t = 0; t < gr->n_top; t++) {
            size_t j = gr->top[t];
            const ExplainTest *s = &e->test[g * e->P + j];
            fprintf(o.f, "%s\t%zu\t%zu\t%s\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\t%zu\t", gr->name, gr->n_cells, t + 1,
                    x->spec->pw.names[j], s->score, s->auc, s->logfc, s->mean_in, s->mean_out, s->pval, s->padj,
                    x->spec->pw.path_ptr[j + 1] - x->spec->pw.path_ptr[j]);
            for (size_t k = 0, first = 1; k < per; k++) {
                size_t gene = gr->top_gene[t * per + k];
                if (gene == SIZE_MAX) continue;
                fprintf(o.f, "%s%s:%.4g", first ? "" : ",", x->genes[gene], gr->top_gene_p[t * per + k]);
                first = 0;
            }
            fputc('\n', o.f);
        }
    }
    out_commit(&o);
}

static void write_genes_tsv(const Ctx *x, const char *path) {
    OutFile o = out_open(path);
    const Explain *e = x->e;
    char buf[4096];
    fputs("group\tvariant\trank\tgene\tkey\tq", o.f);
    for (size_t k = 0; k < EXPLAIN_N_METRICS; k++) fprintf(o.f, "\t%s", EXPLAIN_METRIC_NAMES[k]);
    fputs("\tpathways\tcontribution\n", o.f);
    for (size_t g = 0; g < e->n_groups; g++) {
        const ExplainGroup *gr = &e->group[g];
        for (size_t i = 0; i < gr->n_contrib && gr->tested; i++) {  // variant "contribution": every kept gene
            fprintf(o.f, "%s\tcontribution\t%zu\t%s\t%d\tnan", gr->name, i + 1, x->genes[gr->contrib_gene[i]],
                    i < gr->n_contrib_key);
            for (size_t k = 0; k < EXPLAIN_N_METRICS; k++) fputs("\tnan", o.f);
            kept_with_gene(x, gr, gr->contrib_gene[i], 0, buf, sizeof buf);
            fprintf(o.f, "\t%s\t%.6g\n", buf, gr->contrib[i]);
        }
        for (int v = 0; v < 2 && gr->tested; v++) {
            const ExplainNet *net = v ? &gr->all : &gr->net;
            for (size_t i = 0; i < net->n; i++) {
                const ExplainNode *nd = &net->node[i];
                fprintf(o.f, "%s\t%s\t%zu\t%s\t%d\t%.6g", gr->name, v ? "allgenes" : "top2", nd->rank, x->genes[nd->gene],
                        nd->key, nd->q);
                for (size_t k = 0; k < EXPLAIN_N_METRICS; k++) fprintf(o.f, "\t%.6g", nd->metric[k]);
                kept_with_gene(x, gr, nd->gene, !v, buf, sizeof buf);
                fprintf(o.f, "\t%s\t%.6g\n", buf, contribution_of(gr, nd->gene));
            }
        }
    }
    out_commit(&o);
}

static void write_edges_tsv(const Ctx *x, const char *path) {
    OutFile o = out_open(path);
    fputs("group\tvariant\tgene_a\tgene_b\tsimilarity\n", o.f);
    for (size_t g = 0; g < x->e->n_groups; g++) {
        const ExplainNet *net = &x->e->group[g].net;
        for (size_t k = 0; k < net->m; k++)
            fprintf(o.f, "%s\ttop2\t%s\t%s\t%.6g\n", x->e->group[g].name, x->genes[net->node[net->edges[2 * k]].gene],
                    x->genes[net->node[net->edges[2 * k + 1]].gene], net->weight[k]);
    }
    out_commit(&o);
}

static void json_keys(FILE *f, const Ctx *x, const ExplainNet *net) {
    fputc('[', f);
    for (size_t i = 0, first = 1; i < net->n; i++)
        if (net->node[i].key) {
            if (!first) fputs(", ", f);
            json_str(f, x->genes[net->node[i].gene]);
            first = 0;
        }
    fputc(']', f);
}

static void write_json(const Ctx *x, const char *path, const char *model, const char *pred, const char *which) {
    OutFile o = out_open(path);
    FILE *f = o.f;
    const Explain *e = x->e;
    size_t per = e->opt.genes_per_pathway;
    fputs("{\"model\": ", f);
    json_str(f, model);
    fputs(", \"pred\": ", f);
    json_str(f, pred);
    fputs(", \"weights\": ", f);
    json_str(f, which);
    fputs(", \"group_key\": ", f);
    json_str(f, e->opt.group_key);
    fprintf(f, ",\n \"method\": {\"test\": \"one-vs-rest Wilcoxon rank-sum on kida_pathway_attn (scanpy wilcoxon), "
               "BH-adjusted\", \"top_pathways\": %zu, \"genes_per_pathway\": %zu, \"gene_score\": \"s_tj[g] = (mean "
               "model input of the type - of the rest)[g] * |W_j[g]| (without expression: P_j = row sums of W_j)\", "
               "\"key_genes\": \"largest positive sum of s_tj[g] over the kept pathways\", \"graph\": \"cosine similarity > 0 among each gene's %d most similar, weight = similarity, "
               "length = 1/similarity\", \"metrics\": [\"degree (strength)\", \"betweenness\", \"eigenvector\", "
               "\"pagerank\", \"closeness\"], \"combination\": \"order-statistics Q (Stuart 2003) of the 5 rank "
               "ratios\", \"n_key_genes\": %zu},\n \"groups\": [",
            e->opt.top_pathways, per, EXPLAIN_GRAPH_K, e->opt.key_genes);
    for (size_t g = 0; g < e->n_groups; g++) {
        const ExplainGroup *gr = &e->group[g];
        fputs(g ? ",\n  {\"name\": " : "\n  {\"name\": ", f);
        json_str(f, gr->name);
        fprintf(f, ", \"n_cells\": %zu, \"tested\": %s, \"pathways\": [", gr->n_cells, gr->tested ? "true" : "false");
        for (size_t t = 0; t < gr->n_top; t++) {
            size_t j = gr->top[t];
            const ExplainTest *s = &e->test[g * e->P + j];
            fputs(t ? ", {\"name\": " : "{\"name\": ", f);
            json_str(f, x->spec->pw.names[j]);
            fputs(", \"score\": ", f); json_num(f, s->score);
            fputs(", \"auc\": ", f); json_num(f, s->auc);
            fputs(", \"logfc\": ", f); json_num(f, s->logfc);
            fputs(", \"pval\": ", f); json_num(f, s->pval);
            fputs(", \"padj\": ", f); json_num(f, s->padj);
            fputs(", \"genes\": [", f);
            for (size_t k = 0, first = 1; k < per; k++) {
                size_t gene = gr->top_gene[t * per + k];
                if (gene == SIZE_MAX) continue;
                fputs(first ? "" : ", ", f);
                json_str(f, x->genes[gene]);
                first = 0;
            }
            fputs("]}", f);
        }
        fputs("], \"key_genes\": [", f);
        for (size_t i = 0; i < gr->n_contrib_key; i++) {
            fputs(i ? ", " : "", f);
            json_str(f, x->genes[gr->contrib_gene[i]]);
        }
        fputs("], \"contributions\": [", f);
        for (size_t i = 0; i < gr->n_contrib_key; i++) {
            fputs(i ? ", " : "", f);
            json_num(f, gr->contrib[i]);
        }
        fputs("], \"key_genes_network\": ", f);
        json_keys(f, x, &gr->net);
        fputs(", \"key_genes_allgenes\": ", f);
        json_keys(f, x, &gr->all);
        fputs(", \"network\": {\"genes\": [", f);
        for (size_t i = 0; i < gr->net.n; i++) {
            fputs(i ? ", " : "", f);
            json_str(f, x->genes[gr->net.node[i].gene]);
        }
        fputs("], \"q\": [", f);
        for (size_t i = 0; i < gr->net.n; i++) {
            fputs(i ? ", " : "", f);
            json_num(f, gr->net.node[i].q);
        }
        fputs("], \"edges\": [", f);
        for (size_t k = 0; k < gr->net.m; k++)
            fprintf(f, "%s[%zu, %zu, %.6g]", k ? ", " : "", gr->net.edges[2 * k], gr->net.edges[2 * k + 1],
                    gr->net.weight[k]);
        fprintf(f, "]}, \"allgenes_size\": %zu}", gr->all.n);
    }
    fputs("\n ]}\n", f);
    out_commit(&o);
}

// Long tables in uns["kida_explain"]: one entry per (group, kept pathway) and per (group, gene).
static void write_uns(const Ctx *x, const char *out_path, const char *pred, int overwrite, const char *which) {
    const Explain *e = x->e;
    size_t per = e->opt.genes_per_pathway, np = 0, ng = 0;
    for (size_t g = 0; g < e->n_groups; g++) {
        np += e->group[g].n_top;
        ng += e->group[g].net.n + e->group[g].all.n + (e->group[g].tested ? e->group[g].n_contrib : 0);
    }
    H5adWriter *w = h5ad_writer_copy_of(out_path, overwrite, pred);
    h5ad_write_uns_string(w, "kida_explain/weights", which);
    h5ad_write_uns_string(w, "kida_explain/group_key", e->opt.group_key);
    h5ad_write_uns_string(w, "kida_explain/method",
                          "pathways: one-vs-rest Wilcoxon rank-sum on kida_pathway_attn, BH; key genes: largest "
                          "contribution (type-minus-rest mean model input times |W_j[g]|, summed over the kept "
                          "pathways); network variants: top genes per pathway by that score, cosine-similarity "
                          "graph, 5 centralities, order-statistics Q");
    char **gn = xmalloc((e->n_groups ? e->n_groups : 1) * sizeof(char *));
    int64_t *gc = xmalloc((e->n_groups ? e->n_groups : 1) * sizeof(int64_t));
    for (size_t g = 0; g < e->n_groups; g++) {
        gn[g] = e->group[g].name;
        gc[g] = (int64_t)e->group[g].n_cells;
    }
    if (e->n_groups) {
        h5ad_write_uns_strings(w, "kida_explain/groups", gn, e->n_groups);
        h5ad_write_uns_i64_array(w, "kida_explain/n_cells", gc, e->n_groups);
    }
    if (np) {
        char **grp = xmalloc(np * sizeof(char *)), **name = xmalloc(np * sizeof(char *)), **tg = xmalloc(np * sizeof(char *));
        int64_t *rank = xmalloc(np * sizeof(int64_t));
        double *col[5];
        for (int k = 0; k < 5; k++) col[k] = xmalloc(np * sizeof(double));
        size_t r = 0;
        for (size_t g = 0; g < e->n_groups; g++)
            for (size_t t = 0; t < e->group[g].n_top; t++, r++) {
                const ExplainGroup *gr = &e->group[g];
                const ExplainTest *s = &e->test[g * e->P + gr->top[t]];
                grp[r] = gr->name;
                name[r] = x->spec->pw.names[gr->top[t]];
                rank[r] = (int64_t)t + 1;
                col[0][r] = s->score; col[1][r] = s->auc; col[2][r] = s->logfc; col[3][r] = s->pval; col[4][r] = s->padj;
                char buf[1024];
                size_t len = 0;
                buf[0] = 0;
                for (size_t k = 0; k < per; k++) {
                    size_t gene = gr->top_gene[t * per + k];
                    if (gene != SIZE_MAX && len + strlen(x->genes[gene]) + 2 < sizeof buf)
                        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? "," : "", x->genes[gene]);
                }
                tg[r] = xstrdup(buf);
            }
        h5ad_write_uns_strings(w, "kida_explain/pathways/group", grp, np);
        h5ad_write_uns_strings(w, "kida_explain/pathways/pathway", name, np);
        h5ad_write_uns_i64_array(w, "kida_explain/pathways/rank", rank, np);
        const char *cn[5] = {"score", "auc", "logfc", "pval", "padj"};
        for (int k = 0; k < 5; k++) {
            char p[128];
            snprintf(p, sizeof p, "kida_explain/pathways/%s", cn[k]);
            h5ad_write_uns_f64_array(w, p, col[k], np);
            free(col[k]);
        }
        h5ad_write_uns_strings(w, "kida_explain/pathways/top_genes", tg, np);
        for (size_t i = 0; i < np; i++) free(tg[i]);
        free(grp); free(name); free(tg); free(rank);
    }
    if (ng) {
        char **grp = xmalloc(ng * sizeof(char *)), **var = xmalloc(ng * sizeof(char *)), **gene = xmalloc(ng * sizeof(char *));
        int64_t *rank = xmalloc(ng * sizeof(int64_t)), *key = xmalloc(ng * sizeof(int64_t));
        double *q = xmalloc(ng * sizeof(double)), *met = xmalloc(ng * EXPLAIN_N_METRICS * sizeof(double));
        double *contrib = xmalloc(ng * sizeof(double));
        size_t r = 0;
        for (size_t g = 0; g < e->n_groups; g++) {
            const ExplainGroup *gr = &e->group[g];
            for (size_t i = 0; i < gr->n_contrib && gr->tested; i++, r++) {
                grp[r] = gr->name;
                var[r] = "contribution";
                gene[r] = x->genes[gr->contrib_gene[i]];
                rank[r] = (int64_t)i + 1;
                key[r] = i < gr->n_contrib_key;
                q[r] = NAN;
                for (size_t k = 0; k < EXPLAIN_N_METRICS; k++) met[k * ng + r] = NAN;
                contrib[r] = gr->contrib[i];
            }
            for (int v = 0; v < 2; v++) {
                const ExplainNet *net = v ? &e->group[g].all : &e->group[g].net;
                for (size_t i = 0; i < net->n; i++, r++) {
                    grp[r] = e->group[g].name;
                    var[r] = v ? "allgenes" : "top2";
                    gene[r] = x->genes[net->node[i].gene];
                    rank[r] = (int64_t)net->node[i].rank;
                    key[r] = net->node[i].key;
                    q[r] = net->node[i].q;
                    for (size_t k = 0; k < EXPLAIN_N_METRICS; k++) met[k * ng + r] = net->node[i].metric[k];
                    contrib[r] = contribution_of(gr, net->node[i].gene);
                }
            }
        }
        h5ad_write_uns_strings(w, "kida_explain/genes/group", grp, ng);
        h5ad_write_uns_strings(w, "kida_explain/genes/variant", var, ng);
        h5ad_write_uns_strings(w, "kida_explain/genes/gene", gene, ng);
        h5ad_write_uns_i64_array(w, "kida_explain/genes/rank", rank, ng);
        h5ad_write_uns_i64_array(w, "kida_explain/genes/key", key, ng);
        h5ad_write_uns_f64_array(w, "kida_explain/genes/q", q, ng);
        h5ad_write_uns_f64_array(w, "kida_explain/genes/contribution", contrib, ng);
        for (size_t k = 0; k < EXPLAIN_N_METRICS; k++) {
            char p[128];
            snprintf(p, sizeof p, "kida_explain/genes/%s", EXPLAIN_METRIC_NAMES[k]);
            h5ad_write_uns_f64_array(w, p, &met[k * ng], ng);
        }
        free(grp); free(var); free(gene); free(rank); free(key); free(q); free(met); free(contrib);
    }
    h5ad_writer_commit(w);
    free(gn);
    free(gc);
}

// ---- the expression side: how each group's model input differs from the rest's ----------------

// delta (n_groups, G): per group, the mean model input x̃_g (docs/preprocessing.md) of its cells
// minus the mean over the other grouped cells (cells in no group are in neither). The annotated
// file's X is read as the model reads a query. NULL, with a warning, when fewer than half of the
// model genes are in the file (an ATAC file of peaks, say): key genes then follow the paper's
// type-independent P_j alone.
static double *group_deltas(const Config *c, const ModelSpec *spec, const int32_t *group, size_t n, size_t n_groups) {
    Dist self = {.rank = 0, .size = 1, .local_rank = 0, .local_size = 1, .node = 0, .n_nodes = 1,
                 .comm = MPI_COMM_SELF, .local_comm = MPI_COMM_SELF, .host = "local"};
    H5ad *h = h5ad_open(c->pred, NULL, 0, NULL);
    size_t G = spec->prep.G, nv = h5ad_n_vars(h), matched = 0;
    h5ad_close(h);
    Config qc = *c;
    qc.query = c->pred;
    qc.min_gene_overlap = 0.0;  // judged below, with a warning instead of an error
    Dataset q;
    dataset_open_query(&q, &spec->prep, &qc, &self);
    for (size_t j = 0; j < nv && q.src.n; j++) matched += q.col[0][j] >= 0;
    if (q.n_total != n || 2 * matched < G) {
        log_warn("%s: X holds %zu of the model's %zu genes: key genes by contribution need the cells' expression, "
                 "so only the paper's P_j ranking is reported", c->pred, matched, G);
        dataset_free(&q);
        return NULL;
    }
    double *sum = xcalloc((n_groups + 1) * G, sizeof(double));  // per group, then over every grouped cell
    size_t *cnt = xcalloc(n_groups + 1, sizeof(size_t));
    for (size_t lo = 0; lo < n; lo += DATASET_BLOCK) {
        size_t nb = n - lo < DATASET_BLOCK ? n - lo : DATASET_BLOCK;
        Csr x = dataset_query_rows(&q, &spec->prep, lo, nb, 1);  // x̃ − zero of the nonzero genes
        for (size_t i = 0; i < nb; i++) {
            int32_t gi = group[lo + i];
            if (gi < 0) continue;
            cnt[gi]++, cnt[n_groups]++;
            for (int64_t k = x.indptr[i]; k < x.indptr[i + 1]; k++) {
                sum[(size_t)gi * G + (size_t)x.indices[k]] += x.data[k];
                sum[n_groups * G + (size_t)x.indices[k]] += x.data[k];
            }
        }
        csr_free(&x);
    }
    dataset_free(&q);
    double *delta = xcalloc((n_groups ? n_groups : 1) * G, sizeof(double));
    for (size_t t = 0; t < n_groups; t++) {
        size_t in = cnt[t], out = cnt[n_groups] - cnt[t];
        if (!in || !out) continue;
        for (size_t g = 0; g < G; g++)  // the zero value cancels in the difference
            delta[t * G + g] = sum[t * G + g] / (double)in - (sum[n_groups * G + g] - sum[t * G + g]) / (double)out;
    }
    free(sum);
    free(cnt);
    return delta;
}

// ---- the command -----------------------------------------------------------------------------

int cmd_explain(const Config *c, const Dist *d) {
    if (!c->model || !*c->model) FATAL("give the model with --model MODEL.h5 (written by kida annotate/train)", "kida explain needs --model");
    if (!c->pred || !*c->pred) FATAL("give the annotated file with --pred OUT.h5ad (written by kida annotate/predict)", "kida explain needs --pred");
    char *prefix = output_prefix(c);
    const char *ext[5] = {".pathways.tsv", ".genes.tsv", ".edges.tsv", ".json", ".h5ad"};
    char *path[5];
    for (int k = 0; k < 5; k++) {
        path[k] = cat2(prefix, ext[k]);
        fit_check_output(path[k], c->overwrite, "--out");
    }
    if (!strcmp(path[4], c->pred)) FATAL("give another --out prefix", "--out %s would replace the input %s", prefix, c->pred);
    if (d->rank != 0) {
        for (int k = 0; k < 5; k++) free(path[k]);
        free(prefix);
        return 0;
    }
    ExplainOptions opt = explain_options_default();
    if (c->group_key && *c->group_key) opt.group_key = c->group_key;
    int by_prediction = !strcmp(opt.group_key, "kida_label") || !strcmp(opt.group_key, "kida_label_raw");

    // model: spec + the embedding weights of the model that made the labels
    ModelSpec spec;
    modelfile_read_spec(c->model, &spec);
    const char *which = modelfile_has(c->model, "student") ? "student" : "teacher";
    PathwayMap map = pathmap_build(spec.pw.P, spec.prep.G, spec.pw.path_ptr, spec.pw.member_gene);
    Model m;
    model_init(&m, &spec.mc, &map, 1, 0);
    modelfile_read_params(c->model, which, &m, 0);
    size_t P = spec.pw.P, C = spec.mc.C;

    // annotated file: attention and the groups
    H5ad *h = h5ad_open(c->pred, NULL, 0, NULL);
    size_t n = h5ad_n_obs(h), cols = 0;
    float *attn = h5ad_obsm(h, "kida_pathway_attn", 0, n, &cols);  // (n,P)
    if (!attn) FATAL("give a file written by kida annotate or kida predict", "%s: obsm has no kida_pathway_attn", c->pred);
    if (cols != P)
        FATAL("give the model that annotated this file (--model) and its output (--pred)",
              "%s: obsm kida_pathway_attn has %zu pathway columns but model %s has %zu pathways", c->pred, cols, c->model, P);
    for (size_t i = 0; i < n * P; i++)
        if (!isfinite(attn[i]))
            FATAL("re-run kida predict to rewrite the file", "%s: obsm kida_pathway_attn has a non-finite value in row %zu", c->pred,
                  i / P);
    if (!h5ad_has_obs(h, opt.group_key))
        FATAL("give an obs column of the annotated file with --group-key (`kida inspect` lists them)",
              "%s: obs has no %s column (--group-key)", c->pred, opt.group_key);
    char **cats = NULL;
    size_t n_cats = 0;
    int32_t *group = h5ad_obs_labels(h, opt.group_key, 0, n, &cats, &n_cats);
    h5ad_close(h);
    // drop the "unknown" category: those cells are in no group and not in any rest
    size_t n_groups = 0;
    int32_t *remap = xmalloc((n_cats ? n_cats : 1) * sizeof(int32_t));
    char **names = xmalloc((n_cats ? n_cats : 1) * sizeof(char *));
    for (size_t k = 0; k < n_cats; k++) {
        remap[k] = strcmp(cats[k], "unknown") ? (int32_t)n_groups : -1;
        if (remap[k] >= 0) names[n_groups++] = cats[k];
        int known = !by_prediction || !strcmp(cats[k], "unknown");
        for (size_t j = 0; j < spec.K && !known; j++) known = !strcmp(cats[k], spec.classes[j]);
        if (!known) log_warn("%s: label '%s' of obs %s is not a class of model %s; was the file annotated by another model?",
                             c->pred, cats[k], opt.group_key, c->model);
    }
    size_t n_used = 0;
    for (size_t i = 0; i < n; i++) {
        group[i] = group[i] >= 0 ? remap[group[i]] : -1;
        n_used += group[i] >= 0;
    }
    log_info("explain: %s (%s weights, %zu pathways, width %zu) on %s: %zu of %zu cells in %zu groups (obs %s, "
             "unknown left out)", c->model, which, P, C, c->pred, n_used, n, n_groups, opt.group_key);

    double *delta = group_deltas(c, &spec, group, n, n_groups);
    Explain e;
    explain_run(&e, &spec, m.p.emb_w, C, attn, n, group, names, n_groups, delta, &opt);
    free(delta);
    int have_graph = 0;
    for (size_t g = 0; g < n_groups; g++) have_graph |= e.group[g].tested && e.group[g].net.have_metrics;
    if (!have_graph) log_warn("this build has no igraph: gene networks were built but not scored (no key genes)");

    Ctx x = {&e, &spec, spec.prep.gene_names};
    for (size_t g = 0; g < n_groups; g++) {
        const ExplainGroup *gr = &e.group[g];
        if (!gr->tested) {
            if (gr->n_cells) log_info("  %-20s %6zu cells: too few cells to test", gr->name, gr->n_cells);
            continue;
        }
        char keys[512] = "", all[512] = "";
        for (int v = 0; v < 2; v++) {
            const ExplainNet *net = v ? &gr->all : &gr->net;
            char *buf = v ? all : keys;
            size_t len = 0;
            for (size_t i = 0; i < net->n && net->node[i].key; i++)
                if (len + strlen(x.genes[net->node[i].gene]) + 3 < sizeof keys)
                    len += (size_t)snprintf(buf + len, sizeof keys - len, "%s%s", len ? ", " : "", x.genes[net->node[i].gene]);
        }
        char contrib[512] = "";
        for (size_t i = 0, len = 0; i < gr->n_contrib_key; i++)
            if (len + strlen(x.genes[gr->contrib_gene[i]]) + 3 < sizeof contrib)
                len += (size_t)snprintf(contrib + len, sizeof contrib - len, "%s%s", len ? ", " : "", x.genes[gr->contrib_gene[i]]);
        log_info("  %-20s %6zu cells: top pathway %s (AUC %.3f); key genes %s | network: %s | all-genes network (%zu): %s",
                 gr->name, gr->n_cells, gr->n_top ? spec.pw.names[gr->top[0]] : "-",
                 gr->n_top ? e.test[g * P + gr->top[0]].auc : NAN, gr->contrib ? contrib : "-", keys, gr->all.n, all);
    }
    write_pathways_tsv(&x, path[0]);
    write_genes_tsv(&x, path[1]);
    write_edges_tsv(&x, path[2]);
    write_json(&x, path[3], c->model, c->pred, which);
    write_uns(&x, path[4], c->pred, c->overwrite, which);
    log_info("explain written: %s{.pathways.tsv,.genes.tsv,.edges.tsv,.json,.h5ad}", prefix);

    explain_free(&e);
    free(remap);
    free(names);
    strv_free(cats, n_cats);
    free(group);
    free(attn);
    model_free(&m);
    pathmap_free(&map);
    modelspec_free(&spec);
    for (int k = 0; k < 5; k++) free(path[k]);
    free(prefix);
    return 0;
}
