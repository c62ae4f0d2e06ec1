// prep_testutil: small helpers shared by the prep area's unit tests: checks that count failures,
// a scratch directory, fixture files, and running a call that must end in a FATAL error in a
// child process (its exit status and stderr are checked). Exit codes: 0 pass, 1 fail, 99 setup.
#ifndef KIDA_PREP_TESTUTIL_H
#define KIDA_PREP_TESTUTIL_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/io/run_child.h"

static int t_fail = 0;

#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        int ok_ = !!(cond);                                                                   \
        if (!ok_) t_fail = 1;                                                                 \
        printf("%-4s ", ok_ ? "ok" : "FAIL");                                                 \
        printf(__VA_ARGS__);                                                                  \
        printf("\n");                                                                         \
    } while (0)

// |got - want| <= atol + rtol |want| (NaN fails unless both are NaN).
static inline int t_close(double got, double want, double rtol, double atol) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    return fabs(got - want) <= atol + rtol * fabs(want);
}

static inline void t_setup_fail(const char *what) {
    fprintf(stderr, "setup error: %s\n", what);
    exit(99);
}

// A fresh scratch directory under $TMPDIR (or /tmp); removed by t_cleanup.
static char t_dir[512];
static inline void t_mkdir(void) {
    const char *base = getenv("TMPDIR");
    snprintf(t_dir, sizeof t_dir, "%s/kida_prep_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(t_dir)) t_setup_fail("mkdtemp");
}
static inline void t_cleanup(void) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t_dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", t_dir);
}
// Path of name inside the scratch directory (static buffer rotated over 8 calls).
static inline const char *t_path(const char *name) {
    static char buf[8][600];
    static int i = 0;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", t_dir, name);
    return buf[i];
}
static inline void t_write(const char *name, const char *text) {
    FILE *f = fopen(t_path(name), "wb");
    if (!f || fwrite(text, 1, strlen(text), f) != strlen(text) || fclose(f) != 0) t_setup_fail("write fixture");
}
static inline void t_write_gz(const char *name, const char *text) {
    gzFile g = gzopen(t_path(name), "wb");
    if (!g || gzwrite(g, text, (unsigned)strlen(text)) != (int)strlen(text) || gzclose(g) != Z_OK)
        t_setup_fail("write gz fixture");
}

// Runs fn(arg) in a child; passes when the child exits with status 1 (FATAL) and its stderr
// contains every string of `want` (NULL-terminated list). Prints the child's stderr on failure.
static inline void t_expect_fatal(const char *what, void (*fn)(void *), void *arg, const char *const *want) {
    char err[8192];
    int code = run_child(fn, arg, err, sizeof err);
    int ok = code == 1;
    for (const char *const *w = want; ok && *w; w++) ok = strstr(err, *w) != NULL;
    CHECK(ok, "FATAL: %s", what);
    if (!ok) fprintf(stdout, "     child status %d, stderr:\n%s\n", code, err);
}
#endif
