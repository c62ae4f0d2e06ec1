// log: rank-aware messages and fatal errors.
// Only rank 0 prints info and warnings; any rank prints its own fatal error, then every rank is
// aborted (MPI_Abort when MPI is up, _exit(1) otherwise: no exit handlers run). Fatal messages read
//   [rank r] ERROR file:line: what failed: detail
//   HINT: what the user should do
#ifndef KIDA_LOG_H
#define KIDA_LOG_H
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

void log_set_rank(int rank, int size);
int log_rank(void);
void log_set_quiet(int quiet);                 // 1: rank 0 prints warnings and errors only
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Exit code used by fatal errors (1); tests of bad input expect it.
#define KIDA_EXIT_FATAL 1
_Noreturn void fatal_at(const char *file, int line, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define FATAL(hint, ...) fatal_at(__FILE__, __LINE__, (hint), __VA_ARGS__)

// Functions run (last registered first) by a fatal error before the process ends: removal of
// temporary files, release of locks. At most 16; a test harness may register one that longjmps
// out instead of ending the process (the fuzz targets do).
void log_at_fatal(void (*fn)(void));
// 1: fatal errors print nothing (the fuzz targets, which hit thousands of them).
void log_set_fatal_silent(int silent);

// Checked allocation: size 0 returns a valid pointer; failure is fatal with the size asked.
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
// The same, for memory whose size follows the input or the options: the error names what the
// memory was for (what_fmt and its arguments, e.g. "%s: '%s' rows %zu..%zu", file, field, a, b),
// formatted only when the allocation fails. A size of SIZE_MAX (from szmul/szadd) is reported
// as an overflow.
void *xmalloc_for(size_t n, const char *what_fmt, ...) __attribute__((format(printf, 2, 3)));
void *xrealloc_for(void *p, size_t n, const char *what_fmt, ...) __attribute__((format(printf, 3, 4)));
// Zeroed count x size bytes (the product checked), the error naming what the memory was for.
void *xcalloc_for(size_t count, size_t size, const char *what_fmt, ...) __attribute__((format(printf, 3, 4)));
// What the process is doing (e.g. "ref.h5ad: reading rows [0, 4096) of 'X'"), named by an
// out-of-memory error from any allocation until the matching pop; nestable (8 deep kept). A
// fatal error clears the stack.
void log_push_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_pop_context(void);
// Overflow-checked size arithmetic: SIZE_MAX when the exact result does not fit, which every
// allocator above refuses, naming what it was for.
static inline size_t szmul(size_t a, size_t b) {
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? (size_t)-1 : r;
}
static inline size_t szadd(size_t a, size_t b) {
    size_t r;
    return __builtin_add_overflow(a, b, &r) ? (size_t)-1 : r;
}
// The same, stopping the run when the exact result does not fit: FATAL "WHAT: size overflow
// (A x B does not fit in 64 bits)", what_fmt formatted only then, e.g.
//   n = szmul_for(L, C, "model: parameter layout for %zu layers x width %zu", L, C);
// For sizes that are kept (layouts, offsets) rather than handed straight to an allocator. The
// error names the caller's file and line.
#define szmul_for(a, b, ...) szmul_at(__FILE__, __LINE__, (a), (b), __VA_ARGS__)
#define szadd_for(a, b, ...) szadd_at(__FILE__, __LINE__, (a), (b), __VA_ARGS__)
// n as an int, for BLAS dimension and leading-dimension arguments: FATAL naming what when
// n > INT_MAX (BLAS would read a wrapped, negative size).
#define szint_for(n, ...) szint_at(__FILE__, __LINE__, (n), __VA_ARGS__)
size_t szmul_at(const char *file, int line, size_t a, size_t b, const char *what_fmt, ...)
    __attribute__((format(printf, 5, 6)));
size_t szadd_at(const char *file, int line, size_t a, size_t b, const char *what_fmt, ...)
    __attribute__((format(printf, 5, 6)));
int szint_at(const char *file, int line, size_t n, const char *what_fmt, ...) __attribute__((format(printf, 4, 5)));
// Wall-clock seconds (monotonic).
double wall_time(void);
#endif
