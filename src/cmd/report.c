// cmd_report: `kida report OUT.h5ad --out FOLDER` — figures and an HTML page for an annotated
// file. The plotting lives in validation/report.py (scanpy + matplotlib); this command finds the
// script and a Python, runs it on rank 0, and turns its failures into kida errors with hints.
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/explain.h"
#include "core/atomic.h"
#include "core/log.h"

extern char **environ;

// report.py exits with this when scanpy or matplotlib cannot be imported.
enum { REPORT_EXIT_DEPS = 3 };

// The script: the source tree's validation/report.py, else the installed copy.
static char *find_script(void) {
    const char *roots[2] = {KIDA_SRCDIR, KIDA_PKGDATADIR};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(roots[i]) + 32;
        char *p = xmalloc(n);
        snprintf(p, n, "%s/validation/report.py", roots[i]);
        if (path_exists(p)) return p;
        free(p);
    }
    return NULL;
}

int cmd_report(const Config *c, const Dist *d) {
    if (!c->input || !*c->input) FATAL("usage: kida report OUT.h5ad --out FOLDER", "kida report needs an annotated file");
    if (!c->out || !*c->out) FATAL("give the folder for the figures with --out FOLDER", "kida report needs --out");
    if (!path_exists(c->input)) FATAL("give a file written by kida annotate or kida predict", "%s does not exist", c->input);
    if (d->rank != 0) return 0;
    char *script = find_script();
    if (!script) FATAL("run kida from its build or install it (make install puts report.py under the data folder)",
                       "validation/report.py not found under %s or %s", KIDA_SRCDIR, KIDA_PKGDATADIR);
    const char *python = getenv("KIDA_PYTHON");
    if (!python || !*python) python = "python3";
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) snprintf(self, sizeof self, "kida");
    else self[len] = 0;
    char *argv[16];
    int a = 0;
    argv[a++] = (char *)python;
    argv[a++] = script;
    argv[a++] = c->input;
    argv[a++] = "--out";
    argv[a++] = c->out;
    argv[a++] = "--truth-key";
    argv[a++] = c->truth_key ? c->truth_key : "cell_type";
    argv[a++] = "--kida";
    argv[a++] = self;
    if (c->overwrite) argv[a++] = "--overwrite";
    argv[a] = NULL;
    log_info("report: %s %s %s --out %s", python, script, c->input, c->out);
    fflush(stdout);
    fflush(stderr);
    pid_t pid;
    int rc = posix_spawnp(&pid, python, NULL, NULL, argv, environ);
    if (rc != 0)
        FATAL("install Python 3 with scanpy and matplotlib (pip install scanpy matplotlib), or point KIDA_PYTHON at one",
              "cannot start %s: %s", python, strerror(rc));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) FATAL("this is a system failure; try again", "waiting for %s failed: %s", python, strerror(errno));
    free(script);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == REPORT_EXIT_DEPS)
        FATAL("pip install scanpy matplotlib networkx (or set KIDA_PYTHON to a Python that has them)",
              "%s lacks the report's Python packages", python);
    FATAL("read the Python message above; the input must be a file written by kida annotate or kida predict",
          "validation/report.py failed on %s (%s %d)", c->input, WIFEXITED(status) ? "exit" : "signal",
          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}
