// h5vlen: checks the heap references of variable-length strings before libhdf5 follows them (see
// h5util.h, h5u_vlen_precheck and h5u_vlen_attr_precheck). Each string is stored as (length: 4
// bytes, global heap collection address: sizeof_addr bytes, object index: 4 bytes); libhdf5 1.10
// trusts them and the collection they point to, and a damaged one makes it read out of bounds,
// loop, or allocate what it says. Here the raw references are read with pread and every
// collection they name is walked: "GCOL" signature, version 1, its size within the file, each
// object within the collection, the object named present and long enough.
//   datasets: contiguous ones (chunked ones are compressed, compact ones are in the header);
//   attributes: in version-1 object headers (h5py's default), found by walking the header's
//   messages and continuation blocks. Anything this reader does not know is left unchecked:
//   only a reference that is positively wrong is refused.
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
    const char *path, *what, *name;   // what: "dataset" or "attribute"
    Collection cache[4];  // collections walked so far (the last few)
    size_t next;
} Ctx;

static _Noreturn void damaged(const Ctx *c, const char *what, size_t elem, uint64_t v) {
    FATAL(HINT_HEAP, "%s: %s '%s' element %zu: %s (got %llu, file size %llu)", c->path, c->what, c->name, elem, what,
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
    // the objects, walked as libhdf5 walks them: each (index 2, references 2, reserved 4, size
    // sizeof_length, data padded to 8); index 0 is free space whose size counts its header too (a
    // size of 0 there makes libhdf5 loop forever); a tail too short for a header is free space
    for (uint64_t p = hsize; p + 8 + c->ss <= csize;) {
        uint64_t idx = le(buf + p, 2), osize = le(buf + p + 8, c->ss), data = p + 8 + c->ss, need;
        if (idx == 0) {
            need = osize;
            if (need < 8 + c->ss || need > csize - p) damaged(c, "heap collection's free space is damaged", elem, osize);
        } else {
            if (osize > csize - data) damaged(c, "heap object larger than its collection", elem, osize);
            need = 8 + c->ss + ((osize + 7) & ~(uint64_t)7);
            if (need > csize - p) damaged(c, "heap object larger than its collection", elem, osize);
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
        }
        p += need;
    }
    if (!col->size) col->size = xcalloc(1, sizeof *col->size), col->size[0] = UINT64_MAX, col->n_index = 1;
    free(buf);
    return col;
}


// The file's size, sizeof offsets / lengths and base address, and an open descriptor of path, in
// c; 0 when any is unknown (nothing is checked then). One descriptor is kept until the next call,
// so that a FATAL (a fuzz harness goes on) leaks none.
static int ctx_open(Ctx *c, hid_t obj, const char *path, const char *what, const char *name) {
    static int fd = -1;
    if (fd >= 0) close(fd);
    fd = -1;
    hid_t file = H5Iget_file_id(obj);
    hid_t fcpl = file >= 0 ? H5Fget_create_plist(file) : -1;
    hsize_t fsize = 0, ub = 0;
    size_t sa = 8, ss = 8;
    int ok = fcpl >= 0 && H5Pget_sizes(fcpl, &sa, &ss) >= 0 && H5Pget_userblock(fcpl, &ub) >= 0 &&
             H5Fget_filesize(file, &fsize) >= 0;
    if (fcpl >= 0) H5Pclose(fcpl);
    if (file >= 0) H5Fclose(file);
    if (!ok || sa > 8 || ss > 8 || sa < 2 || ss < 2) return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;   // not a path of ours (e.g. an in-memory file): libhdf5 reads it unchecked
    *c = (Ctx){.fd = fd, .fsize = fsize, .base = ub, .sa = sa, .ss = ss, .path = path, .what = what, .name = name};
    return 1;
}

static void ctx_close(Ctx *c) {
    for (size_t i = 0; i < 4; i++) free(c->cache[i].size);
}

// Checks n raw references (8 + sa bytes each) of elements e0, e0+1, ...
static void check_refs(Ctx *c, const unsigned char *raw, size_t n, size_t e0) {
    size_t esz = 8 + c->sa;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *r = raw + i * esz;
        uint64_t len = le(r, 4), addr = le(r + 4, c->sa), idx = le(r + 4 + c->sa, 4);
        if (len == 0) continue;   // empty or NULL string: no heap object is read
        if (len > c->fsize) damaged(c, "string longer than the file", e0 + i, len);
        if (addr > c->fsize - c->base) damaged(c, "string heap address beyond the end of the file", e0 + i, addr);
        const Collection *col = collection(c, addr + c->base, e0 + i);
        if (idx >= col->n_index || col->size[idx] == UINT64_MAX)
            damaged(c, "string's heap object is missing from its collection", e0 + i, idx);
        if (col->size[idx] < len) damaged(c, "string's heap object is shorter than the string", e0 + i, len);
    }
}

