// kern_body: the kernels of src/model/kern.h, included once by each of kern_portable.c,
// kern_avx2.c and kern_avx512.c after they set the target and define
//   KERN_VW    floats per vector (8 or 16)
//   KERN_NAME  the table's name (kern_portable, ...)
//   KERN_PATH  its CpuPath
// Everything here is static; only the table escapes. GCC/Clang vector extensions (vf: KERN_VW
// floats) carry the register tiles; the rest are loops the vectoriser takes (omp simd).
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rng.h"
#include "model/kern.h"
#include "model/vecmath.h"

#pragma GCC diagnostic ignored "-Wpsabi"  // vf by value in always-inlined helpers only

typedef float vf __attribute__((vector_size(KERN_VW * 4)));
enum { VW = KERN_VW, NV = 16 / KERN_VW, RB = KERN_VW == 16 ? 8 : 4 };  // a tile: RB rows x 16 columns
// Fully unrolled tile loops: their accumulators stay in registers (-O2 does not unroll them, and
// an accumulator array left in memory puts a store and a reload on every multiply-add).
#define UNROLL _Pragma("GCC unroll 16")

VEC_INLINE vf vf_load(const float *p) {
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
VEC_INLINE void vf_store(float *p, vf v) { memcpy(p, &v, sizeof v); }

// Sums in a fixed order whatever the data's alignment (omp simd reductions may peel a few elements
// for alignment, and a cell's rows do not sit at the same alignment in every batch): lane k adds
// elements k, k + VW, ...; then the lanes in order; then the tail.
VEC_INLINE float vf_hsum(vf v) {
    float s = 0.0f;
    for (size_t k = 0; k < VW; k++) s += v[k];
    return s;
}
VEC_INLINE float row_sum(const float *x, size_t n) {
    vf acc = {0};
    size_t i = 0;
    for (; i + VW <= n; i += VW) acc += vf_load(x + i);
    float s = vf_hsum(acc);
    for (; i < n; i++) s += x[i];
    return s;
}
VEC_INLINE float row_dot(const float *x, const float *y, size_t n) {
    vf acc = {0};
    size_t i = 0;
    for (; i + VW <= n; i += VW) acc += vf_load(x + i) * vf_load(y + i);
    float s = vf_hsum(acc);
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}
// Σ (x - m)^2
VEC_INLINE float row_sqdev(const float *x, float m, size_t n) {
    vf acc = {0};
    size_t i = 0;
    for (; i + VW <= n; i += VW) {
        vf d = vf_load(x + i) - m;
        acc += d * d;
    }
    float s = vf_hsum(acc);
    for (; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return s;
}

// ---- LayerNorm

static void ln_forward(float *restrict out, float *restrict mean, float *restrict rstd, const float *restrict in,
                       const float *restrict w, const float *restrict b, size_t n, size_t C) {
    for (size_t r = 0; r < n; r++) {
        const float *x = in + r * C;
        float *o = out + r * C;
        float m = row_sum(x, C) / (float)C;
        float v = row_sqdev(x, m, C) / (float)C;
        float s = 1.0f / sqrtf(v + 1e-5f);
#pragma omp simd
        for (size_t c = 0; c < C; c++) o[c] = (x[c] - m) * s * w[c] + b[c];
        mean[r] = m;
        rstd[r] = s;
    }
}

// xhat = (x - m) s; dxhat = dy w; dx = s (dxhat - mean(dxhat) - xhat mean(dxhat xhat))
static void ln_backward(float *restrict din, float *restrict dw, float *restrict db, const float *restrict dout,
                        const float *restrict in, const float *restrict mean, const float *restrict rstd,
                        const float *restrict w, size_t n, size_t C) {
    for (size_t r = 0; r < n; r++) {
        const float *x = in + r * C, *dy = dout + r * C;
        float *dx = din + r * C;
        float m = mean[r], s = rstd[r];
        float xh[KERN_LN_MAX], dxh[KERN_LN_MAX];  // C <= KERN_LN_MAX, checked by the callers' model config
#pragma omp simd
        for (size_t c = 0; c < C; c++) {
            xh[c] = (x[c] - m) * s;
            dxh[c] = dy[c] * w[c];
            dw[c] += dy[c] * xh[c];
            db[c] += dy[c];
        }
        float mdx = row_sum(dxh, C) / (float)C, mdxx = row_dot(dxh, xh, C) / (float)C;
#pragma omp simd
        for (size_t c = 0; c < C; c++) {
            float xh = (x[c] - m) * s;
            dx[c] += s * (dy[c] * w[c] - mdx - xh * mdxx);
        }
    }
}

// ---- GELU (exact): x Φ(x); derivative Φ(x) + x φ(x)

static void gelu_forward(float *out, const float *in, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float phi, x = in[i];
        out[i] = x * vm_normcdf(x, &phi);
    }
}

static void gelu_backward(float *din, const float *dout, const float *in, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float phi, x = in[i];
        float cdf = vm_normcdf(x, &phi);
        din[i] = dout[i] * (cdf + x * phi);
    }
}

