// log: see log.h.
#include "core/log.h"

#include <mpi.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

static int g_rank = 0, g_size = 1, g_quiet = 0;
static void (*g_fatal_hook)(void);

void log_set_fatal_hook(void (*fn)(void)) { g_fatal_hook = fn; }

void log_set_rank(int rank, int size) { g_rank = rank; g_size = size; }
int log_rank(void) { return g_rank; }
void log_set_quiet(int quiet) { g_quiet = quiet; }

void log_info(const char *fmt, ...) {
    if (g_rank != 0 || g_quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void log_warn(const char *fmt, ...) {
    if (g_rank != 0) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("WARNING: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void fatal_at(const char *file, int line, const char *hint, const char *fmt, ...) {
    const char *base = strrchr(file, '/');
    fflush(stdout);
    fprintf(stderr, "[rank %d] ERROR %s:%d: ", g_rank, base ? base + 1 : file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (hint && *hint) fprintf(stderr, "HINT: %s\n", hint);
    fflush(stderr);
    void (*hook)(void) = g_fatal_hook;
    g_fatal_hook = NULL;   // a fatal error inside the hook does not run it again
    if (hook) hook();
    int up = 0, down = 0;
    MPI_Initialized(&up);
    if (up) MPI_Finalized(&down);
    if (up && !down && g_size > 1) MPI_Abort(MPI_COMM_WORLD, KIDA_EXIT_FATAL);
    exit(KIDA_EXIT_FATAL);
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) FATAL("reduce --batch-size or use more ranks", "out of memory (got NULL, want %zu bytes)", n);
    return p;
}

void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) FATAL("reduce --batch-size or use more ranks", "out of memory (got NULL, want %zu x %zu bytes)", count, size);
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) FATAL("reduce --batch-size or use more ranks", "out of memory (got NULL, want %zu bytes)", n);
    return q;
}

char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = xmalloc(n);
    memcpy(d, s, n);
    return d;
}

double wall_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
