// teacher_in: see teacher_in.h.
#include "train/teacher_in.h"

#include <math.h>
#include <string.h>

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

static void same_size(const char *path, const char *what, size_t model, size_t run) {
    if (model != run)
        FATAL(FIX, "--teacher %s: %s differ: the model has %zu, this run %zu", path, what, model, run);
}

void teacher_in_check_spec(const char *path, const ModelSpec *run) {
    ModelSpec m;
    modelfile_read_spec(path, &m);
    same_size(path, "the classes", m.K, run->K);
    for (size_t k = 0; k < m.K; k++)
        if (strcmp(m.classes[k], run->classes[k]))
            FATAL(FIX, "--teacher %s: class %zu differs: the model has `%s`, this reference `%s`", path, k + 1,
                  m.classes[k], run->classes[k]);
    same_size(path, "the model genes", m.prep.G, run->prep.G);
    for (size_t g = 0; g < m.prep.G; g++) {
        if (strcmp(m.prep.gene_names[g], run->prep.gene_names[g]))
            FATAL(FIX, "--teacher %s: model gene %zu differs: the model has %s, this run %s", path, g + 1,
                  m.prep.gene_names[g], run->prep.gene_names[g]);
        // the same reference gives the same statistics up to the last bits of a sum's order
        float a[2] = {m.prep.mean[g], m.prep.std[g]}, b[2] = {run->prep.mean[g], run->prep.std[g]};
        for (int j = 0; j < 2; j++)
            if (!(fabsf(a[j] - b[j]) <= 1e-4f * (1.0f + fabsf(b[j]))))
                FATAL(FIX, "--teacher %s: gene %s has %s %.6g in the model and %.6g in this reference: the teacher was "
                      "trained on other cells", path, m.prep.gene_names[g], j ? "standard deviation" : "mean", a[j], b[j]);
    }
    same_size(path, "the pathway tokens", m.pw.P, run->pw.P);
    for (size_t p = 0; p < m.pw.P; p++) {
        if (strcmp(m.pw.names[p], run->pw.names[p]))
            FATAL(FIX, "--teacher %s: pathway token %zu differs: the model has %s, this run %s", path, p + 1,
                  m.pw.names[p], run->pw.names[p]);
        size_t n = m.pw.path_ptr[p + 1] - m.pw.path_ptr[p];
        int same = n == run->pw.path_ptr[p + 1] - run->pw.path_ptr[p] && m.pw.path_ptr[p] == run->pw.path_ptr[p] &&
                   !memcmp(m.pw.member_gene + m.pw.path_ptr[p], run->pw.member_gene + run->pw.path_ptr[p],
                           n * sizeof(int32_t));
        if (!same) FATAL(FIX, "--teacher %s: pathway token %s has other member genes in the model", path, m.pw.names[p]);
    }
    same_size(path, "the widths (--width)", m.mc.C, run->mc.C);
    same_size(path, "the layer counts (--layers)", m.mc.L, run->mc.L);
    same_size(path, "the head counts (--heads)", m.mc.NH, run->mc.NH);
    same_size(path, "the MLP widths", m.mc.F, run->mc.F);
    modelspec_free(&m);
}