static void bias_gelu(float *pre, float *post, const float *restrict b, size_t R, size_t F) {
    for (size_t r = 0; r < R; r++) {
        float *p = pre + r * F, *q = post + r * F;
#pragma omp simd
        for (size_t f = 0; f < F; f++) {
            float phi, x = p[f] + b[f];
            p[f] = x;
            q[f] = x * vm_normcdf(x, &phi);
        }
    }
}

// ---- residual, dropout, LayerNorm

static void residual(float *out, uint8_t *keep, const float *res, const float *restrict y, const float *restrict bias,
                     uint64_t cell, uint64_t seed, uint64_t stream, float p, size_t R, size_t C, size_t i0,
                     float *restrict ln, float *restrict mean, float *restrict rstd, const float *restrict lnw,
                     const float *restrict lnb) {
    float scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
    for (size_t r = 0; r < R; r++) {
        const float *yr = y + r * C, *rr = res + r * C;
        float *o = out + r * C;
        if (p > 0.0f) {
            uint8_t *kr = keep + r * C;
            for (size_t c = 0; c < C; c++) kr[c] = rng_uniform(seed, stream, cell, i0 + r * C + c) >= p;
#pragma omp simd
            for (size_t c = 0; c < C; c++) o[c] = rr[c] + (kr[c] ? ((bias ? bias[c] : 0.0f) + yr[c]) * scale : 0.0f);
        } else {
#pragma omp simd
            for (size_t c = 0; c < C; c++) o[c] = rr[c] + ((bias ? bias[c] : 0.0f) + yr[c]);
        }
    }
    if (ln) ln_forward(ln, mean, rstd, out, lnw, lnb, R, C);
}

static void dropout_backward(float *restrict dy, const float *restrict dout, const uint8_t *restrict keep, float p,
                             size_t n) {
    float scale = 1.0f / (1.0f - p);
#pragma omp simd
    for (size_t i = 0; i < n; i++) dy[i] = keep[i] ? dout[i] * scale : 0.0f;
}

static void col_sums(float *restrict db, const float *restrict dy, size_t R, size_t OC) {
    memcpy(db, dy, OC * sizeof(float));
    for (size_t r = 1; r < R; r++) {
        const float *d = dy + r * OC;
#pragma omp simd
        for (size_t o = 0; o < OC; o++) db[o] += d[o];
    }
}

// ---- softmax rows (attention's BLAS path)

// row = exp(row − max row) over T entries; returns Σ row.
VEC_INLINE float row_exp(float *row, size_t T) {
    float mx = row[0];
#pragma omp simd reduction(max : mx)
    for (size_t j = 1; j < T; j++) mx = row[j] > mx ? row[j] : mx;
#pragma omp simd
    for (size_t j = 0; j < T; j++) row[j] = vm_expf(row[j] - mx);
    return row_sum(row, T);
}

static void softmax_rows(float *a, size_t rows, size_t T) {
    for (size_t i = 0; i < rows; i++) {
        float *row = a + i * T;
        float inv = 1.0f / row_exp(row, T);
#pragma omp simd
        for (size_t j = 0; j < T; j++) row[j] *= inv;
    }
}

static void softmax_backward_rows(float *da, const float *a, size_t rows, size_t T) {
    for (size_t i = 0; i < rows; i++) {
        float *d = da + i * T;
        const float *p = a + i * T;
        float dot = row_dot(p, d, T);
#pragma omp simd
        for (size_t j = 0; j < T; j++) d[j] = p[j] * (d[j] - dot);
    }
}

