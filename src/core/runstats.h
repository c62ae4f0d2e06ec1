// runstats: what a run reports at its end. Phases (read, preprocess, inference, write, ...) are
// recorded by each rank as they finish; the summary gives each phase's time (the slowest rank)
// and cells/s (the cells of all ranks over that time), then every rank's peak resident memory.
#ifndef KIDA_RUNSTATS_H
#define KIDA_RUNSTATS_H
#include <stddef.h>

#include "mpi/dist.h"

// A point in time: wall-clock and this process's CPU seconds.
typedef struct {
    double wall, cpu;
} PhaseClock;
PhaseClock phase_clock(void);
// Records that this rank spent wall (cpu) seconds on phase name over cells of its cells (0: no
// rate, e.g. training, whose rate the progress lines give). Every rank records the same phases in
// the same order. Not collective. Up to RUNSTATS_MAX phases.
void phase_add(const char *name, double wall, double cpu, size_t cells);
// phase_add of the time since t0.
void phase_since(const char *name, PhaseClock t0, size_t cells);
#define RUNSTATS_MAX 32
// Collective: rank 0 prints "summary: <phase> <s> s (<cells/s> cells/s, CPU <s> s) | ..." (the
// slowest rank's wall and CPU seconds, the cells of all ranks over that wall time), then
// "peak RSS rank r: N MiB" for every rank (gathered), and the largest and the mean. Once a run:
// a later call does nothing (annotate and predict print it inside their own end-of-run summary).
void run_summary(const Dist *d);
// This process's peak resident set size so far, in MiB (getrusage).
double peak_rss_mib(void);
#endif
