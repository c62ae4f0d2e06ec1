// kern_avx2: the kernels (kern_body.h) for AVX2 + FMA (x86-64-v3), 8-float vectors.
#if defined(__GNUC__) && defined(__x86_64__)
#pragma GCC target("avx2,fma")
#define KERN_VW 8
#define KERN_NAME kern_avx2
#define KERN_PATH CPU_PATH_AVX2
#include "model/kern_body.h"
#endif
