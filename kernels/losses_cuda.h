// losses_cuda: CUDA twins of src/loss/losses.h (softmax, cross-entropy, distillation, the adaptive
// clustering loss). Same semantics and the same double-precision arithmetic per row as the CPU;
// every pointer is device memory. Forward passes return the loss to the host, so they wait for
// `stream` (one synchronisation each); ada_backward_cuda also waits (its (K,K) weight matrix is
// formed on the host, in double, exactly as the CPU forms it). Other calls are asynchronous.
#ifndef KIDA_LOSSES_CUDA_H
#define KIDA_LOSSES_CUDA_H
#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// probs (B,K) = softmax(logits/tau), double inside each row. probs may alias logits.
void softmax_rows_cuda(float *probs, const float *logits, size_t B, size_t K, float tau, cudaStream_t stream);

// Σ_i -log softmax(logits_i)[y_i] over rows with labels >= 0; probs (B,K) filled for every row.
// FATAL (as ce_forward) when a label is >= K.
double ce_forward_cuda(float *probs,            // (B,K)
                       const float *logits,     // (B,K)
                       const int32_t *labels,   // (B) device
                       size_t B, size_t K, cudaStream_t stream);
// dlogits += scale (probs - onehot(y)) for rows with labels >= 0. Labels are validated by
// ce_forward_cuda, which must run first; rows with a label >= K are left alone here.
void ce_backward_cuda(float *dlogits, const float *probs, const int32_t *labels, size_t B, size_t K, float scale,
                      cudaStream_t stream);

// tau^2 Σ_i KL(softmax(teacher_i/tau) || softmax(student_i/tau)) over the B rows.
double kd_forward_cuda(const float *student_logits, const float *teacher_logits, size_t B, size_t K, float tau,
                       cudaStream_t stream);
// dlogits += scale tau (softmax(student/tau) - softmax(teacher/tau)).
void kd_backward_cuda(float *dlogits, const float *student_logits, const float *teacher_logits, size_t B, size_t K,
                      float tau, float scale, cudaStream_t stream);

// L_ada over N gathered rows (see ada_forward): emb (N,C), probs (N,K) = softmax(logits). An (N,N)
// double workspace on the device.
double ada_forward_cuda(const float *emb, const float *probs, size_t N, size_t C, size_t K, cudaStream_t stream);
// demb (N,C) += scale dL/demb, dlogits (N,K) += scale dL/dlogits (through the softmax); either may
// be NULL.
void ada_backward_cuda(float *demb, float *dlogits, const float *emb, const float *probs, size_t N, size_t C, size_t K,
                       float scale, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
