// h5vlen: checks the heap references of a variable-length string dataset before libhdf5
// follows them (see h5util.h, h5u_vlen_precheck). Each element of such a dataset is stored as
// (length: 4 bytes, global heap collection address: sizeof_addr bytes, object index: 4 bytes);
// libhdf5 1.10 trusts them and the collection they point to, and a damaged one makes it read out
// of bounds or allocate what it says. Here the raw references are read with pread (contiguous
// datasets only: chunked ones are compressed, compact ones live in the object header) and every
// collection they name is walked: "GCOL" signature, version 1, its size within the file, each
// object within the collection, the object named present and long enough.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "io/h5util.h"

#define HINT_HEAP "the file's string storage is damaged (a variable-length string points outside its heap): " \
                  "re-create the file (rerun the tool that wrote it, or copy it again)"

// Little-endian unsigned integer of n bytes (n <= 8).
static uint64_t le(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

typedef struct {
    uint64_t addr;       // collection address (absolute)
    uint64_t *size;      // (n_index) object sizes by index, UINT64_MAX where absent
    size_t n_index;
} Collection;

typedef struct {
    int fd;
    uint64_t fsize, base;
    size_t sa, ss;        // sizeof offsets / lengths
    const char *path, *name;
    Collection cache[4];  // collections walked so far (the last few)
    size_t next;
} Ctx;

static _Noreturn void damaged(const Ctx *c, const char *what, size_t elem, uint64_t v) {
    FATAL(HINT_HEAP, "%s: dataset '%s' element %zu: %s (got %llu, file size %llu)", c->path, c->name, elem, what,
          (unsigned long long)v, (unsigned long long)c->fsize);
}

static void read_at(const Ctx *c, void *buf, size_t n, uint64_t off, size_t elem) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(c->fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r <= 0) damaged(c, r < 0 ? strerror(errno) : "data beyond the end of the file", elem, off + got);
        got += (size_t)r;
    }
}

// Reads and walks the collection at addr (absolute); FATAL when it is not a sound collection.
static const Collection *collection(Ctx *c, uint64_t addr, size_t elem) {
    for (size_t i = 0; i < 4; i++)
        if (c->cache[i].size && c->cache[i].addr == addr) return &c->cache[i];
    unsigned char head[24];
    size_t hsize = 8 + c->ss;
    if (addr + hsize > c->fsize) damaged(c, "heap collection address beyond the end of the file", elem, addr);
    read_at(c, head, hsize, addr, elem);
    if (memcmp(head, "GCOL", 4) != 0 || head[4] != 1) damaged(c, "no heap collection at the address", elem, addr);
    uint64_t csize = le(head + 8, c->ss);
    if (csize < hsize || csize > c->fsize - addr) damaged(c, "heap collection size beyond the end of the file", elem, csize);
    unsigned char *buf = xmalloc_for((size_t)csize, "%s: heap collection of '%s' (%llu bytes)", c->path, c->name,
                                     (unsigned long long)csize);
    read_at(c, buf, (size_t)csize, addr, elem);
    Collection *col = &c->cache[c->next];
    c->next = (c->next + 1) % 4;
    free(col->size);
    col->addr = addr;
    col->n_index = 0;
    col->size = NULL;
    size_t cap = 0;
    for (uint64_t p = hsize; p + 8 + c->ss <= csize;) {
        uint64_t idx = le(buf + p, 2), osize = le(buf + p + 8, c->ss);
        if (idx == 0) break;   // the free space at the end
        uint64_t data = p + 8 + c->ss;
        if (osize > csize - data) damaged(c, "heap object larger than its collection", elem, osize);
        if (idx >= col->n_index) {
            if (idx >= cap) {
                size_t ncap = cap ? cap : 64;
                while (ncap <= idx) ncap *= 2;
                col->size = xrealloc(col->size, ncap * sizeof *col->size);
                cap = ncap;
            }
            for (size_t k = col->n_index; k <= idx; k++) col->size[k] = UINT64_MAX;
            col->n_index = (size_t)idx + 1;
        }
        col->size[idx] = osize;
        p = data + ((osize + 7) & ~(uint64_t)7);
    }
    if (!col->size) col->size = xcalloc(1, sizeof *col->size), col->size[0] = UINT64_MAX, col->n_index = 1;
    free(buf);
    return col;
}

void h5u_vlen_precheck(hid_t ds, size_t start, size_t count, const char *path, const char *name) {
    haddr_t off = H5Dget_offset(ds);
    hid_t ft = H5Dget_type(ds), dcpl = H5Dget_create_plist(ds);
    int contiguous = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS && H5Pget_external_count(dcpl) == 0;
    int vlen = ft >= 0 && H5Tis_variable_str(ft) > 0;
    if (ft >= 0) H5Tclose(ft);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (!vlen || !contiguous || off == HADDR_UNDEF || count == 0) return;
    hid_t file = H5Iget_file_id(ds);
    hid_t fcpl = file >= 0 ? H5Fget_create_plist(file) : -1;
    hsize_t fsize = 0, ub = 0;
    size_t sa = 8, ss = 8;
    int ok = fcpl >= 0 && H5Pget_sizes(fcpl, &sa, &ss) >= 0 && H5Pget_userblock(fcpl, &ub) >= 0 &&
             H5Fget_filesize(file, &fsize) >= 0;
    if (fcpl >= 0) H5Pclose(fcpl);
    if (file >= 0) H5Fclose(file);
    if (!ok || sa > 8 || ss > 8 || sa < 2 || ss < 2) return;
    static int fd = -1;   // kept until the next call, so that a FATAL (a fuzz harness goes on) leaks none
    if (fd >= 0) close(fd);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;   // not a path of ours (e.g. an in-memory file): libhdf5 reads it unchecked
    Ctx c = {.fd = fd, .fsize = fsize, .base = ub, .sa = sa, .ss = ss, .path = path, .name = name};
    size_t esz = 8 + sa, block = 65536;
    unsigned char *raw = xmalloc_for(block * esz, "%s: heap references of '%s'", path, name);
    for (size_t e0 = start; e0 < start + count; e0 += block) {
        size_t n = start + count - e0 < block ? start + count - e0 : block;
        uint64_t at = (uint64_t)off + (uint64_t)e0 * esz;
        if (at + n * esz > fsize) damaged(&c, "string references beyond the end of the file", e0, at);
        read_at(&c, raw, n * esz, at, e0);
        for (size_t i = 0; i < n; i++) {
            const unsigned char *r = raw + i * esz;
            uint64_t len = le(r, 4), addr = le(r + 4, sa), idx = le(r + 4 + sa, 4);
            if (len == 0) continue;   // empty or NULL string: no heap object is read
            if (len > fsize) damaged(&c, "string longer than the file", e0 + i, len);
            if (addr > fsize - c.base) damaged(&c, "string heap address beyond the end of the file", e0 + i, addr);
            const Collection *col = collection(&c, addr + c.base, e0 + i);
            if (idx >= col->n_index || col->size[idx] == UINT64_MAX)
                damaged(&c, "string's heap object is missing from its collection", e0 + i, idx);
            if (col->size[idx] < len) damaged(&c, "string's heap object is shorter than the string", e0 + i, len);
        }
    }
    free(raw);
    for (size_t i = 0; i < 4; i++) free(c.cache[i].size);
    close(fd);
    fd = -1;
}
