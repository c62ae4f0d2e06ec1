// inspect_model: `kida inspect` of a kida model file (kida train/annotate --model-out, and the
// checkpoints): what the network is and what it was trained on.
#ifndef KIDA_INSPECT_MODEL_H
#define KIDA_INSPECT_MODEL_H
#include <stdio.h>

// 1 when path is an HDF5 file whose root attribute format says kida-model, else 0. FATAL (naming
// the path) when it cannot be opened as HDF5.
int inspect_is_model(const char *path);
// Prints "kida model file: K types, width C, L layers, P pathways", the kida version that wrote
// it, the network's shapes, which weights it holds, the training state of a checkpoint, and the
// first types, pathways and genes. FATAL like kida predict on a damaged model.
void inspect_model_print(const char *path, FILE *out);
#endif
