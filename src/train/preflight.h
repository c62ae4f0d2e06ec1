// preflight: checks made before any training, so that a run does not fail after hours of work
// (outputs that cannot be written, a full disk, a network larger than the machine), and the
// warning a finished run gives when most of its cells came back `unknown`.
#ifndef KIDA_PREFLIGHT_H
#define KIDA_PREFLIGHT_H
#include <stddef.h>

#include "model/model.h"
#include "mpi/dist.h"

// FATAL unless a file can be created in the folder of path (`option` names it; a probe file is
// made and removed). Removes the temporaries killed runs left for path on this host. Rank 0
// only (the rank that writes outputs); a no-op on the others.
void preflight_writable(const char *path, const char *option);

// Outputs of a run and the bytes each will need at least; checked together against the free
// space (statvfs) of the file systems they are on, and each against the file size limit.
typedef struct {
    const char *path, *option;
    double bytes;
} PlannedOutput;
// FATAL when the outputs on one file system need more than it has free (rank 0 checks).
void preflight_space(const PlannedOutput *o, size_t n);

// FATAL when the network of mc with max_B cells per rank step does not fit: BLAS's 32-bit sizes,
// or more memory than this node has per rank (n_models networks in training at once).
void preflight_network(const ModelConfig *mc, size_t max_B, int n_models, const Dist *d);

// Bytes of a model file / checkpoint holding n_models networks of mc (a lower bound).
double preflight_model_bytes(const ModelConfig *mc, int n_models, int with_state);

// Warns when more than half of n cells were labelled `unknown`.
void preflight_warn_unknown(size_t n_unknown, size_t n, double threshold);
#endif
