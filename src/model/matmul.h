// matmul: the dense products of one cell, as the model (src/model/model.c) calls them (OpenBLAS
// sgemm). Every call is single-threaded and has the same shape for every cell, so a cell's
// products do not depend on the batch around it; one-row products (the cls-only last layer, the
// head) skip the BLAS call.
#ifndef KIDA_MATMUL_H
#define KIDA_MATMUL_H
#include <stddef.h>

// w is a weight matrix (N,K) row-major (torch.nn.Linear's (out, in)).
// out (R,N) = (acc ? out : 0) + a (R,K) · wᵀ            the forward of a linear layer
void mm_forward(float *out, const float *a, const float *w, size_t R, size_t K, size_t N, int acc);
// out (R,K) = (acc ? out : 0) + d (R,N) · w               its input gradient
void mm_backward_data(float *out, const float *d, const float *w, size_t R, size_t N, size_t K, int acc);
// out (N,K) = d (R,N)ᵀ · x (R,K)                          its weight gradient (overwritten)
void mm_backward_weight(float *out, const float *d, const float *x, size_t R, size_t N, size_t K);
#endif
