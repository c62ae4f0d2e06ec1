// fingerprint: what makes a run the same run, stored in its checkpoints so that --resume never
// continues another run's checkpoint (other seed, other data, other network). It is text, one
// "key = value" line each:
//   command, and every resolved option except how the run is carried out (threads, log-every,
//     quiet, overwrite, debug-sync, checkpoint-every, resume) and the paths (a file may move:
//     inputs are compared by content);
//   for every input file (references, queries, gene sets, gene coordinates, gene map): its size
//     and a hash of its first and last 64 KiB, under "input <option>[i]".
// Options that may change on resume, with a warning: lr, clip-grad, epochs, student-epochs,
// student-min-steps, early-stop, best-checkpoint, unknown-threshold, attn-all-layers, device,
// precision, majority-voting, over-clustering (the last two change only what is written after
// training; predictions-out is a path). Any other difference is refused.
#ifndef KIDA_FINGERPRINT_H
#define KIDA_FINGERPRINT_H

#include "core/options.h"

// The fingerprint of this run (a new string).
char *fingerprint_make(const Config *c);
// Compares a checkpoint's fingerprint with this run's. FATAL listing what differs (up to 8
// keys: the checkpoint's and this run's values) unless only resumable options differ; those are
// warned about. stored NULL (a checkpoint of an older kida) is a warning.
void fingerprint_check(const char *ckpt_path, const char *stored, const char *now);
#endif
