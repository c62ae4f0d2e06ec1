// exactsum: exact, order-independent sums of float32 values. A sum is held as a fixed-point
// integer in units of 2^-149 (the smallest float32 subnormal), split into EXACT_NDIG 32-bit
// digits stored in int64 slots; adding a value touches two digits. Because integer addition is
// associative, the sum over any split of the values (row blocks, ranks: the digits of partial
// sums are simply added, e.g. by dist_allreduce_sum_i64) is bit-identical.
#ifndef KIDA_EXACTSUM_H
#define KIDA_EXACTSUM_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// float32 magnitudes reach 2^128 = 2^277 units; ten 32-bit digits leave 43 bits for the count.
#define EXACT_NDIG 10
// Adds this many values at most to a slot between two exact_normalize calls (each add puts
// less than 2^32 into a slot, so slots stay below 2^62).
#define EXACT_MAX_ADDS ((size_t)1 << 30)

// acc += v, where digit i of the sum is acc[i * stride] (stride 1: EXACT_NDIG contiguous slots;
// a larger stride interleaves several sums so that the digits one value touches share a cache
// line). v must be finite.
static inline void exact_add_f32(int64_t *acc, size_t stride, float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    uint32_t e = (u >> 23) & 0xffu, m = u & 0x7fffffu;
    if (e) m |= 0x800000u; else e = 1;           // subnormals share the exponent of 1
    unsigned s = e - 1;                          // value = m * 2^s units, s in [0, 253]
    uint64_t w = (uint64_t)m << (s & 31);        // < 2^55
    int64_t lo = (int64_t)(w & 0xffffffffu), hi = (int64_t)(w >> 32);
    if (u >> 31) { lo = -lo; hi = -hi; }
    acc[(s >> 5) * stride] += lo;
    acc[((s >> 5) + 1) * stride] += hi;
}

// Carries every digit but the last into [0, 2^32), the last keeps the sign. Value unchanged.
void exact_normalize(int64_t *acc, size_t stride);
// The sum as a double (deterministic rounding of the exact value; error below 2 ulp).
double exact_to_double(const int64_t *acc, size_t stride);
#endif
