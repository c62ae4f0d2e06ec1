// matmul: the dense products of one cell, as the model (src/model/model.c) calls them: OpenBLAS
// sgemm in fp32, or oneDNN with bfloat16 inputs and fp32 accumulation in bf16 (mm_set_precision;
// src/model/matmul_bf16.c). Every call is single-threaded and has the same shape for every cell,
// so a cell's products do not depend on the batch around it; one-row products (the cls-only last
// layer, the head) skip the BLAS call and stay fp32 in either precision.
#ifndef KIDA_MATMUL_H
#define KIDA_MATMUL_H
#include <stddef.h>

#include "mpi/dist.h"

typedef enum { MM_FP32 = 0, MM_BF16 = 1 } MmPrecision;
// The precision of the products from now on (FATAL for bf16 where mm_bf16_ok() is 0).
void mm_set_precision(MmPrecision p);
MmPrecision mm_precision(void);
// 1 when bf16 products can run here: a build with oneDNN on a CPU with AMX-BF16 or AVX512-BF16.
int mm_bf16_ok(void);
// Collective: resolves --precision for the CPU on every rank. fp32 and tf32 (a GPU mode) give
// fp32; bf16 gives bf16, FATAL naming the fix when some rank cannot; auto gives bf16 when every
// rank has AMX-BF16, else fp32. Logs the choice.
void mm_choose_precision(const char *precision, const Dist *d);
// A one-line description of the product path in use ("fp32 (OpenBLAS sgemm)", ...).
const char *mm_precision_desc(void);
// Call after the weights change and before the products read them (the bf16 mirror of
// [base, base + n)); nothing in fp32.
void mm_weights_changed(const float *base, size_t n);

// w is a weight matrix (N,K) row-major (torch.nn.Linear's (out, in)).
// out (R,N) = (acc ? out : 0) + a (R,K) · wᵀ            the forward of a linear layer
void mm_forward(float *out, const float *a, const float *w, size_t R, size_t K, size_t N, int acc);
// out (R,K) = (acc ? out : 0) + d (R,N) · w               its input gradient
void mm_backward_data(float *out, const float *d, const float *w, size_t R, size_t N, size_t K, int acc);
// out (N,K) = d (R,N)ᵀ · x (R,K)                          its weight gradient (overwritten)
void mm_backward_weight(float *out, const float *d, const float *x, size_t R, size_t N, size_t K);
// Both gradients of a linear layer: dw (N,K) = dᵀ x and din (R,K) = d w, both overwritten.
void mm_backward_linear(float *din, float *dw, const float *d, const float *x, const float *w, size_t R, size_t N,
                        size_t K);
#endif
