// vecmath: branch-free exp and normal CDF that compilers vectorise inside loops (libm's expf and
// erff are calls, one element at a time, and dominated the attention softmax and GELU).
// Comparisons are written as selects; the model library is built with -fno-trapping-math so the
// vectoriser may if-convert them. They are inlined into the kernels of src/model/kern_body.h,
// which are compiled once per vector path (portable, AVX2, AVX-512) and picked at run time.
#ifndef KIDA_VECMATH_H
#define KIDA_VECMATH_H
#include <stdint.h>
#include <string.h>

// Helpers must be inlined into a kernel to get its instruction set.
#if defined(__GNUC__)
#define VEC_INLINE static inline __attribute__((always_inline))
#else
#define VEC_INLINE static inline
#endif

// e^x for x <= 0 (both callers: softmax after subtracting the row maximum, and exp(−z²)), relative
// error < 2e-7, values below e^-87 flushed to e^-87: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6
// polynomial, 2^n from the exponent bits.
VEC_INLINE float vm_expf(float x) {
    x = x < -87.0f ? -87.0f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest (1.5·2^23 trick)
    float r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;  // ln2 split in two for accuracy
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// Φ(x), the standard normal CDF = 0.5 (1 + erf(x/√2)), absolute error < 3e-7 (1.5e-7 of the formula
// plus float rounding): erfc by
// Abramowitz & Stegun 7.1.26 on |x|/√2 (no cancellation for negative x), reflected for x >= 0.
// phi_out receives the density φ(x) = exp(−x²/2)/√(2π), which GELU's derivative needs too.
VEC_INLINE float vm_normcdf(float x, float *phi_out) {
    float z = (x < 0.0f ? -x : x) * 0.70710678118654752f;
    float t = 1.0f / (1.0f + 0.3275911f * z);
    float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float e = vm_expf(-z * z);
    float half_erfc = 0.5f * poly * e;
    *phi_out = 0.39894228040143268f * e;
    return x < 0.0f ? half_erfc : 1.0f - half_erfc;
}
#endif
