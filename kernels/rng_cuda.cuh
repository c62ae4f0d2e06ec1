// rng_cuda: the device twin of src/rng.h's counter-based generator. Same integer arithmetic, so a
// draw on the GPU equals the CPU's bit for bit (the dropout masks of both backends are identical).
#ifndef KIDA_RNG_CUDA_CUH
#define KIDA_RNG_CUDA_CUH
#include <stdint.h>

__device__ __forceinline__ uint64_t rng_mix_dev(uint64_t x) {  // splitmix64 finaliser
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

__device__ __forceinline__ uint64_t rng_u64_dev(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
    return rng_mix_dev(rng_mix_dev(rng_mix_dev(seed ^ rng_mix_dev(stream)) ^ a) + b);
}

// Uniform in [0, 1) with 24 random bits (exact in float, as on the CPU).
__device__ __forceinline__ float rng_uniform_dev(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
    return (float)(rng_u64_dev(seed, stream, a, b) >> 40) * (1.0f / 16777216.0f);
}
#endif
