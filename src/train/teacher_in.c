// teacher_in: see teacher_in.h.
#include "train/teacher_in.h"

#include "core/atomic.h"
#include "core/log.h"

#define FIX "train the teacher with `kida train` on this --reference with the same data, knowledge and model options " \
            "(the model's own options: kida inspect MODEL.h5), or leave out --teacher"

void teacher_in_check_file(const char *path) {
    if (!path_exists(path)) FATAL("give a model saved by `kida train --model-out` or `kida annotate --model-out`",
                                  "--teacher %s: no such file", path);
    ModelSpec s;
    modelfile_read_spec(path, &s);  // FATAL when it is not a kida model
    modelspec_free(&s);
    if (!modelfile_has(path, "teacher"))
        FATAL("give a model saved by `kida train --model-out` or `kida annotate --model-out`",
              "--teacher %s: the file holds no teacher weights", path);
}

void teacher_in_check_spec(const char *path, const ModelSpec *run) {
    ModelSpec m;
    char why[512];
    modelfile_read_spec(path, &m);
    const char *d = modelspec_diff(&m, run, why, sizeof why);
    modelspec_free(&m);
    if (d) FATAL(FIX, "--teacher %s: %s", path, d);
}
