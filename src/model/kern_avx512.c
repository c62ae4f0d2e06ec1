// kern_avx512: the kernels (kern_body.h) for AVX-512 F/BW/DQ/VL + FMA (x86-64-v4), 16-float
// vectors: one head of 16 floats per register.
#if defined(__GNUC__) && defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,prefer-vector-width=512")
#define KERN_VW 16
#define KERN_NAME kern_avx512
#define KERN_PATH CPU_PATH_AVX512
#include "model/kern_body.h"
#endif
