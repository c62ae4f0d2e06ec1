// signals: SIGTERM and SIGUSR1 ask a training run to checkpoint and stop cleanly (Slurm sends
// them before a time limit or preemption). The request is agreed on by all ranks at a step end.
#ifndef KIDA_SIGNALS_H
#define KIDA_SIGNALS_H
#include <stdint.h>

#include "mpi/dist.h"

// Exit status of a run that stopped on a signal after writing its checkpoint (EX_TEMPFAIL).
#define KIDA_EXIT_RESUMABLE 75

void signals_install(void);
// Collective: 1 on every rank if any rank has received SIGTERM/SIGUSR1.
int signals_stop_requested(const Dist *d);
// Test hook: behave as if a signal arrived after this many calls of signals_stop_requested
// (KIDA_STOP_AFTER_STEPS in the environment; 0 = off).
// Test hook of the non-finite stop: for the step (1-based, of a training phase) that
// KIDA_TEST_NAN_AT_STEP names, 1 ("N": the trainer takes its loss as NaN) or 2 ("N:grad": a NaN
// goes into its gradient); 0 for other steps and when unset.
int signals_test_nan_at(uint64_t step);
#endif
