// strmap: see strmap.h.
#include "core/strmap.h"

#include <string.h>

#include "core/log.h"

static uint64_t strmap_hash(const char *s) {
    uint64_t h = 14695981039346656037ULL;  // FNV-1a offset basis
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

// Index of key's slot, or of the empty slot where it would go.
static size_t strmap_slot(const StrMap *m, const char *key) {
    size_t mask = m->cap - 1, i = (size_t)strmap_hash(key) & mask;
    while (m->keys[i] && strcmp(m->keys[i], key) != 0) i = (i + 1) & mask;
    return i;
}

StrMap strmap_new(size_t n_hint) {
    StrMap m = {0};
    m.cap = 16;
    while (m.cap < 2 * n_hint + 2) m.cap *= 2;
    m.keys = xcalloc(m.cap, sizeof *m.keys);
    m.vals = xcalloc(m.cap, sizeof *m.vals);
    return m;
}

// Doubles the table and re-inserts every key (the key strings move, not copied).
static void strmap_grow(StrMap *m) {
    StrMap g = {.cap = m->cap * 2, .n = m->n};
    g.keys = xcalloc(g.cap, sizeof *g.keys);
    g.vals = xcalloc(g.cap, sizeof *g.vals);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = strmap_slot(&g, m->keys[i]);
        g.keys[j] = m->keys[i];
        g.vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    *m = g;
}

int strmap_put(StrMap *m, const char *key, int64_t val, int64_t *old) {
    size_t i = strmap_slot(m, key);
    if (m->keys[i]) {
        if (old) *old = m->vals[i];
        return 0;
    }
    m->keys[i] = xstrdup(key);
    m->vals[i] = val;
    m->n++;
    if (2 * m->n > m->cap) strmap_grow(m);
    return 1;
}

int64_t strmap_get(const StrMap *m, const char *key, int64_t missing) {
    if (!m->cap) return missing;
    size_t i = strmap_slot(m, key);
    return m->keys[i] ? m->vals[i] : missing;
}

void strmap_free(StrMap *m) {
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
