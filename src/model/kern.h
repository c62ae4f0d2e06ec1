// kern: the vectorised kernels of the CPU model, one table per vector path (src/core/cpu.h). The
// code is written once, in src/model/kern_body.h, and compiled three times: kern_portable.c (the
// compiler's baseline), kern_avx2.c (AVX2 + FMA, 8-float vectors) and kern_avx512.c (AVX-512,
// 16-float vectors: a head of 16 floats is one register). kern() is the table of the path in use.
//
// Every kernel works on one cell, or one span of elements, in the calling thread: the model runs
// a cell's whole forward and backward in one thread (src/model/model.c), so a cell's results
// depend on nothing but its own data and the path. Two paths round differently (FMA contraction,
// vector width of the reductions); one path always gives the same bits.
#ifndef KIDA_KERN_H
#define KIDA_KERN_H
#include <stddef.h>
#include <stdint.h>

#include "core/cpu.h"

// Widest LayerNorm the kernels take (model_init checks C against it).
enum { KERN_LN_MAX = 4096 };

// Per-thread scratch of the attention kernels for one (cell, head), T keys, Tq query rows.
typedef struct {
    size_t T, Tq, HS;   // keys, query rows (T - q0), head size
    size_t Tp, Tqp;     // T rounded up to 16, Tq rounded up to 4 (padding is zero)
    float *q;           // (Tqp,HS) queries scaled by 1/sqrt(HS)
    float *kt, *vt;     // (HS,Tp) keys and values, transposed
    float *k, *v;       // (T,HS)
    float *dy;          // (Tqp,HS) output gradient rows (backward)
    float *dk, *dv;     // (T,HS) key and value gradients (backward)
    float *a, *da;      // (4,Tp) one block of probabilities and their gradient
} TileScratch;

typedef struct {
    CpuPath path;
    // LayerNorm over C, eps 1e-5, of n rows: out, mean (n), rstd (n).
    void (*ln_forward)(float *out, float *mean, float *rstd, const float *in, const float *w, const float *b, size_t n,
                       size_t C);
    // din += LayerNorm'ᵀ dout over n rows; dw += Σ dout·x̂, db += Σ dout (the rows' sums).
    void (*ln_backward)(float *din, float *dw, float *db, const float *dout, const float *in, const float *mean,
                        const float *rstd, const float *w, size_t n, size_t C);
    // out = GELU(in) (may be in place); din = dout ⊙ GELU'(in) (din may equal dout).
    void (*gelu_forward)(float *out, const float *in, size_t n);
    void (*gelu_backward)(float *din, const float *dout, const float *in, size_t n);
    // pre[r] += b, post[r] = GELU(pre[r]) for R rows of F (post may equal pre: then only GELU(pre + b) is kept).
    void (*bias_gelu)(float *pre, float *post, const float *b, size_t R, size_t F);
    // out[i] = res[i] + keep_i · (y[i] + bias[i % C]) / (1 - p) over R rows of C, keep_i drawn as
    // rng_uniform(seed, stream, cell, i0 + i) >= p (all kept when p == 0; keep may then be NULL);
    // bias may be NULL; out may equal res. Then, if ln is not NULL, ln = LayerNorm(out; lnw, lnb)
    // with its mean and rstd.
    void (*residual)(float *out, uint8_t *keep, const float *res, const float *y, const float *bias, uint64_t cell,
                     uint64_t seed, uint64_t stream, float p, size_t R, size_t C, size_t i0, float *ln, float *mean,
                     float *rstd, const float *lnw, const float *lnb);
    // dy = dout ⊙ keep / (1 - p) over n elements.
    void (*dropout_backward)(float *dy, const float *dout, const uint8_t *keep, float p, size_t n);
    // db[o] = Σ_r dy[r,o] over R rows of OC, in row order.
    void (*col_sums)(float *db, const float *dy, size_t R, size_t OC);
    // In place: rows of a (rows, T) become their softmax; da (rows, T) becomes a ⊙ (da − Σ a da).
    void (*softmax_rows)(float *a, size_t rows, size_t T);
    void (*softmax_backward_rows)(float *da, const float *a, size_t rows, size_t T);
    // Attention of one (cell, head) with HS % 8 == 0 (src/model/attention.c): y rows q0..T-1 into
    // out (row stride ldo), the last query row's probabilities into cls (T) when not NULL; backward
    // WRITES the head's q (rows q0..), k and v gradient columns of dqkv (T,3C) and zeroes its q
    // rows below q0.
    void (*head_forward)(float *out, size_t ldo, float *cls, TileScratch *s, const float *qkv, size_t C, size_t n,
                         size_t q0);
    void (*head_backward)(float *dqkv, const float *dout, size_t ldo, TileScratch *s, const float *qkv, size_t C,
                          size_t n, size_t q0);
    // Exact sums (model/gradsum.h): acc[i] += round(v[i] · scale); acc[i] += round(a · v[i] · scale);
    // the largest |v[i]| (NaN when some v[i] is not finite).
    void (*fix_add)(int64_t *acc, const float *v, size_t n, double scale);
    void (*fix_add_scaled)(int64_t *acc, const float *v, float a, size_t n, double scale);
    float (*max_abs)(const float *v, size_t n);
} Kern;

// The table of the path in use (cpu_path()).
const Kern *kern(void);
// The table of path p (tests run every path the CPU has).
const Kern *kern_for(CpuPath p);

// Attention scratch for T keys and Tq query rows of head size HS; zeroed once.
TileScratch tiles_alloc(size_t T, size_t Tq, size_t HS);
void tiles_free(TileScratch *s);
// Head sizes the tiled kernels take (a multiple of 8); others use attention.c's BLAS path.
int tiles_supported(size_t HS);
#endif
