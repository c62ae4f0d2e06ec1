// test_size_checks: the checked size arithmetic (src/core/log.h szmul_for, szadd_for, szint_for,
// xmalloc_for / xcalloc_for with szmul) gives exact results in range and, out of range, stops
// with exit 1 and an error that names what was being sized; and the model's own size paths (the
// parameter and activation layouts, the BLAS int arguments of the products, the attention scratch)
// stop the same way on sizes that overflow, before any memory is touched. Each fatal case runs in
// a child process whose stderr is read back. Exit 0 pass, 1 fail.
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "model/layers.h"
#include "model/matmul.h"
#include "model/model.h"
#include "tests/io/check.h"
#include "tests/io/run_child.h"


typedef struct { void (*fn)(void); } Call;
static void call(void *c) { ((Call *)c)->fn(); }

// Runs fn in a child; passes when it exits 1 and its stderr holds every one of want (up to 3,
// NULL-terminated) and a HINT line.
static void expect_fatal(const char *name, void (*fn)(void), const char *want[]) {
    char err[4096];
    int code = run_child(call, &(Call){fn}, err, sizeof err);
    CHECK(code == KIDA_EXIT_FATAL, "%s: exit %d (want %d); stderr: %s", name, code, KIDA_EXIT_FATAL, err);
    for (size_t i = 0; want[i]; i++) CHECK(strstr(err, want[i]), "%s: error lacks '%s'; stderr: %s", name, want[i], err);
    CHECK(strstr(err, "HINT: "), "%s: no HINT line; stderr: %s", name, err);
}

static const size_t BIG = (size_t)1 << 62;   // 4611686018427387904, the --layers value of issue 12

static void mul_overflow(void) { szmul_for(BIG, 4, "test: %d tensors", 7); }
static void add_overflow(void) { szadd_for(SIZE_MAX, 1, "test: offset"); }
static void int_overflow(void) { szint_for((size_t)INT_MAX + 1, "test: rows of %s", "a product"); }
static void malloc_overflow(void) { free(xmalloc_for(szmul(szmul(BIG, 3), sizeof(float)), "test: buffer of %s", "cells")); }
static void calloc_overflow(void) { free(xcalloc_for(BIG, 16, "test: zeroed %s", "sums")); }

static ModelConfig config(size_t L, size_t C) {
    return (ModelConfig){.G = 50, .P = 10, .T = 11, .M = 40, .C = C, .NH = 4, .L = L, .F = 4 * C, .K = 5};
}
static void param_layout_layers(void) {
    ModelConfig c = config(BIG, 128);
    model_param_layout(&(ParamTensors){0}, NULL, &c);
}
static void param_layout_width(void) {
    ModelConfig c = config(4, SIZE_MAX / 2);
    model_param_layout(&(ParamTensors){0}, NULL, &c);
}
static void act_layout_batch(void) {
    ModelConfig c = config(4, 128);
    model_act_layout(&(ActTensors){0}, NULL, &c, (size_t)1 << 60, 1);
}
static void mm_rows(void) { mm_forward(NULL, NULL, NULL, (size_t)INT_MAX + 1, 16, 16, 0); }
static void linear_inputs(void) { linear_forward(NULL, NULL, NULL, NULL, 4, (size_t)1 << 40, 8); }
static void attn_tokens(void) { attn_scratch_alloc((size_t)INT_MAX + 2, 1, 16, 0); }

int main(void) {
    // in range: exact
    CHECK(szmul_for(3, 5, "x") == 15, "szmul_for(3, 5)");
    CHECK(szmul_for(BIG, 3, "x") == 3 * BIG, "szmul_for(2^62, 3)");
    CHECK(szmul_for(0, SIZE_MAX, "x") == 0, "szmul_for(0, SIZE_MAX)");
    CHECK(szadd_for(SIZE_MAX - 1, 1, "x") == SIZE_MAX, "szadd_for(SIZE_MAX - 1, 1)");
    CHECK(szint_for((size_t)INT_MAX, "x") == INT_MAX, "szint_for(INT_MAX)");
    CHECK(szmul(BIG, 4) == SIZE_MAX && szmul(SIZE_MAX, 1) == SIZE_MAX, "szmul saturates");
    ModelConfig c = config(4, 128);
    size_t sizes[N_PARAM_TENSORS], sum = 0;
    model_param_shapes(&c, sizes);
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) sum += sizes[i];
    CHECK(model_param_layout(&(ParamTensors){0}, NULL, &c) == sum, "parameter layout at 4 layers x width 128");
    CHECK(sizes[5] == 4 * 3 * 128 * 128, "qkv_w of 4 layers x width 128: %zu", sizes[5]);

    // out of range: exit 1, what was sized, the sizes
    expect_fatal("szmul_for", mul_overflow,
                 (const char *[]){"test: 7 tensors: size overflow", "4611686018427387904 x 4 does not fit in 64 bits", NULL});
    expect_fatal("szadd_for", add_overflow, (const char *[]){"test: offset: size overflow", "+ 1 does not fit", NULL});
    expect_fatal("szint_for", int_overflow,
                 (const char *[]){"test: rows of a product: size overflow", "got 2147483648", "at most 2147483647", NULL});
    expect_fatal("xmalloc_for", malloc_overflow, (const char *[]){"test: buffer of cells: size overflow", NULL});
    expect_fatal("xcalloc_for", calloc_overflow, (const char *[]){"test: zeroed sums: size overflow", NULL});
    expect_fatal("model layers", param_layout_layers,
                 (const char *[]){"model: parameter layout for 4611686018427387904 layers x width 128", "size overflow", NULL});
    expect_fatal("model width", param_layout_width,
                 (const char *[]){"model: parameter layout for 4 layers x width 9223372036854775807", "size overflow", NULL});
    expect_fatal("model batch", act_layout_batch,
                 (const char *[]){"model: activations for a batch of 1152921504606846976 cells x 11 tokens x width 128",
                                  "size overflow", NULL});
    expect_fatal("mm_forward", mm_rows, (const char *[]){"mm_forward: rows (R = 2147483648", "a BLAS int", NULL});
    expect_fatal("linear_forward", linear_inputs,
                 (const char *[]){"linear_forward: inputs (N = 4, IC = 1099511627776, OC = 8)", "a BLAS int", NULL});
    expect_fatal("attention", attn_tokens, (const char *[]){"attention: 2147483649 tokens", "a BLAS int", NULL});

    if (n_fail) {
        printf("test_size_checks: %d failure(s)\n", n_fail);
        return 1;
    }
    printf("test_size_checks: all %d passed\n", n_pass);
    return 0;
}