// ---- attention tiles: blocks of RB query rows against 16-column blocks of keys, in registers

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
        vf c[RB][NV];
        UNROLL for (size_t r = 0; r < RB; r++)
            UNROLL for (size_t k = 0; k < NV; k++) c[r][k] = (vf){0};
        for (size_t h = 0; h < HS; h++) {
            vf m[NV];
            UNROLL for (size_t k = 0; k < NV; k++) m[k] = vf_load(mt + h * Tp + j + k * VW);
            UNROLL for (size_t r = 0; r < RB; r++) {
                float xr = x[r * ldx + h];
                UNROLL for (size_t k = 0; k < NV; k++) c[r][k] += xr * m[k];
            }
        }
        UNROLL for (size_t r = 0; r < RB; r++)
            UNROLL for (size_t k = 0; k < NV; k++) vf_store(out + r * Tp + j + k * VW, c[r][k]);
    }
}

typedef int32_t vi __attribute__((vector_size(KERN_VW * 4)));
VEC_INLINE vf vf_max(vf a, vf b) {
    vi m = a > b;
    return (vf)((m & (vi)a) | (~m & (vi)b));
}

// Rows of a (RB,Tp) over their first T entries (Tp: T rounded up to 16): a = exp(a − max),
// inv[r] = 1 / Σ_j a (not applied). The same bits as row_exp row by row (a max is exact in any order, the sums keep row_sum's
// order), but the RB rows' reductions run side by side: one row's chain of dependent adds would
// leave the vector unit idle.
VEC_INLINE void blk_softmax(float *a, float *inv, size_t T, size_t Tp) {
    size_t nv = T / VW * VW;  // entries in whole vectors
    if (nv == 0) {
        for (size_t r = 0; r < RB; r++) inv[r] = 1.0f / row_exp(a + r * Tp, T);
        return;
    }
    vf acc[RB];
    float mx[RB];
    UNROLL for (size_t r = 0; r < RB; r++) acc[r] = vf_load(a + r * Tp);
    for (size_t j = VW; j < nv; j += VW)
        UNROLL for (size_t r = 0; r < RB; r++) acc[r] = vf_max(acc[r], vf_load(a + r * Tp + j));
    if (nv < T) {  // the last, partial vector: lanes past T (padding, inside Tp) count as -inf
        vi live;
        vf ninf;
        for (size_t k = 0; k < VW; k++) live[k] = nv + k < T ? -1 : 0, ninf[k] = -INFINITY;
        UNROLL for (size_t r = 0; r < RB; r++) {
            vi v = (vi)vf_load(a + r * Tp + nv);
            acc[r] = vf_max(acc[r], (vf)((live & v) | (~live & (vi)ninf)));
        }
    }
    UNROLL for (size_t r = 0; r < RB; r++) {
        float m = acc[r][0];
        for (size_t k = 1; k < VW; k++) m = acc[r][k] > m ? acc[r][k] : m;
        mx[r] = m;
    }
    for (size_t r = 0; r < RB; r++) {
        float *row = a + r * Tp, m = mx[r];
#pragma omp simd
        for (size_t j = 0; j < T; j++) row[j] = vm_expf(row[j] - m);
    }
    UNROLL for (size_t r = 0; r < RB; r++) acc[r] = (vf){0};
    for (size_t j = 0; j < nv; j += VW)
        UNROLL for (size_t r = 0; r < RB; r++) acc[r] += vf_load(a + r * Tp + j);
    UNROLL for (size_t r = 0; r < RB; r++) {
        float s = vf_hsum(acc[r]);
        for (size_t j = nv; j < T; j++) s += a[r * Tp + j];
        inv[r] = 1.0f / s;
    }
}

