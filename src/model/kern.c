// kern: the table of the vector path in use (see kern.h) and the attention scratch.
#include "model/kern.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

extern const Kern kern_portable;
#if defined(__GNUC__) && defined(__x86_64__)
extern const Kern kern_avx2, kern_avx512;
#endif

const Kern *kern_for(CpuPath p) {
    if (p > cpu_path_best()) FATAL("internal error", "kernels of path %s requested on a CPU without it", cpu_path_name(p));
#if defined(__GNUC__) && defined(__x86_64__)
    if (p == CPU_PATH_AVX512) return &kern_avx512;
    if (p == CPU_PATH_AVX2) return &kern_avx2;
#endif
    return &kern_portable;
}

const Kern *kern(void) { return kern_for(cpu_path()); }

int tiles_supported(size_t HS) { return HS > 0 && HS % 8 == 0; }

enum { RB_MAX = 8 };  // query rows per block on the widest path

TileScratch tiles_alloc(size_t T, size_t Tq, size_t HS) {
    TileScratch s = {.T = T, .Tq = Tq, .HS = HS, .Tp = (T + 15) / 16 * 16, .Tqp = (Tq + RB_MAX - 1) / RB_MAX * RB_MAX};
    size_t Tp = s.Tp, Tqp = s.Tqp;
    // zeroed once: the padding rows and columns are never written afterwards
    size_t n = szadd(szadd(szmul(2, szmul(Tqp, HS)), szmul(2, szmul(HS, Tp))),
                     szadd(szmul(4, szmul(T, HS)), szmul(2 * RB_MAX, Tp)));
    float *mem = xcalloc_for(n, sizeof(float), "attention: tiles for %zu tokens (%zu query rows) x head size %zu", T, Tq, HS);
    s.q = mem;
    s.dy = s.q + Tqp * HS;
    s.kt = s.dy + Tqp * HS;
    s.vt = s.kt + HS * Tp;
    s.k = s.vt + HS * Tp;
    s.v = s.k + T * HS;
    s.dk = s.v + T * HS;
    s.dv = s.dk + T * HS;
    s.a = s.dv + T * HS;
    s.da = s.a + RB_MAX * Tp;
    return s;
}

void tiles_free(TileScratch *s) {
    free(s->q);
    memset(s, 0, sizeof *s);
}
