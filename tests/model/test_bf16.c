// test_bf16: the bf16 products (src/model/matmul_bf16.c, --precision bf16).
// 1. Rounding to bfloat16: known values (ties to even, carries into the exponent, signs) and, on
//    random floats of every tail length, the dispatched rounding equals a plain reference.
// 2. Each product (forward with and without accumulation, both gradients of a linear layer)
//    equals, to fp32 accumulation error (relative 1e-5), the double-precision product of the
//    bf16-rounded operands: shapes, transposes and the weight mirror are right. Weights inside
//    and outside the mirror, small shapes and the paper network's (301 rows).
// 3. The whole model in bf16 against fp32: logits and gradients within bf16 error, and a cell's
//    logits the same bit for bit alone and in a batch of 7 with 2 threads.
// Parts 2 and 3 need a build with oneDNN on a CPU with AMX-BF16 or AVX512-BF16; without them the
// test runs part 1 and exits 77 (skipped).
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "model/matmul.h"
#include "model/matmul_bf16.h"
#include "mpi/exchange.h"
#include "tests/model/model_fixtures.h"

static int failures = 0;

static void check(int ok, const char *fmt, double v) {
    printf("%-64s %.3g %s\n", fmt, v, ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

static uint16_t ref_round(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t lower = u & 0xffffu, up = u >> 16;
    if (lower > 0x8000u || (lower == 0x8000u && (up & 1u))) up++;
    return (uint16_t)up;
}

static float from_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void test_rounding(void) {
    const float in[] = {1.0f, 1.0f + 0x1p-8f, 1.0f + 0x3p-8f, 1.0f + 0x1p-8f + 0x1p-20f, -2.5f, 0x1.ffp0f, 0.0f,
                        -0.0f, 3.0e38f};
    const uint16_t want[] = {0x3f80, 0x3f80, 0x3f82, 0x3f81, 0xc020, 0x4000, 0x0000, 0x8000, 0x7f62};
    size_t n = sizeof in / sizeof in[0];
    uint16_t got[16];
    mm_bf16_round(got, in, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += got[i] != want[i];
    check(bad == 0, "1. rounding: known values, differing", (double)bad);
    bad = 0;
    for (size_t len = 1; len <= 70; len++) {
        float x[70];
        uint16_t h[70];
        for (size_t i = 0; i < len; i++) x[i] = 3.0f * rng_normal(11, len, i, 0);
        mm_bf16_round(h, x, len);
        for (size_t i = 0; i < len; i++) bad += h[i] != ref_round(x[i]);
    }
    check(bad == 0, "1. rounding: random floats, lengths 1..70, differing", (double)bad);
}

// Rounds n floats through bf16 in place.
static void to_bf16(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = from_bf16(ref_round(x[i]));
}

static double rel_err_d(const float *got, const double *want, size_t n) {
    double num = 0.0, den = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (d > num || isnan(d)) num = isnan(d) ? INFINITY : d;
        if (fabs(want[i]) > den) den = fabs(want[i]);
    }
    return num / den;
}

static void test_products(size_t R, size_t K, size_t N, int mirrored) {
    float *a = xmalloc(R * K * 4), *w = xmalloc(N * K * 4), *d = xmalloc(R * N * 4), *out = xmalloc(R * N * 4);
    float *din = xmalloc(R * K * 4), *dw = xmalloc(N * K * 4), *bias = xmalloc(R * N * 4);
    double *ref = xmalloc((R * N + R * K + N * K) * sizeof(double));
    fixture_fill(a, R * K, 1.0f, 21, R);
    fixture_fill(w, N * K, 0.1f, 22, N);
    fixture_fill(d, R * N, 1.0f, 23, K);
    fixture_fill(bias, R * N, 1.0f, 24, 1);
    mm_weights_changed(mirrored ? w : bias, mirrored ? N * K : 1);  // a mirror that does or does not hold w
    // the products see bf16 operands: the reference takes the same rounded values
    float *ar = xmalloc(R * K * 4), *wr = xmalloc(N * K * 4), *dr = xmalloc(R * N * 4);
    memcpy(ar, a, R * K * 4), memcpy(wr, w, N * K * 4), memcpy(dr, d, R * N * 4);
    to_bf16(ar, R * K), to_bf16(wr, N * K), to_bf16(dr, R * N);
    char what[96];
    for (int acc = 0; acc < 2; acc++) {
        memcpy(out, bias, R * N * 4);
        mm_forward(out, a, w, R, K, N, acc);
        for (size_t r = 0; r < R; r++)
            for (size_t n = 0; n < N; n++) {
                double s = acc ? bias[r * N + n] : 0.0;
                for (size_t k = 0; k < K; k++) s += (double)ar[r * K + k] * wr[n * K + k];
                ref[r * N + n] = s;
            }
        double e = rel_err_d(out, ref, R * N);
        snprintf(what, sizeof what, "2. forward%s R=%zu K=%zu N=%zu%s, rel. error", acc ? " (acc)" : "", R, K, N,
                 mirrored ? " mirror" : "");
        check(e < 1e-5, what, e);
    }
    mm_backward_linear(din, dw, d, a, w, R, N, K);
    for (size_t n = 0; n < N; n++)
        for (size_t k = 0; k < K; k++) {
            double s = 0.0;
            for (size_t r = 0; r < R; r++) s += (double)dr[r * N + n] * ar[r * K + k];
            ref[n * K + k] = s;
        }
    double e = rel_err_d(dw, ref, N * K);
    snprintf(what, sizeof what, "2. weight gradient R=%zu K=%zu N=%zu, rel. error", R, K, N);
    check(e < 1e-5, what, e);
    for (size_t r = 0; r < R; r++)
        for (size_t k = 0; k < K; k++) {
            double s = 0.0;
            for (size_t n = 0; n < N; n++) s += (double)dr[r * N + n] * wr[n * K + k];
            ref[r * K + k] = s;
        }
    e = rel_err_d(din, ref, R * K);
    snprintf(what, sizeof what, "2. input gradient R=%zu K=%zu N=%zu, rel. error", R, K, N);
    check(e < 1e-5, what, e);
    free(a), free(w), free(d), free(out), free(din), free(dw), free(bias), free(ref), free(ar), free(wr), free(dr);
}

enum { NB = 7 };

// Logits and gradients of one forward + backward at the current precision.
static void model_pass(Model *m, const Csr *x, const int64_t *ids, const float *dl, float *logits, float *grads) {
    model_zero_grad(m);
    model_forward(m, x, ids, 1, 3);
    memcpy(logits, m->logits, NB * m->cfg.K * sizeof(float));
    model_backward(m, dl, NULL);
    memcpy(grads, m->grads, m->n_params * sizeof(float));
}

static void test_model(void) {
    size_t G = 40, P = 40, K = 5;
    PathwayMap map = fixture_map(P, G, 0.25, 601);
    Csr x = fixture_batch(NB, G, 0.4, 602, 0);
    int64_t ids[NB];
    for (size_t i = 0; i < NB; i++) ids[i] = (int64_t)i;
    ModelConfig cfg = fixture_config(&map, 32, 2, 2, K, 0.1f);
    Model m;
    model_init(&m, &cfg, &map, NB, 1);
    model_init_weights(&m, 7);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] += 0.05f * rng_normal(603, 1, i, 0);
    float *dl = xmalloc(NB * K * 4), *lo32 = xmalloc(NB * K * 4), *lo16 = xmalloc(NB * K * 4);
    float *g32 = xmalloc(m.n_params * 4), *g16 = xmalloc(m.n_params * 4);
    fixture_fill(dl, NB * K, 1.0f / NB, 604, 1);
    omp_set_num_threads(2);
    mm_set_precision(MM_FP32);
    model_pass(&m, &x, ids, dl, lo32, g32);
    mm_set_precision(MM_BF16);
    model_pass(&m, &x, ids, dl, lo16, g16);
    double el = fixture_rel_diff(lo16, lo32, NB * K), eg = fixture_rel_diff(g16, g32, m.n_params);
    check(el < 2e-2 && el > 0.0, "3. model logits bf16 vs fp32 (nonzero, < 2e-2), rel. diff", el);
    check(eg < 5e-2 && eg > 0.0, "3. model gradients bf16 vs fp32 (nonzero, < 5e-2), rel. diff", eg);
    // cell 4 alone, then in the batch: the same bits
    Csr one = csr_slice(&x, 4, 1);
    model_forward(&m, &one, ids + 4, 1, 3);
    size_t bad = (size_t)(memcmp(m.logits, lo16 + 4 * K, K * sizeof(float)) != 0);
    check(bad == 0, "3. bf16 logits of a cell alone = in a batch of 7 (2 threads), differ", (double)bad);
    mm_set_precision(MM_FP32);
    csr_free(&one), csr_free(&x);
    free(dl), free(lo32), free(lo16), free(g32), free(g16);
    model_free(&m);
    pathmap_free(&map);
}

int main(void) {
    test_rounding();
    if (!mm_bf16_ok()) {
        printf("bf16 products not available (oneDNN in this build: %s; AMX-BF16/AVX512-BF16: %s): parts 2-3 "
               "skipped\n",
               mm_bf16_build() ? "yes" : "no", cpu_bf16() ? "yes" : "no");
        return failures ? 1 : 77;
    }
    printf("products: %s\n", (mm_set_precision(MM_BF16), mm_precision_desc()));
    test_products(13, 32, 48, 1);
    test_products(13, 32, 48, 0);
    test_products(301, 128, 384, 1);
    test_products(7, 20, 9, 0);
    test_model();
    mm_bf16_release();
    printf("%s\n", failures ? "FAIL" : "all ok");
    return failures ? 1 : 0;
}
