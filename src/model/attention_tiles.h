// attention_tiles: register-tiled kernels for one (cell, head) of attention when the head size is a
// multiple of 8 (HS = 16 at paper shapes). Internal to attention.c; the BLAS path there handles
// other head sizes. Scores, softmax and the value product run on blocks of 4 query rows that stay
// in L1, so nothing (T,T)-sized is ever written, packed or zeroed.
#ifndef KIDA_ATTENTION_TILES_H
#define KIDA_ATTENTION_TILES_H
#include <stddef.h>

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

int tiles_supported(size_t HS);
TileScratch tiles_alloc(size_t T, size_t Tq, size_t HS);
void tiles_free(TileScratch *s);
// One (cell, head): y rows q0..T-1 into out (row stride ldo); the probabilities of the last query
// row into cls (T) when cls is not NULL. qkv: the cell's (T,3C); n: the head.
void tiles_head_forward(float *out, size_t ldo, float *cls, TileScratch *s, const float *qkv, size_t C, size_t n,
                        size_t q0);
// Accumulates the head's q (rows q0..), k and v gradients into dqkv (T,3C) from dout rows (stride ldo).
void tiles_head_backward(float *dqkv, const float *dout, size_t ldo, TileScratch *s, const float *qkv, size_t C,
                         size_t n, size_t q0);
#endif
