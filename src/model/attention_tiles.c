// attention_tiles: see attention_tiles.h.
// The kernels use GCC/Clang vector types (v8: 8 floats) so that a 4-row x 16-column tile of
// accumulators lives in registers; the compiler maps them to AVX2 in the VEC_CLONES variant and
// to pairs of SSE registers otherwise. Other compilers fall back to the BLAS path (tiles_supported
// returns 0).
#include "model/attention_tiles.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "model/vecmath.h"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"  // v8 by value in always-inlined helpers only

typedef float v8 __attribute__((vector_size(32)));

VEC_INLINE v8 v8_load(const float *p) {
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

VEC_INLINE void v8_store(float *p, v8 v) { memcpy(p, &v, sizeof v); }

enum { RB = 4 };  // query rows per block

int tiles_supported(size_t HS) { return HS > 0 && HS % 8 == 0; }

TileScratch tiles_alloc(size_t T, size_t Tq, size_t HS) {
    TileScratch s = {.T = T, .Tq = Tq, .HS = HS, .Tp = (T + 15) / 16 * 16, .Tqp = (Tq + RB - 1) / RB * RB};
    size_t Tp = s.Tp, Tqp = s.Tqp;
    // zeroed once: the padding rows and columns are never written afterwards
    float *mem = xcalloc(2 * Tqp * HS + 2 * HS * Tp + 4 * T * HS + 2 * RB * Tp, sizeof(float));
    s.q = mem;
    s.dy = s.q + Tqp * HS;
    s.kt = s.dy + Tqp * HS;
    s.vt = s.kt + HS * Tp;
    s.k = s.vt + HS * Tp;
    s.v = s.k + T * HS;
    s.dk = s.v + T * HS;
    s.dv = s.dk + T * HS;
    s.a = s.dv + T * HS;
    s.da = s.a + RB * Tp;
    return s;
}

void tiles_free(TileScratch *s) {
    free(s->q);
    memset(s, 0, sizeof *s);
}

// Copies head n of a cell's qkv (T,3C): q rows q0.. (scaled), kt, and v (forward) or vt and k
// (backward).
static void tiles_load(TileScratch *s, const float *qkv, size_t C, size_t n, size_t q0, int backward) {
    size_t T = s->T, HS = s->HS, Tp = s->Tp;
    float scale = 1.0f / sqrtf((float)HS);
    for (size_t t = 0; t < T; t++) {
        const float *q = qkv + t * 3 * C + n * HS, *k = q + C, *v = q + 2 * C;  // (HS) each
        for (size_t h = 0; h < HS; h++) s->kt[h * Tp + t] = k[h];
        if (backward) {
            memcpy(s->k + t * HS, k, HS * sizeof(float));
            for (size_t h = 0; h < HS; h++) s->vt[h * Tp + t] = v[h];
        } else {
            memcpy(s->v + t * HS, v, HS * sizeof(float));
        }
        if (t >= q0)
            for (size_t h = 0; h < HS; h++) s->q[(t - q0) * HS + h] = q[h] * scale;
    }
}

// out (RB,Tp) = x (RB rows, stride ldx, HS wide) · mt (HS,Tp); Tp % 16 == 0.
VEC_INLINE void blk_scores(float *out, const float *x, size_t ldx, const float *mt, size_t HS, size_t Tp) {
    for (size_t j = 0; j < Tp; j += 16) {
        v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
        for (size_t h = 0; h < HS; h++) {
            v8 m0 = v8_load(mt + h * Tp + j), m1 = v8_load(mt + h * Tp + j + 8);
            float x0 = x[h], x1 = x[ldx + h], x2 = x[2 * ldx + h], x3 = x[3 * ldx + h];
            c00 += x0 * m0, c01 += x0 * m1;
            c10 += x1 * m0, c11 += x1 * m1;
            c20 += x2 * m0, c21 += x2 * m1;
            c30 += x3 * m0, c31 += x3 * m1;
        }
        v8_store(out + j, c00), v8_store(out + j + 8, c01);
        v8_store(out + Tp + j, c10), v8_store(out + Tp + j + 8, c11);
        v8_store(out + 2 * Tp + j, c20), v8_store(out + 2 * Tp + j + 8, c21);
        v8_store(out + 3 * Tp + j, c30), v8_store(out + 3 * Tp + j + 8, c31);
    }
}

// Rows of a (RB,Tp) over their first T entries: a = exp(a − max), inv[r] = 1 / Σ_j a (not applied).
VEC_INLINE void blk_softmax(float *a, float *inv, size_t T, size_t Tp) {
    for (size_t r = 0; r < RB; r++) {
        float *row = a + r * Tp;
        float mx = row[0], sum = 0.0f;
#pragma omp simd reduction(max : mx)
        for (size_t j = 1; j < T; j++) mx = row[j] > mx ? row[j] : mx;
#pragma omp simd reduction(+ : sum)
        for (size_t j = 0; j < T; j++) {
            row[j] = vm_expf(row[j] - mx);
            sum += row[j];
        }
        inv[r] = 1.0f / sum;
    }
}

// o[0:8] = (acc ? o : 0) + scale · c
VEC_INLINE void row_store(float *o, int acc, float scale, v8 c) { v8_store(o, (acc ? v8_load(o) : (v8){0}) + scale * c); }

// out rows r < nr (stride ldo, HS wide) = (acc ? out : 0) + rs[r] · Σ_{j<T} p[r,j] m[j,:]
// for p (RB,Tp) and m (T,HS).
VEC_INLINE void blk_pm(float *out, size_t ldo, size_t nr, const float *rs, int acc, const float *p, const float *m,
                       size_t T, size_t HS, size_t Tp) {
    size_t h0 = 0;
    for (; h0 + 16 <= HS; h0 += 16) {
        v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
        for (size_t j = 0; j < T; j++) {
            v8 m0 = v8_load(m + j * HS + h0), m1 = v8_load(m + j * HS + h0 + 8);
            float p0 = p[j], p1 = p[Tp + j], p2 = p[2 * Tp + j], p3 = p[3 * Tp + j];
            c00 += p0 * m0, c01 += p0 * m1;
            c10 += p1 * m0, c11 += p1 * m1;
            c20 += p2 * m0, c21 += p2 * m1;
            c30 += p3 * m0, c31 += p3 * m1;
        }
        float *o = out + h0;
        row_store(o, acc, rs[0], c00), row_store(o + 8, acc, rs[0], c01);
        if (nr > 1) row_store(o + ldo, acc, rs[1], c10), row_store(o + ldo + 8, acc, rs[1], c11);
        if (nr > 2) row_store(o + 2 * ldo, acc, rs[2], c20), row_store(o + 2 * ldo + 8, acc, rs[2], c21);
        if (nr > 3) row_store(o + 3 * ldo, acc, rs[3], c30), row_store(o + 3 * ldo + 8, acc, rs[3], c31);
    }
    if (h0 < HS) {  // the last 8 columns
        v8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
        for (size_t j = 0; j < T; j++) {
            v8 m0 = v8_load(m + j * HS + h0);
            c0 += p[j] * m0, c1 += p[Tp + j] * m0, c2 += p[2 * Tp + j] * m0, c3 += p[3 * Tp + j] * m0;
        }
        float *o = out + h0;
        row_store(o, acc, rs[0], c0);
        if (nr > 1) row_store(o + ldo, acc, rs[1], c1);
        if (nr > 2) row_store(o + 2 * ldo, acc, rs[2], c2);
        if (nr > 3) row_store(o + 3 * ldo, acc, rs[3], c3);
    }
}

// m (T,HS) += Σ_r p[r,:]ᵀ x[r,:] for p (RB,Tp) and x (RB rows, stride ldx, HS wide).
VEC_INLINE void blk_update(float *m, const float *p, const float *x, size_t ldx, size_t T, size_t HS, size_t Tp) {
    for (size_t h0 = 0; h0 < HS; h0 += 8) {
        v8 x0 = v8_load(x + h0), x1 = v8_load(x + ldx + h0), x2 = v8_load(x + 2 * ldx + h0);
        v8 x3 = v8_load(x + 3 * ldx + h0);
        for (size_t j = 0; j < T; j++) {
            float *mj = m + j * HS + h0;
            v8_store(mj, v8_load(mj) + p[j] * x0 + p[Tp + j] * x1 + p[2 * Tp + j] * x2 + p[3 * Tp + j] * x3);
        }
    }
}

VEC_CLONES void tiles_head_forward(float *out, size_t ldo, float *cls, TileScratch *s, const float *qkv, size_t C,
                                   size_t n, size_t q0) {
    size_t T = s->T, Tq = s->Tq, HS = s->HS, Tp = s->Tp;
    tiles_load(s, qkv, C, n, q0, 0);
    float inv[RB];
    for (size_t i0 = 0; i0 < s->Tqp; i0 += RB) {
        size_t nr = Tq - i0 < RB ? Tq - i0 : RB;
        blk_scores(s->a, s->q + i0 * HS, HS, s->kt, HS, Tp);
        blk_softmax(s->a, inv, T, Tp);
        blk_pm(out + i0 * ldo, ldo, nr, inv, 0, s->a, s->v, T, HS, Tp);
        if (cls && Tq - 1 - i0 < nr) {
            size_t r = Tq - 1 - i0;
            for (size_t j = 0; j < T; j++) cls[j] = s->a[r * Tp + j] * inv[r];
        }
    }
}

VEC_CLONES void tiles_head_backward(float *dqkv, const float *dout, size_t ldo, TileScratch *s, const float *qkv,
                                    size_t C, size_t n, size_t q0) {
    size_t T = s->T, Tq = s->Tq, HS = s->HS, Tp = s->Tp;
    tiles_load(s, qkv, C, n, q0, 1);
    for (size_t i = 0; i < Tq; i++) memcpy(s->dy + i * HS, dout + i * ldo, HS * sizeof(float));
    memset(s->dk, 0, 2 * T * HS * sizeof(float));  // dk and dv
    float inv[RB], scale = 1.0f / sqrtf((float)HS), rs[RB] = {scale, scale, scale, scale};
    for (size_t i0 = 0; i0 < s->Tqp; i0 += RB) {
        size_t nr = Tq - i0 < RB ? Tq - i0 : RB;
        float *a = s->a, *da = s->da;  // (RB,Tp)
        blk_scores(a, s->q + i0 * HS, HS, s->kt, HS, Tp);
        blk_softmax(a, inv, T, Tp);
        blk_scores(da, s->dy + i0 * HS, HS, s->vt, HS, Tp);  // da = dy vᵀ
        for (size_t r = 0; r < RB; r++) {  // a normalised; da -> ds = a ⊙ (da − Σ a da)
            float *ar = a + r * Tp, *dr = da + r * Tp, dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (size_t j = 0; j < T; j++) {
                ar[j] *= inv[r];
                dot += ar[j] * dr[j];
            }
#pragma omp simd
            for (size_t j = 0; j < T; j++) dr[j] = ar[j] * (dr[j] - dot);
        }
        // padded rows (i >= Tq) have dy = 0, hence ds = 0: they add nothing below
        blk_pm(dqkv + (q0 + i0) * 3 * C + n * HS, 3 * C, nr, rs, 1, da, s->k, T, HS, Tp);  // dq += scale ds k
        blk_update(s->dk, da, s->q + i0 * HS, HS, T, HS, Tp);                              // dk += dsᵀ (scale q)
        blk_update(s->dv, a, s->dy + i0 * HS, HS, T, HS, Tp);                              // dv += aᵀ dy
    }
    for (size_t t = 0; t < T; t++) {
        float *dk = dqkv + t * 3 * C + C + n * HS, *dv = dk + C;  // (HS), (HS)
        for (size_t h = 0; h < HS; h++) {
            dk[h] += s->dk[t * HS + h];
            dv[h] += s->dv[t * HS + h];
        }
    }
}

#else  // no vector extensions: attention.c uses its BLAS path for every head size
int tiles_supported(size_t HS) { return 0; }
TileScratch tiles_alloc(size_t T, size_t Tq, size_t HS) {
    FATAL("internal error", "attention tiles are not built with this compiler (HS %zu)", HS);
}
void tiles_free(TileScratch *s) {}
void tiles_head_forward(float *out, size_t ldo, float *cls, TileScratch *s, const float *qkv, size_t C, size_t n,
                        size_t q0) {}
void tiles_head_backward(float *dqkv, const float *dout, size_t ldo, TileScratch *s, const float *qkv, size_t C,
                         size_t n, size_t q0) {}
#endif
