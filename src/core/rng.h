// rng: a counter-based random generator. Every draw is a pure function of (seed, stream, a, b),
// so a value never depends on which rank, thread or batch slot asks for it: the model's initial
// weights, the shuffles and the dropout masks are the same for any rank count.
#ifndef KIDA_RNG_H
#define KIDA_RNG_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>

// The generator is also compiled into CUDA kernels (kernels/), so GPU dropout masks equal the
// CPU's bit for bit.
#ifdef __CUDACC__
#define RNG_FN static __host__ __device__ __forceinline__
#else
#define RNG_FN static inline
#endif

RNG_FN uint64_t rng_mix(uint64_t x) {  // splitmix64 finaliser
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

RNG_FN uint64_t rng_u64(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
    return rng_mix(rng_mix(rng_mix(seed ^ rng_mix(stream)) ^ a) + b);
}

// Uniform in [0, 1) with 24 random bits.
RNG_FN float rng_uniform(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
    return (float)(rng_u64(seed, stream, a, b) >> 40) * (1.0f / 16777216.0f);
}

// Standard normal (Box–Muller over two independent draws).
static inline float rng_normal(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
    double u1 = ((double)(rng_u64(seed, stream, a, 2 * b) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    double u2 = (double)(rng_u64(seed, stream, a, 2 * b + 1) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

// Fills perm with a permutation of 0..n-1 that depends only on (seed, stream).
static inline void rng_permutation(size_t *perm, size_t n, uint64_t seed, uint64_t stream) {
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rng_u64(seed, stream, i, 0) % i);
        size_t t = perm[i - 1]; perm[i - 1] = perm[j]; perm[j] = t;
    }
}

// Streams: distinct constants keep the uses of one seed apart.
enum { RNG_STREAM_INIT = 1, RNG_STREAM_SHUFFLE = 2, RNG_STREAM_SPLIT = 3, RNG_STREAM_GENE_DROP = 4, RNG_STREAM_DROPOUT = 1000 };
#endif
