// teacher_in: `kida annotate --teacher MODEL.h5`, the teacher of an earlier run used in place of
// training one, so that one reference trains one teacher for many queries. The model must be
// the network this run would train: the same model genes and their preprocessing statistics,
// pathway tokens, classes and dimensions, which follow from the same reference with the same
// data, knowledge and model options.
#ifndef KIDA_TEACHER_IN_H
#define KIDA_TEACHER_IN_H
#include "train/modelfile.h"

// FATAL unless path is a kida model file that holds teacher weights (checked before any work).
void teacher_in_check_file(const char *path);
// FATAL, naming the first difference, unless the model in path was built for this run's spec.
void teacher_in_check_spec(const char *path, const ModelSpec *run);
#endif
