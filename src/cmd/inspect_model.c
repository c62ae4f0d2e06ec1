// inspect_model: see inspect_model.h.
#include "cmd/inspect_model.h"

#include <stdlib.h>
#include <string.h>

#include "io/h5util.h"
#include "train/modelfile.h"

#define SHOW_NAMES 8

int inspect_is_model(const char *path) {
    h5u_init();
    hid_t f = h5u_open_read(path, NULL);   // FATAL, naming the path, when it is no HDF5 file
    char *fmt = h5u_attr_string(f, "format");
    int is = fmt && !strcmp(fmt, KIDA_MODEL_FORMAT);
    free(fmt);
    h5u_close(f, path);
    return is;
}

static void print_list(FILE *out, const char *what, char *const *v, size_t n) {
    fprintf(out, "%-11s %zu:", what, n);
    for (size_t i = 0; i < n && i < SHOW_NAMES; i++) fprintf(out, "%s %s", i ? "," : "", v[i]);
    if (n > SHOW_NAMES) fprintf(out, ", ... %zu more", n - SHOW_NAMES);
    fputc('\n', out);
}

static const char *phase_name(Phase p) {
    return p == PHASE_TEACHER ? "teacher" : p == PHASE_STUDENT ? "student" : "done";
}

void inspect_model_print(const char *path, FILE *out) {
    ModelSpec s;
    modelfile_read_spec(path, &s);   // every check of a model that predict would read
    const ModelConfig *m = &s.mc;
    fprintf(out, "file:       %s\n", path);
    fprintf(out, "kida model file: %zu types, width %zu, %zu layer%s, %zu pathways\n", m->K, m->C, m->L,
            m->L == 1 ? "" : "s", m->P);
    hid_t f = h5u_open_read(path, NULL);
    char *ver = h5u_attr_string(f, "kida_version");
    h5u_close(f, path);
    fprintf(out, "written by: kida %s\n", ver ? ver : "(version not recorded)");
    free(ver);
    fprintf(out, "network:    %zu genes in, %zu heads, MLP %zu, %zu gene-pathway memberships\n", m->G, m->NH, m->F, m->M);
    int teacher = modelfile_has(path, "teacher"), student = modelfile_has(path, "student");
    fprintf(out, "weights:    %s%s%s (predict uses the %s)\n", teacher ? "teacher" : "", teacher && student ? ", " : "",
            student ? "student" : "", student ? "student" : "teacher");
    TrainState st;
    if (modelfile_read_state(path, &st)) {
        fprintf(out, "checkpoint: phase %s, epoch %zu, step %llu (kida annotate/train --resume continues it)\n",
                phase_name(st.phase), st.epoch, (unsigned long long)st.step);
        trainstate_free(&st);
    }
    print_list(out, "types:", s.classes, s.K);
    print_list(out, "pathways:", s.pw.names, s.pw.P);
    print_list(out, "genes:", s.prep.gene_names, s.prep.G);
    modelspec_free(&s);
}
