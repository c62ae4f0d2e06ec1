// test_token_deps: each pathway token sees exactly its member genes.
// 1. The inverse index lists, for every gene, exactly the membership rows of that gene.
// 2. Changing gene g of one cell changes exactly the layer-0 tokens j with g ∈ G_j of that cell
//    (the expected set comes from path_ptr/member_gene, not from the inverse index), never the
//    cls token, never another cell. Changing the zero-count value z_g changes the same tokens in
//    every cell.
// 3. emb_w has exactly M rows (memberships, no gene × pathway block), and each row r feeds only
//    the token that owns it.
// 4. pathmap_build rejects bad maps with exit code 1 (gene out of range, empty token, unsorted).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/model.h"
#include "tests/model/model_fixtures.h"

static int failures = 0;

static void expect(int ok, const char *fmt, size_t a, size_t b) {
    if (ok) return;
    printf("FAIL: ");
    printf(fmt, a, b);
    printf("\n");
    failures++;
}

// Runs pathmap_build on a bad map in a child; it must exit with 1.
static void expect_rejected(const char *what, size_t P, size_t G, const size_t *ptr, const int32_t *genes) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        pathmap_build(P, G, ptr, genes);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 1;
    printf("bad map (%s): %s\n", what, ok ? "rejected, ok" : "ACCEPTED, FAIL");
    if (!ok) failures++;
}

// Which (cell, token) blocks of two (B,T,C) tensors differ.
static void changed_tokens(int *out, const float *a, const float *b, size_t B, size_t T, size_t C) {
    for (size_t k = 0; k < B * T; k++) {
        out[k] = 0;
        for (size_t c = 0; c < C; c++) out[k] |= a[k * C + c] != b[k * C + c];
    }
}

static int member(const PathwayMap *m, size_t j, size_t g) {
    for (size_t r = m->path_ptr[j]; r < m->path_ptr[j + 1]; r++)
        if ((size_t)m->member_gene[r] == g) return 1;
    return 0;
}

// A copy of x where cell b's gene g has value v (inserted if absent).
static Csr with_value(const Csr *x, size_t b, int32_t g, float v) {
    Csr y = csr_alloc(x->n_rows, x->n_cols, csr_nnz(x) + 1);
    int64_t k = 0;
    for (size_t i = 0; i < x->n_rows; i++) {
        int done = i != b;
        for (int64_t q = x->indptr[i]; q < x->indptr[i + 1]; q++) {
            if (!done && x->indices[q] >= g) {
                y.indices[k] = g, y.data[k++] = v, done = 1;
                if (x->indices[q] == g) continue;
            }
            y.indices[k] = x->indices[q], y.data[k++] = x->data[q];
        }
        if (!done) y.indices[k] = g, y.data[k++] = v;
        y.indptr[i + 1] = k;
    }
    return y;
}

int main(void) {
    size_t ptr_bad[3] = {0, 2, 3};
    int32_t g_range[3] = {1, 9, 2}, g_unsorted[3] = {3, 1, 2};
    size_t ptr_empty[3] = {0, 0, 3};
    int32_t g_ok[3] = {0, 1, 2};
    expect_rejected("gene out of range", 2, 5, ptr_bad, g_range);
    expect_rejected("token without genes", 2, 5, ptr_empty, g_ok);
    expect_rejected("genes not ascending", 2, 5, ptr_bad, g_unsorted);

    size_t B = 3, G = 23, P = 7, C = 8, T = P + 1;
    PathwayMap map = fixture_map(P, G, 0.25, 201);
    // 1. inverse index
    for (size_t g = 0; g < G; g++) {
        size_t q = map.gene_ptr[g];
        for (size_t r = 0; r < map.M; r++)
            if ((size_t)map.member_gene[r] == g) {
                expect(q < map.gene_ptr[g + 1] && map.gene_rows[q] == r, "inverse index: gene %zu misses row %zu", g, r);
                q++;
            }
        expect(q == map.gene_ptr[g + 1], "inverse index: gene %zu has %zu extra rows", g, map.gene_ptr[g + 1] - q);
    }
    size_t orphans = 0, shared = 0;
    for (size_t g = 0; g < G; g++) {
        orphans += map.gene_ptr[g + 1] == map.gene_ptr[g];
        shared += map.gene_ptr[g + 1] - map.gene_ptr[g] > 1;
    }
    printf("map: P = %zu, G = %zu, M = %zu; %zu genes in no token, %zu in several\n", P, G, map.M, orphans, shared);

    ModelConfig c = fixture_config(&map, C, 2, 1, 3, 0.0f);
    Model m;
    model_init(&m, &c, &map, B, 1);
    model_init_weights(&m, 9);
    fixture_fill(m.gene_zero, G, 0.5f, 202, 1);
    Csr x = fixture_batch(B, G, 0.3, 203, 0);
    int64_t cells[3] = {0, 1, 2};
    float *base = xmalloc(B * T * C * sizeof(float));
    int *diff = xmalloc(B * T * sizeof(int));
    model_forward(&m, &x, cells, 0, 1);
    memcpy(base, m.a.resid, B * T * C * sizeof(float));

    // 2. one gene of cell 1 at a time
    size_t b = 1, checked = 0;
    for (size_t g = 0; g < G; g++) {
        Csr y = with_value(&x, b, (int32_t)g, 1.75f);
        model_forward(&m, &y, cells, 0, 1);
        changed_tokens(diff, base, m.a.resid, B, T, C);
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < T; j++) {
                int want = i == b && j < P && member(&map, j, g);
                expect(diff[i * T + j] == want, "gene %zu: token %zu changed wrongly", g, i * T + j);
                checked++;
            }
        csr_free(&y);
    }
    // the zero-count value of gene g moves the same tokens in every cell
    for (size_t g = 0; g < G; g++) {
        float keep = m.gene_zero[g];
        m.gene_zero[g] = keep + 0.5f;
        model_forward(&m, &x, cells, 0, 1);
        m.gene_zero[g] = keep;
        changed_tokens(diff, base, m.a.resid, B, T, C);
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < T; j++) {
                int want = j < P && member(&map, j, g);
                expect(diff[i * T + j] == want, "zero of gene %zu: token %zu changed wrongly", g, i * T + j);
                checked++;
            }
    }
    // 3. emb_w is (M,C) and row r feeds only its own token
    size_t sizes[N_PARAM_TENSORS], total = 0;
    model_param_shapes(&c, sizes);
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) total += sizes[i];
    expect(sizes[0] == map.M * C, "emb_w has %zu elements, want M*C = %zu", sizes[0], map.M * C);
    expect(total == m.n_params, "parameter count %zu, want %zu", m.n_params, total);
    expect(m.p.emb_b == m.p.emb_w + map.M * C, "emb_b does not follow emb_w's %zu rows (C = %zu)", map.M, C);
    for (size_t r = 0; r < map.M; r++) {
        float keep = m.p.emb_w[r * C];
        m.p.emb_w[r * C] = keep + 1.0f;
        model_forward(&m, &x, cells, 0, 1);
        m.p.emb_w[r * C] = keep;
        changed_tokens(diff, base, m.a.resid, B, T, C);
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < T; j++) {
                expect(diff[i * T + j] == (j == map.row_token[r]), "emb_w row %zu: token %zu changed wrongly", r,
                       i * T + j);
                checked++;
            }
    }
    printf("%zu token checks\n", checked);
    free(base), free(diff);
    model_free(&m);
    csr_free(&x);
    pathmap_free(&map);
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
