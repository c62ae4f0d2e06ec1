// gzline: see gzline.h.
#include "io/gzline.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "core/log.h"

struct GzLines {
    gzFile gz;
    char *path, *what;
    char *buf;
    size_t cap, lineno;
    GzLines *prev, *next;   // the open readers (gzlines_close_all)
};

static GzLines *g_open = NULL;

GzLines *gzlines_open(const char *path, const char *what) {
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        FATAL("check the path and that the file is readable", "cannot open %s '%s': %s", what, path,
              errno ? strerror(errno) : "zlib could not allocate its state");
    gzbuffer(gz, 1 << 17);
    GzLines *f = xcalloc(1, sizeof *f);
    f->gz = gz;
    f->path = xstrdup(path);
    f->what = xstrdup(what);
    f->cap = 4096;
    f->buf = xmalloc(f->cap);
    f->next = g_open;
    if (g_open) g_open->prev = f;
    g_open = f;
    return f;
}

char *gzlines_next(GzLines *f, size_t *len) {
    size_t n = 0;
    for (;;) {
        if (f->cap - n < 2) {
            if (f->cap >= (size_t)1 << 30)
                FATAL("give a text file with lines shorter than 1 GiB", "%s '%s' line %zu: line too long",
                      f->what, f->path, f->lineno + 1);
            f->cap *= 2;
            f->buf = xrealloc_for(f->buf, f->cap, "%s '%s' line %zu: buffer for a line longer than %zu bytes", f->what,
                                  f->path, f->lineno + 1, f->cap / 2);
        }
        // gzgets stores at most cap-n-1 bytes and a NUL; a longer line continues in the next call.
        if (!gzgets(f->gz, f->buf + n, (int)(f->cap - n))) {
            int err = Z_OK;
            const char *msg = gzerror(f->gz, &err);
            if (err == Z_BUF_ERROR)
                FATAL("the .gz file is truncated; download or compress it again",
                      "cannot read %s '%s' after line %zu: %s", f->what, f->path, f->lineno, msg);
            if (err != Z_OK)
                FATAL("the file is damaged; download or decompress it again",
                      "cannot read %s '%s' after line %zu: %s", f->what, f->path, f->lineno, msg);
            if (n == 0) return NULL;
            break;  // the previous call filled the buffer exactly at end of file
        }
        n += strlen(f->buf + n);
        if (n > 0 && f->buf[n - 1] == '\n') break;
        if (n + 1 == f->cap) continue;  // buffer full: grow and read on
        if (gzeof(f->gz)) break;        // last line has no newline
        FATAL("give a text file", "%s '%s' line %zu: contains a NUL byte (not a text file?)", f->what, f->path,
              f->lineno + 1);
    }
    f->lineno++;
    if (n > 0 && f->buf[n - 1] == '\n') n--;
    if (n > 0 && f->buf[n - 1] == '\r') n--;
    f->buf[n] = '\0';
    *len = n;
    return f->buf;
}

size_t gzlines_lineno(const GzLines *f) { return f->lineno; }
const char *gzlines_path(const GzLines *f) { return f->path; }

void gzlines_close(GzLines *f) {
    if (!f) return;
    if (f->prev) f->prev->next = f->next;
    else g_open = f->next;
    if (f->next) f->next->prev = f->prev;
    gzclose_r(f->gz);
    free(f->buf);
    free(f->path);
    free(f->what);
    free(f);
}

void gzlines_close_all(void) {
    while (g_open) gzlines_close(g_open);
}

size_t str_split(char *s, char sep, char **fields, size_t max) {
    size_t n = 0;
    for (;;) {
        if (n < max) fields[n] = s;
        n++;
        char *p = strchr(s, sep);
        if (!p) break;
        *p = '\0';
        s = p + 1;
    }
    return n;
}

char *str_trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n' ||
                     s[n - 1] == '\v' || s[n - 1] == '\f'))
        s[--n] = '\0';
    return s;
}

int str_is_blank(const char *s) {
    for (; *s; s++)
        if (!(*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f')) return 0;
    return 1;
}

int str_ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}
