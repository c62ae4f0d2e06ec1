// atomic: see atomic.h.
#include "core/atomic.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/log.h"

// Temporaries in progress, removed by a fatal error.
static char **g_tmp = NULL;
static size_t g_n_tmp = 0;

static void remove_tmps(void) {
    for (size_t i = 0; i < g_n_tmp; i++) {
        unlink(g_tmp[i]);
        free(g_tmp[i]);
    }
    free(g_tmp);
    g_tmp = NULL;
    g_n_tmp = 0;
}

// A crash while temporaries are open: remove them (unlink is async-signal-safe), then let the
// signal do what it did before (the default, or a sanitizer's report).
static const int CRASH_SIGNALS[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define N_CRASH_SIGNALS (sizeof CRASH_SIGNALS / sizeof CRASH_SIGNALS[0])
static struct sigaction g_old_action[N_CRASH_SIGNALS];

static void on_crash(int sig) {
    for (size_t i = 0; i < g_n_tmp; i++) unlink(g_tmp[i]);
    for (size_t k = 0; k < N_CRASH_SIGNALS; k++)
        if (CRASH_SIGNALS[k] == sig) sigaction(sig, &g_old_action[k], NULL);
    raise(sig);   // delivered when this handler returns; a real fault also recurs on return
}

static void track(const char *tmp) {
    static int handlers = 0;
    for (size_t i = 0; i < g_n_tmp; i++)
        if (!strcmp(g_tmp[i], tmp)) return;
    char **grown = xmalloc((g_n_tmp + 1) * sizeof *grown);   // never a moment without a valid list
    if (g_n_tmp) memcpy(grown, g_tmp, g_n_tmp * sizeof *grown);
    grown[g_n_tmp] = xstrdup(tmp);
    char **old = g_tmp;
    g_tmp = grown;
    g_n_tmp++;
    free(old);
    log_at_fatal(remove_tmps);
    if (!handlers) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_crash;
        sigemptyset(&sa.sa_mask);
        for (size_t k = 0; k < N_CRASH_SIGNALS; k++) sigaction(CRASH_SIGNALS[k], &sa, &g_old_action[k]);
        // past the file size limit (ulimit -f) a write fails (EFBIG) instead of killing the
        // process, so the writer's error names the output and the temporary is removed
        signal(SIGXFSZ, SIG_IGN);
        handlers = 1;
    }
}

static void untrack(const char *tmp) {
    for (size_t i = 0; i < g_n_tmp; i++)
        if (!strcmp(g_tmp[i], tmp)) {
            free(g_tmp[i]);
            g_tmp[i] = g_tmp[--g_n_tmp];
            return;
        }
}

char *path_dir(const char *path) {
    char *c = xstrdup(path);
    char *d = xstrdup(dirname(c));
    free(c);
    return d;
}

static char *path_base(const char *path) {
    char *c = xstrdup(path);
    char *b = xstrdup(basename(c));
    free(c);
    return b;
}

// This host's short name with anything but letters, digits and '-' replaced, in buf.
static const char *host_tag(char *buf, size_t n) {
    if (gethostname(buf, n) != 0 || !buf[0]) snprintf(buf, n, "host");
    buf[n - 1] = '\0';
    char *dot = strchr(buf, '.');
    if (dot) *dot = '\0';
    for (char *p = buf; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-') *p = '_';
    return buf;
}

char *atomic_tmp_path(const char *final_path) {
    char *base = path_base(final_path), *dir = path_dir(final_path), host[128];
    size_t n = strlen(dir) + strlen(base) + sizeof host + 64;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s/.%s.tmp.%s.%ld", dir, base, host_tag(host, sizeof host), (long)getpid());
    free(dir);
    free(base);
    track(tmp);
    return tmp;
}

static void fsync_path(const char *path, int is_dir, const char *final_path) {
    int fd = open(path, is_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0)
        FATAL("check permissions of the output directory; the previous output (if any) was not changed",
              "cannot open %s to flush it to disk (writing %s): %s", path, final_path, strerror(errno));
    if (fsync(fd) != 0 && !(is_dir && (errno == EINVAL || errno == EROFS)))
        FATAL("the file system reported a write error: check free space and the device; %s was not changed",
              "fsync of %s (writing %s) failed: %s", path, final_path, strerror(errno));
    close(fd);
}

void atomic_commit(const char *tmp, const char *final_path) {
    fsync_path(tmp, 0, final_path);
    untrack(tmp);   // from here on the temporary is complete: a failure leaves it for the user
    if (rename(tmp, final_path) != 0)
        FATAL("check that the output directory is writable and on the same file system; the complete result is "
              "left in the temporary file",
              "cannot rename %s to %s: %s", tmp, final_path, strerror(errno));
    char *dir = path_dir(final_path);
    fsync_path(dir, 1, final_path);
    free(dir);
}

void atomic_discard(const char *tmp) {
    unlink(tmp);
    untrack(tmp);
}

// 1 when process pid may still run (on this host).
static int pid_alive(long pid) {
    if (pid <= 0) return 1;   // not a pid we wrote: leave it
    if (pid == (long)getpid()) return 1;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

// Parses "<host>.<pid>" or "<pid>" (the part after ".tmp."); returns the pid, -1 if neither.
static long parse_tmp_tail(const char *tail, char *host, size_t hn) {
    const char *dot = strrchr(tail, '.'), *digits = dot ? dot + 1 : tail;
    if (!*digits) return -1;
    for (const char *p = digits; *p; p++)
        if (!isdigit((unsigned char)*p)) return -1;
    host[0] = '\0';
    if (dot) snprintf(host, hn, "%.*s", (int)(dot - tail), tail);
    return strtol(digits, NULL, 10);
}

size_t atomic_clean_stale(const char *final_path, int any_host) {
    char *base = path_base(final_path), *dir = path_dir(final_path), me[128], host[128];
    host_tag(me, sizeof me);
    size_t np = strlen(base) + 8, removed = 0;
    char *prefix = xmalloc(np);
    snprintf(prefix, np, ".%s.tmp.", base);
    DIR *dp = opendir(dir);
    for (struct dirent *e; dp && (e = readdir(dp));) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        long pid = parse_tmp_tail(e->d_name + strlen(prefix), host, sizeof host);
        if (pid < 0) continue;
        int mine = !host[0] || !strcmp(host, me);
        if (!any_host && (!mine || pid_alive(pid))) continue;
        if (any_host && mine && pid_alive(pid)) continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *p = xmalloc(n);
        snprintf(p, n, "%s/%s", dir, e->d_name);
        if (unlink(p) == 0) {
            log_info("removed %s, a temporary left by a run that was killed (process %ld%s%s)", p, pid,
                     host[0] ? " on " : "", host);
            removed++;
        }
        free(p);
    }
    if (dp) closedir(dp);
    free(prefix);
    free(base);
    free(dir);
    return removed;
}

double atomic_room(const char *path, unsigned long *fsid, int *by_limit) {
    char *dir = path_dir(path);
    struct statvfs sv;
    int ok = statvfs(dir, &sv) == 0;
    free(dir);
    if (by_limit) *by_limit = 0;
    if (!ok) return -1;
    if (fsid) *fsid = sv.f_fsid;
    double room = (double)sv.f_bavail * (double)sv.f_frsize;
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (double)rl.rlim_cur < room) {
        room = (double)rl.rlim_cur;
        if (by_limit) *by_limit = 1;
    }
    return room;
}

void atomic_tmp_guard(const char *tmp) { track(tmp); }
void atomic_tmp_unguard(const char *tmp) { untrack(tmp); }

int path_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}
