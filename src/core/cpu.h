// cpu: what this CPU offers, and the vector path of kida's own kernels (src/model/kern.h). One
// binary holds every path: portable (the compiler's baseline: any x86-64, or any other CPU), avx2
// (AVX2 + FMA, x86-64-v3) and avx512 (AVX-512 F/BW/DQ/VL + FMA, x86-64-v4). The best path the CPU
// has is used unless the environment variable KIDA_CPU_PATH names a lower one; all ranks of a
// job then agree on the lowest (cpu_path_agree), because two paths round differently and the
// ranks must compute the same bits.
#ifndef KIDA_CPU_H
#define KIDA_CPU_H

#include "mpi/dist.h"

typedef enum { CPU_PATH_PORTABLE = 0, CPU_PATH_AVX2 = 1, CPU_PATH_AVX512 = 2, CPU_N_PATHS = 3 } CpuPath;

// The best path of this CPU (and this build: only GCC-compatible x86-64 builds have avx2/avx512).
CpuPath cpu_path_best(void);
// The path in use: the best, or KIDA_CPU_PATH (portable|avx2|avx512; FATAL if unknown or above
// the best), or what cpu_path_set / cpu_path_agree chose.
CpuPath cpu_path(void);
// Uses path p from now on (FATAL when this CPU lacks it). Tests use it to run every path.
void cpu_path_set(CpuPath p);
// Collective: every rank takes the lowest path in use on any rank.
void cpu_path_agree(const Dist *d);
const char *cpu_path_name(CpuPath p);
// What this CPU has for bfloat16 products (src/model/matmul_bf16.c): 2 = AMX-BF16 tiles,
// 1 = AVX512-BF16, 0 = neither.
int cpu_bf16(void);
// The CPU's model name (from /proc/cpuinfo), or "unknown CPU".
const char *cpu_model_name(void);
#endif
