// strmap: a string -> int64 hash table with open addressing (linear probing, FNV-1a hash).
// Keys are copied; the map grows to keep its load at most 1/2.
#ifndef KIDA_STRMAP_H
#define KIDA_STRMAP_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char **keys;      // (cap) NULL where empty
    int64_t *vals;    // (cap)
    size_t cap, n;    // slots (a power of two), keys stored
} StrMap;

// Returns an empty map sized for about n_hint keys.
StrMap strmap_new(size_t n_hint);
// Stores key -> val. Returns 1 if the key was new, 0 if it existed (its value is then left
// unchanged and *old, when not NULL, receives it).
int strmap_put(StrMap *m, const char *key, int64_t val, int64_t *old);
// Returns the value of key, or `missing` if absent.
int64_t strmap_get(const StrMap *m, const char *key, int64_t missing);
// Frees the keys and tables and zeroes m.
void strmap_free(StrMap *m);
#endif