void h5u_vlen_precheck(hid_t ds, size_t start, size_t count, const char *path, const char *name) {
    haddr_t off = H5Dget_offset(ds);
    hid_t ft = H5Dget_type(ds), dcpl = H5Dget_create_plist(ds);
    int contiguous = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS && H5Pget_external_count(dcpl) == 0;
    int vlen = ft >= 0 && H5Tis_variable_str(ft) > 0;
    if (ft >= 0) H5Tclose(ft);
    if (dcpl >= 0) H5Pclose(dcpl);
    Ctx c;
    if (!vlen || !contiguous || off == HADDR_UNDEF || count == 0 || !ctx_open(&c, ds, path, "dataset", name)) return;
    size_t esz = 8 + c.sa, block = 65536;
    unsigned char *raw = xmalloc_for(block * esz, "%s: heap references of '%s'", path, name);
    for (size_t e0 = start; e0 < start + count; e0 += block) {
        size_t n = start + count - e0 < block ? start + count - e0 : block;
        uint64_t at = (uint64_t)off + (uint64_t)e0 * esz;
        if (at + n * esz > c.fsize) damaged(&c, "string references beyond the end of the file", e0, at);
        read_at(&c, raw, n * esz, at, e0);
        check_refs(&c, raw, n, e0);
    }
    free(raw);
    ctx_close(&c);
}

// ---- attributes in version-1 object headers --------------------------------------------------

#define MSG_ATTRIBUTE 0x000C
#define MSG_CONTINUATION 0x0010

static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

// In the attribute message d (n bytes): when it is attribute `name` of a variable-length string
// type with npoints elements, sets *data to its raw references and returns 1; 0 otherwise (also
// for anything unexpected: shared types or spaces, other versions).
static int attr_refs(const unsigned char *d, size_t n, const char *name, size_t npoints, size_t esz,
                     const unsigned char **data) {
    if (n < 8) return 0;
    int ver = d[0];
    size_t nlen = (size_t)le(d + 2, 2), tlen = (size_t)le(d + 4, 2), slen = (size_t)le(d + 6, 2), at;
    if (ver == 1) at = 8;
    else if (ver == 2 || ver == 3) {
        if (d[1] & 3) return 0;   // shared datatype or dataspace
        at = ver == 3 ? 9 : 8;
    } else return 0;
    int padded = ver == 1;
    size_t name_end = at + (padded ? pad8(nlen) : nlen);
    if (nlen == 0 || name_end > n || strnlen((const char *)d + at, nlen) != strlen(name) ||
        memcmp(d + at, name, strlen(name)) != 0)
        return 0;
    const unsigned char *t = d + name_end;
    size_t t_end = name_end + (padded ? pad8(tlen) : tlen);
    size_t s_end = t_end + (padded ? pad8(slen) : slen);
    if (tlen < 8 || s_end > n) return 0;
    int cls = t[0] & 0x0F, vtype = t[1] & 0x03;
    if (cls != 9 || vtype != 1) return 0;   // not a variable-length string
    if (s_end + npoints * esz > n) return 0;
    *data = d + s_end;
    return 1;
}

void h5u_vlen_attr_precheck(hid_t obj, const char *attr, size_t npoints) {
    H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
    haddr_t addr = HADDR_UNDEF;
    if (H5Oget_info3(obj, &info, H5O_INFO_BASIC) < 0 || H5VLnative_token_to_addr(obj, info.token, &addr) < 0) return;
#else
    if (H5Oget_info2(obj, &info, H5O_INFO_BASIC) < 0) return;
    haddr_t addr = info.addr;
#endif
    char path[4096], label[1024], oname[512];
    if (npoints == 0 || H5Fget_name(obj, path, sizeof path) <= 0) return;
    if (H5Iget_name(obj, oname, sizeof oname) <= 0) snprintf(oname, sizeof oname, "?");
    snprintf(label, sizeof label, "%s' of '%s", attr, oname);   // printed as attribute '<attr>' of '<object>'
    Ctx c;
    if (!ctx_open(&c, obj, path, "attribute", label)) return;
    size_t esz = 8 + c.sa;
    uint64_t at = (uint64_t)addr + c.base;
    unsigned char prefix[16];
    if (at + 16 > c.fsize || pread(c.fd, prefix, 16, (off_t)at) != 16 || prefix[0] != 1) {
        ctx_close(&c);   // not a version-1 header (version 2 starts "OHDR" and has checksums)
        return;
    }
    // message blocks: the first after the 16-byte prefix, then each continuation's
    uint64_t blk_at[64], blk_len[64];
    size_t n_blk = 1, n_msgs = 0, max_msgs = (size_t)le(prefix + 2, 2);
    blk_at[0] = at + 16;
    blk_len[0] = le(prefix + 8, 4);
    for (size_t b = 0; b < n_blk && n_msgs < max_msgs; b++) {
        if (blk_len[b] > ((uint64_t)1 << 24) || blk_at[b] + blk_len[b] > c.fsize) break;
        unsigned char *blk = xmalloc((size_t)blk_len[b] + 1);
        if (pread(c.fd, blk, (size_t)blk_len[b], (off_t)blk_at[b]) != (ssize_t)blk_len[b]) {
            free(blk);
            break;
        }
        for (size_t p = 0; p + 8 <= blk_len[b] && n_msgs < max_msgs; n_msgs++) {
            size_t type = (size_t)le(blk + p, 2), size = (size_t)le(blk + p + 2, 2);
            if (p + 8 + size > blk_len[b]) break;
            const unsigned char *d = blk + p + 8, *refs = NULL;
            if (type == MSG_CONTINUATION && size >= c.sa + c.ss && n_blk < 64) {
                blk_at[n_blk] = le(d, c.sa) + c.base;
                blk_len[n_blk++] = le(d + c.sa, c.ss);
            } else if (type == MSG_ATTRIBUTE && attr_refs(d, size, attr, npoints, esz, &refs)) {
                check_refs(&c, refs, npoints, 0);
                free(blk);
                ctx_close(&c);
                return;
            }
            p += 8 + size;
        }
        free(blk);
    }
    ctx_close(&c);
}