// dot[r] = Σ_{j<T} x[r,j] y[r,j] for RB rows of stride Tp, in row_dot's order, rows side by side.
VEC_INLINE void blk_dots(float *dot, const float *x, const float *y, size_t T, size_t Tp) {
    size_t nv = T / VW * VW;
    vf acc[RB];
    UNROLL for (size_t r = 0; r < RB; r++) acc[r] = (vf){0};
    for (size_t j = 0; j < nv; j += VW)
        UNROLL for (size_t r = 0; r < RB; r++) acc[r] += vf_load(x + r * Tp + j) * vf_load(y + r * Tp + j);
    UNROLL for (size_t r = 0; r < RB; r++) {
        float s = vf_hsum(acc[r]);
        for (size_t j = nv; j < T; j++) s += x[r * Tp + j] * y[r * Tp + j];
        dot[r] = s;
    }
}

// out rows r < nr (stride ldo, HS wide) = (acc ? out : 0) + rs[r] · Σ_{j<T} p[r,j] m[j,:]
// for p (RB,Tp) and m (T,HS); HS % 8 == 0.
VEC_INLINE void blk_pm(float *out, size_t ldo, size_t nr, const float *rs, int acc, const float *p, const float *m,
                       size_t T, size_t HS, size_t Tp) {
    for (size_t h0 = 0; h0 < HS; h0 += VW) {
        if (h0 + VW > HS) {  // 8 columns left on the 16-float path: scalar-width tail
            for (size_t r = 0; r < nr; r++)
                for (size_t h = h0; h < HS; h++) {
                    float s = 0.0f;
                    for (size_t j = 0; j < T; j++) s += p[r * Tp + j] * m[j * HS + h];
                    out[r * ldo + h] = (acc ? out[r * ldo + h] : 0.0f) + rs[r] * s;
                }
            break;
        }
        vf c[RB];
        UNROLL for (size_t r = 0; r < RB; r++) c[r] = (vf){0};
        for (size_t j = 0; j < T; j++) {
            vf mj = vf_load(m + j * HS + h0);
            UNROLL for (size_t r = 0; r < RB; r++) c[r] += p[r * Tp + j] * mj;
        }
        for (size_t r = 0; r < nr; r++) {
            float *o = out + r * ldo + h0;
            vf_store(o, (acc ? vf_load(o) : (vf){0}) + rs[r] * c[r]);
        }
    }
}

// m (T,HS) += Σ_r p[r,:]ᵀ x[r,:] for p (RB,Tp) and x (RB rows, stride ldx, HS wide).
VEC_INLINE void blk_update(float *m, const float *p, const float *x, size_t ldx, size_t T, size_t HS, size_t Tp) {
    for (size_t h0 = 0; h0 < HS; h0 += VW) {
        if (h0 + VW > HS) {
            for (size_t j = 0; j < T; j++)
                for (size_t h = h0; h < HS; h++)
                    for (size_t r = 0; r < RB; r++) m[j * HS + h] += p[r * Tp + j] * x[r * ldx + h];
            break;
        }
        vf xr[RB];
        UNROLL for (size_t r = 0; r < RB; r++) xr[r] = vf_load(x + r * ldx + h0);
        for (size_t j = 0; j < T; j++) {
            float *mj = m + j * HS + h0;
            vf acc = vf_load(mj);
            UNROLL for (size_t r = 0; r < RB; r++) acc += p[r * Tp + j] * xr[r];
            vf_store(mj, acc);
        }
    }
}

