// ckptdir: see ckptdir.h.
#include "train/ckptdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/log.h"

static struct {
    char *dir, *lock, *ckpt, *metrics;
    int fd;        // the locked file, -1 when none
    int created;   // this process made the folder
} g = {NULL, NULL, NULL, NULL, -1, 0};

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void unlock(void) {
    if (g.fd < 0) return;
    unlink(g.lock);   // while still held: a run waiting on the old file retries on a new one
    close(g.fd);
    g.fd = -1;
}

// A fatal error: the lock goes; a folder this run made and that holds no checkpoint goes too.
static void on_fatal(void) {
    unlock();
    if (g.created && !path_exists(g.ckpt)) {
        unlink(g.metrics);
        rmdir(g.dir);
    }
}

// Takes the lock on g.lock; 0 when another process holds it (its pid, if written, in *other).
static int take_lock(long *other) {
    for (int tries = 0; tries < 8; tries++) {
        int fd = open(g.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0)
            FATAL("give a writable --checkpoint-dir", "cannot create lock file %s: %s", g.lock, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char buf[32] = "";
            ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
            buf[r > 0 ? r : 0] = '\0';
            *other = atol(buf);
            close(fd);
            if (e == EWOULDBLOCK) return 0;
            log_warn("cannot lock %s (%s); two runs sharing this checkpoint folder would not be stopped", g.lock,
                     strerror(e));
            return 1;
        }
        // the holder before us may have removed the file after we opened it: lock the file at the path
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(g.lock, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) { /* the pid is only for messages */ }
            g.fd = fd;
            return 1;
        }
        close(fd);
    }
    FATAL("another process keeps replacing the lock file; check the folder", "cannot lock %s", g.lock);
}

void ckptdir_open(const char *dir, const char *option) {
    g.dir = xstrdup(dir);
    g.lock = join(dir, ".lock");
    g.ckpt = join(dir, "checkpoint.h5");
    g.metrics = join(dir, "metrics.jsonl");
    if (mkdir(dir, 0777) == 0) g.created = 1;
    else if (errno != EEXIST) {
        char hint[256];
        snprintf(hint, sizeof hint, "give a writable %s (its parent folder must exist)", option);
        FATAL(hint, "cannot create checkpoint folder %s: %s", dir, strerror(errno));
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        FATAL("give --checkpoint-dir a folder (or remove the file in the way)", "%s (%s) is not a folder", dir, option);
    log_at_fatal(on_fatal);
    long other = 0;
    if (!take_lock(&other)) {
        char msg[128] = "";
        if (other > 0) snprintf(msg, sizeof msg, " (process %ld)", other);
        FATAL("wait for that run to end, or give this run its own --checkpoint-dir (or another --out)",
              "checkpoint folder %s is in use by another running kida%s", dir, msg);
    }
    // with the lock held no live run writes here: any temporary is a killed run's
    atomic_clean_stale(g.ckpt, 1);
}

void ckptdir_finish(const char *ckpt_path) {
    if (path_exists(ckpt_path)) unlink(ckpt_path);
    unlock();
    if (g.dir) rmdir(g.dir);   // only when empty
}
