// atomic: see atomic.h.
#include "core/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

// Directory part of path ("." when it has none), as a new string.
static char *dir_of(const char *path) {
    char *c = xstrdup(path);
    char *d = xstrdup(dirname(c));
    free(c);
    return d;
}

char *atomic_tmp_path(const char *final_path) {
    char *c = xstrdup(final_path);
    char *base = xstrdup(basename(c));
    free(c);
    char *dir = dir_of(final_path);
    size_t n = strlen(dir) + strlen(base) + 64;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s/.%s.tmp.%ld", dir, base, (long)getpid());
    free(dir);
    free(base);
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
    if (rename(tmp, final_path) != 0)
        FATAL("check that the output directory is writable and on the same file system; the complete result is "
              "left in the temporary file",
              "cannot rename %s to %s: %s", tmp, final_path, strerror(errno));
    char *dir = dir_of(final_path);
    fsync_path(dir, 1, final_path);
    free(dir);
}

#define MAX_GUARDS 8
static char *g_guard[MAX_GUARDS];

static void remove_guarded(void) {
    for (int i = 0; i < MAX_GUARDS; i++)
        if (g_guard[i]) {
            remove(g_guard[i]);
            fprintf(stderr, "removed the unfinished temporary %s\n", g_guard[i]);
        }
}

void atomic_tmp_guard(const char *tmp) {
    for (int i = 0; i < MAX_GUARDS; i++)
        if (!g_guard[i]) {
            g_guard[i] = xstrdup(tmp);
            log_set_fatal_hook(remove_guarded);
            return;
        }
}

void atomic_tmp_unguard(const char *tmp) {
    for (int i = 0; i < MAX_GUARDS; i++)
        if (g_guard[i] && !strcmp(g_guard[i], tmp)) {
            free(g_guard[i]);
            g_guard[i] = NULL;
        }
}

int path_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}
