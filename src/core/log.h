// log: rank-aware messages and fatal errors.
// Only rank 0 prints info and warnings; any rank prints its own fatal error, then every rank is
// aborted (MPI_Abort when MPI is up, exit(1) otherwise). Fatal messages read
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
// fn runs once on a fatal error, after the message and before the abort (core/atomic.c removes
// unfinished temporary files with it).
void log_set_fatal_hook(void (*fn)(void));

// Checked allocation: size 0 returns a valid pointer; failure is fatal with the size asked.
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
// Wall-clock seconds (monotonic).
double wall_time(void);
#endif
