// matmul_bf16: the per-cell dense products in bfloat16 through oneDNN (bf16 inputs, fp32
// accumulation and outputs), for CPUs with AMX-BF16 or AVX512-BF16. Used by matmul.c when the
// precision is bf16; the fp32 weights stay the master copy, and a bf16 mirror of them is made once
// per forward (mm_bf16_weights). In a build without oneDNN every entry point is a stub that says
// so and mm_bf16_build() is 0.
#ifndef KIDA_MATMUL_BF16_H
#define KIDA_MATMUL_BF16_H
#include <stddef.h>
#include <stdint.h>

// 1 when kida was built with oneDNN.
int mm_bf16_build(void);

// Rounds n floats to bfloat16 (round to nearest even), 16-bit patterns.
void mm_bf16_round(uint16_t *dst, const float *src, size_t n);

// The weights every product reads: [base, base + n) is rounded into a bf16 mirror, and a product
// whose w lies inside that range reads the mirror (others round w themselves). Not thread-safe:
// call between parallel regions, after the weights change.
void mm_bf16_weights(const float *base, size_t n);

// The products of matmul.h, in bf16 (R > 1; the calling thread runs them single-threaded).
void mm_bf16_forward(float *out, const float *a, const float *w, size_t R, size_t K, size_t N, int acc);
// Both gradients of one linear layer, sharing one rounding of d: dw (N,K) = dᵀ x (overwritten)
// and din (R,K) = d w (overwritten).
void mm_bf16_backward_linear(float *din, float *dw, const float *d, const float *x, const float *w, size_t R,
                             size_t N, size_t K);

// Frees every thread's primitives and buffers (call outside parallel regions; used again, they
// are made again).
void mm_bf16_release(void);
#endif
