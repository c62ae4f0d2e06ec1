// bench_common: synthetic paper-size inputs and timing helpers for validation/bench_*.c.
#ifndef KIDA_BENCH_COMMON_H
#define KIDA_BENCH_COMMON_H
#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "model/pathmap.h"

// Median of n timings (sorts t in place).
double bench_median(double *t, size_t n);
// Process CPU seconds (all threads): unlike wall time, not inflated when other jobs share the cores.
double bench_cpu_time(void);
// P tokens of 10..123 random genes each (mean ~66, M ≈ 20000 for P = 300).
PathwayMap bench_paper_map(size_t P, size_t G, uint64_t seed);
// B cells over G genes, each gene nonzero with probability density, values N(0,1).
Csr bench_paper_batch(size_t B, size_t G, double density, uint64_t seed);
#endif
