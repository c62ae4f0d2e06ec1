// confpath: see confpath.h.
#include "core/confpath.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "core/log.h"

static const char *const INPUT_KEYS[] = {"reference", "query", "gmt", "genes", "gene-map", "model", "pred", "peaks", "teacher"};
static const char *const SHIPPED_KEYS[] = {"gmt", "genes"};   // names kida also finds in its own data

static int in_list(const char *key, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(key, list[i])) return 1;
    return 0;
}

// The config file's folder as an absolute path (new string).
static char *config_dir(const char *config_file) {
    char *real = realpath(config_file, NULL);
    if (!real) FATAL("check the path given to --config", "cannot resolve config file %s: %s", config_file, strerror(errno));
    char *slash = strrchr(real, '/');
    if (slash == real) slash[1] = 0;   // a config in /
    else *slash = 0;
    return real;
}

// Drops "." and "name/.." from an absolute path, in place (for files that do not exist yet).
static void tidy(char *p) {
    char *out = p;   // p[0] == '/'
    for (char *r = p; *r;) {
        while (*r == '/') r++;
        size_t n = strcspn(r, "/");
        if (n == 0) break;
        if (n == 1 && r[0] == '.') {
        } else if (n == 2 && r[0] == '.' && r[1] == '.') {
            while (out > p && *--out != '/') {}
        } else {
            *out++ = '/';
            memmove(out, r, n);
            out += n;
        }
        r += n;
    }
    if (out == p) *out++ = '/';
    *out = 0;
}

// dir/entry as an absolute path without . and .. (new string); realpath's when the file exists.
static char *join(const char *dir, const char *entry) {
    size_t n = strlen(dir) + strlen(entry) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, entry);
    char *real = realpath(p, NULL);
    if (real) {
        free(p);
        return real;
    }
    tidy(p);
    return p;
}

char *confpath_resolve(const char *key, const char *value, const char *config_file) {
    if (!in_list(key, INPUT_KEYS, sizeof INPUT_KEYS / sizeof *INPUT_KEYS) || !*value) return xstrdup(value);
    int shipped = in_list(key, SHIPPED_KEYS, sizeof SHIPPED_KEYS / sizeof *SHIPPED_KEYS);
    char *dir = config_dir(config_file), *list = xstrdup(value), *save = NULL, *out = NULL;
    size_t len = 0, cap = 0;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *p = t[0] == '/' ? xstrdup(t) : join(dir, t);
        if (shipped && t[0] != '/' && !path_exists(p)) {
            free(p);
            p = xstrdup(t);
        }
        size_t n = strlen(p);
        if (len + n + 2 > cap) out = xrealloc(out, cap = 2 * (len + n + 2));
        if (len) out[len++] = ',';
        memcpy(out + len, p, n + 1);
        len += n;
        free(p);
    }
    free(list);
    free(dir);
    return out ? out : xstrdup(value);
}
