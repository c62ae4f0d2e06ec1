// outputs: what annotate and predict share once the cells are predicted: the checks of the
// output options before any work, the labels, majority voting, the annotated file, the
// --predictions-out table, and the summary that ends the run.
#ifndef KIDA_CMD_OUTPUTS_H
#define KIDA_CMD_OUTPUTS_H
#include <stddef.h>

#include "core/options.h"
#include "mpi/dist.h"
#include "train/output.h"

// Before any work: --predictions-out can be written (and is not --out or --model-out), and
// --majority-voting / --over-clustering can run (igraph in this build; the column in every query
// file, checked by rank 0). FATAL naming the option and the fix.
void outputs_check(const Config *c);
// Before any work, once the query's size is known: the embedding majority voting gathers on
// rank 0 (n_total cells x width C) fits.
void outputs_check_size(const Config *c, size_t n_total, size_t C);
// Collective: labels, majority voting (when asked), the annotated file (o->out_path) and the
// --predictions-out table. Returns the labels (output_labels_free) for outputs_summary.
OutputLabels outputs_write(const Config *c, const Dist *d, OutputSpec *o);
// Collective (the phase table): rank 0 logs cells per predicted type (the 20 largest, then the
// rest as "others"), the unknown share (a WARNING above half), the time of every phase
// (run_summary), where each output went and the commands to run next (kida evaluate with
// --truth-key truth_key when the annotated file has that obs column, kida report). metrics_path:
// the training's metrics.jsonl, or NULL.
void outputs_summary(const Config *c, const Dist *d, const OutputLabels *l, const char *truth_key,
                     const char *metrics_path);
// The value of key in `key = value` config text (a model file's), as a new string; NULL if absent.
char *outputs_config_value(const char *text, const char *key);
#endif