static void head_forward(float *out, size_t ldo, float *cls, TileScratch *s, const float *qkv, size_t C, size_t n,
                         size_t q0) {
    size_t T = s->T, Tq = s->Tq, HS = s->HS, Tp = s->Tp;
    tiles_load(s, qkv, C, n, q0, 0);
    float inv[RB];
    for (size_t i0 = 0; i0 < Tq; i0 += RB) {  // rows Tq..Tqp-1 of q and dy stay zero
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

static void head_backward(float *dqkv, const float *dout, size_t ldo, TileScratch *s, const float *qkv, size_t C,
                          size_t n, size_t q0) {
    size_t T = s->T, Tq = s->Tq, HS = s->HS, Tp = s->Tp;
    tiles_load(s, qkv, C, n, q0, 1);
    for (size_t i = 0; i < Tq; i++) memcpy(s->dy + i * HS, dout + i * ldo, HS * sizeof(float));
    memset(s->dk, 0, 2 * T * HS * sizeof(float));  // dk and dv
    float inv[RB], scale = 1.0f / sqrtf((float)HS), rs[RB];
    for (size_t r = 0; r < RB; r++) rs[r] = scale;
    for (size_t t = 0; t < q0; t++) memset(dqkv + t * 3 * C + n * HS, 0, HS * sizeof(float));
    for (size_t i0 = 0; i0 < Tq; i0 += RB) {  // rows Tq..Tqp-1 of q and dy stay zero
        size_t nr = Tq - i0 < RB ? Tq - i0 : RB;
        float *a = s->a, *da = s->da;  // (RB,Tp)
        blk_scores(a, s->q + i0 * HS, HS, s->kt, HS, Tp);
        blk_softmax(a, inv, T, Tp);
        blk_scores(da, s->dy + i0 * HS, HS, s->vt, HS, Tp);  // da = dy vᵀ
        for (size_t r = 0; r < RB; r++) {  // a normalised
            float *ar = a + r * Tp;
#pragma omp simd
            for (size_t j = 0; j < T; j++) ar[j] *= inv[r];
        }
        float dot[RB];
        blk_dots(dot, a, da, T, Tp);
        for (size_t r = 0; r < RB; r++) {  // da -> ds = a ⊙ (da − Σ a da)
            float *ar = a + r * Tp, *dr = da + r * Tp;
#pragma omp simd
            for (size_t j = 0; j < T; j++) dr[j] = ar[j] * (dr[j] - dot[r]);
        }
        // padded rows (i >= Tq) have dy = 0, hence ds = 0: they add nothing below
        blk_pm(dqkv + (q0 + i0) * 3 * C + n * HS, 3 * C, nr, rs, 0, da, s->k, T, HS, Tp);  // dq = scale ds k
        blk_update(s->dk, da, s->q + i0 * HS, HS, T, HS, Tp);                              // dk += dsᵀ (scale q)
        blk_update(s->dv, a, s->dy + i0 * HS, HS, T, HS, Tp);                              // dv += aᵀ dy
    }
    for (size_t t = 0; t < T; t++) {
        float *dk = dqkv + t * 3 * C + C + n * HS, *dv = dk + C;  // (HS), (HS)
        memcpy(dk, s->dk + t * HS, HS * sizeof(float));
        memcpy(dv, s->dv + t * HS, HS * sizeof(float));
    }
}

// ---- exact sums

// Rounds y (|y| < 2^51) to the nearest integer: adding 1.5·2^52 leaves the integer in the low
// mantissa bits (IEEE round to nearest even, the same on every machine).
VEC_INLINE int64_t round_grid(double y) {
    double t = y + 6755399441055744.0;
    int64_t bits;
    memcpy(&bits, &t, sizeof bits);
    return bits - 0x4338000000000000;
}

static void fix_add(int64_t *restrict acc, const float *restrict v, size_t n, double scale) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) acc[i] += round_grid((double)v[i] * scale);
}

static void fix_add_scaled(int64_t *restrict acc, const float *restrict v, float a, size_t n, double scale) {
    double as = (double)a * scale;  // exact: scale is a power of two
#pragma omp simd
    for (size_t i = 0; i < n; i++) acc[i] += round_grid((double)v[i] * as);
}

// NaN when some v[i] is NaN or infinite (a max reduction alone would pass over a NaN).
static float max_abs(const float *v, size_t n) {
    float m = 0.0f;
    int bad = 0;
#pragma omp simd reduction(max : m) reduction(| : bad)
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(v[i]);
        bad |= !(a <= FLT_MAX);
        m = a > m ? a : m;
    }
    return bad ? NAN : m;
}

const Kern KERN_NAME = {
    .path = KERN_PATH,
    .ln_forward = ln_forward,
    .ln_backward = ln_backward,
    .gelu_forward = gelu_forward,
    .gelu_backward = gelu_backward,
    .bias_gelu = bias_gelu,
    .residual = residual,
    .dropout_backward = dropout_backward,
    .col_sums = col_sums,
    .softmax_rows = softmax_rows,
    .softmax_backward_rows = softmax_backward_rows,
    .head_forward = head_forward,
    .head_backward = head_backward,
    .fix_add = fix_add,
    .fix_add_scaled = fix_add_scaled,
    .max_abs = max_abs,
};
