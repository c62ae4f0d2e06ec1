// log: see log.h.
#include "core/log.h"

#include <limits.h>
#include <mpi.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_rank = 0, g_size = 1, g_quiet = 0, g_fatal_silent = 0;
static void (*g_at_fatal[16])(void);
static int g_n_at_fatal = 0;

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

void log_at_fatal(void (*fn)(void)) {
    for (int i = 0; i < g_n_at_fatal; i++)
        if (g_at_fatal[i] == fn) return;
    if (g_n_at_fatal == (int)(sizeof g_at_fatal / sizeof g_at_fatal[0]))
        FATAL("a bug in kida: please report it", "log_at_fatal: more than %d functions", g_n_at_fatal);
    g_at_fatal[g_n_at_fatal++] = fn;
}

void log_set_fatal_silent(int silent) { g_fatal_silent = silent; }

#define N_CONTEXT 8
static char g_context[N_CONTEXT][384];
static int g_n_context = 0;

void log_push_context(const char *fmt, ...) {
    if (g_n_context < N_CONTEXT) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g_context[g_n_context], sizeof g_context[0], fmt, ap);
        va_end(ap);
    }
    g_n_context++;
}

void log_pop_context(void) {
    if (g_n_context > 0) g_n_context--;
}

void fatal_at(const char *file, int line, const char *hint, const char *fmt, ...) {
    if (!g_fatal_silent) {
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
    }
    g_n_context = 0;
    // each function runs once even if it fails fatally itself
    while (g_n_at_fatal > 0) g_at_fatal[--g_n_at_fatal]();
    int up = 0, down = 0;
    MPI_Initialized(&up);
    if (up) MPI_Finalized(&down);
    if (up && !down && g_size > 1) MPI_Abort(MPI_COMM_WORLD, KIDA_EXIT_FATAL);
    // _exit, not exit: libraries' exit handlers would flush what the error left half done
    // (libhdf5 1.10 closing a temporary whose write failed crashes in H5F__close_cb)
    fflush(NULL);
    _exit(KIDA_EXIT_FATAL);
}

#define HINT_OOM "this machine has too little memory for this input and these options: use more ranks " \
                 "(each holds its share of the cells), a smaller --batch-size or --width, or a larger machine"

// The out-of-memory error; what is "" when the caller did not say what the memory was for.
static _Noreturn void out_of_memory(size_t n, const char *what) {
    if (!*what && g_n_context > 0) what = g_context[(g_n_context < N_CONTEXT ? g_n_context : N_CONTEXT) - 1];
    const char *sep = *what ? ": " : "";
    if (n == (size_t)-1)
        FATAL("the file's sizes (or the options) are too large to be real; check the file and the options",
              "%s%ssize overflow: the memory asked for does not fit in %zu bits", what, sep, 8 * sizeof(size_t));
    FATAL(*what ? "check the file or option named: a damaged or unsuitable input can ask for more memory than a real "
                  "one needs; if it is right, use more ranks or a machine with more memory"
                : HINT_OOM,
          "%s%sout of memory (got NULL, want %zu bytes = %.3g GiB)", what, sep, n, (double)n / 1073741824.0);
}

void *xmalloc(size_t n) {
    void *p = n == (size_t)-1 ? NULL : malloc(n ? n : 1);
    if (!p) out_of_memory(n, "");
    return p;
}

void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(szmul(count, size), "");
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = n == (size_t)-1 ? NULL : realloc(p, n ? n : 1);
    if (!q) out_of_memory(n, "");
    return q;
}

// what[512]: the caller's what_fmt and its variable arguments, formatted.
#define FORMAT_WHAT(what, what_fmt)                 \
    char what[512];                                 \
    do {                                            \
        va_list ap;                                 \
        va_start(ap, what_fmt);                     \
        vsnprintf(what, sizeof what, what_fmt, ap); \
        va_end(ap);                                 \
    } while (0)

#define OOM_FOR(n, what_fmt)          \
    do {                              \
        FORMAT_WHAT(what, what_fmt);  \
        out_of_memory(n, what);       \
    } while (0)

void *xmalloc_for(size_t n, const char *what_fmt, ...) {
    void *p = n == (size_t)-1 ? NULL : malloc(n ? n : 1);
    if (!p) OOM_FOR(n, what_fmt);
    return p;
}

void *xcalloc_for(size_t count, size_t size, const char *what_fmt, ...) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) OOM_FOR(szmul(count, size), what_fmt);
    return p;
}

void *xrealloc_for(void *p, size_t n, const char *what_fmt, ...) {
    void *q = n == (size_t)-1 ? NULL : realloc(p, n ? n : 1);
    if (!q) OOM_FOR(n, what_fmt);
    return q;
}

#define HINT_SIZE "the option values or the file's sizes are too large to be real: check them " \
                  "(`kida COMMAND --help` states each option's range)"

// The fatal error of the checked size arithmetic: WHAT (from what_fmt): size overflow (DETAIL).
#define SIZE_FATAL(what_fmt, ...)                                           \
    do {                                                                    \
        FORMAT_WHAT(what, what_fmt);                                        \
        fatal_at(file, line, HINT_SIZE, "%s: size overflow (" __VA_ARGS__); \
    } while (0)

size_t szmul_at(const char *file, int line, size_t a, size_t b, const char *what_fmt, ...) {
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        SIZE_FATAL(what_fmt, "%zu x %zu does not fit in %zu bits)", what, a, b, 8 * sizeof(size_t));
    return r;
}

size_t szadd_at(const char *file, int line, size_t a, size_t b, const char *what_fmt, ...) {
    size_t r;
    if (__builtin_add_overflow(a, b, &r))
        SIZE_FATAL(what_fmt, "%zu + %zu does not fit in %zu bits)", what, a, b, 8 * sizeof(size_t));
    return r;
}

int szint_at(const char *file, int line, size_t n, const char *what_fmt, ...) {
    if (n > (size_t)INT_MAX) SIZE_FATAL(what_fmt, "got %zu, a BLAS int holds at most %d)", what, n, INT_MAX);
    return (int)n;
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
