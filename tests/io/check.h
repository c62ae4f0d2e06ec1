// check: the counting assertion of the C tests that run many independent checks. CHECK(cond,
// fmt, ...) counts a pass, or counts a failure and prints where and why; main() reports
// n_pass / n_fail and exits 1 on any failure.
#ifndef KIDA_TESTS_CHECK_H
#define KIDA_TESTS_CHECK_H
#include <stdio.h>

static int n_pass, n_fail;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) n_pass++;                                                \
        else {                                                             \
            n_fail++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)
#endif
