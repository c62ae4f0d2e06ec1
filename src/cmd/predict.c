// predict: `kida predict` — a saved model on new data. The model file carries the genes,
// preprocessing statistics, pathways and classes, so the query is transformed exactly as the
// reference was. Each rank streams its cells through the model a block at a time (read,
// transform, infer), so it holds one block of input and its cells' outputs, whatever the query's
// size; then every rank writes its rows of the output.
#include <string.h>

#include "analysis/spatial.h"
#include "cmd/commands.h"
#include "cmd/outputs.h"
#include "core/log.h"
#include "core/runstats.h"
#include "kernels/gpu.h"
#include "model/matmul.h"
#include "train/dataset.h"
#include "train/fit.h"
#include "train/infer.h"
#include "train/modelfile.h"
#include "train/output.h"
#include "train/preflight.h"

int cmd_predict(const Config *c, const Dist *d) {
    if (!c->model || !*c->model) FATAL("give a model saved by kida train/annotate with --model MODEL.h5", "kida predict needs --model");
    if (!c->query || !*c->query) FATAL("give the cells to annotate with --query FILE.h5ad", "kida predict needs --query");
    if (!c->out || !*c->out) FATAL("give the output file with --out OUT.h5ad", "kida predict needs --out");
    fit_check_output(c->out, c->overwrite, "--out");
    outputs_check(c);
    int gpu = gpu_choose_device(c->device, c->precision, d);
    if (gpu == GPU_NONE) mm_choose_precision(c->precision, d);
    ModelSpec spec;
    modelfile_read_spec(c->model, &spec);
    const char *which = modelfile_has(c->model, "student") ? "student" : "teacher";
    int blend = !strcmp(which, "student") && !strcmp(c->final_label, "blend");   // --final blend: both models
    PathwayMap map = pathmap_build(spec.pw.P, spec.prep.G, spec.pw.path_ptr, spec.pw.member_gene);
    Dataset q;
    dataset_open_query(&q, &spec.prep, c, d);
    output_check_query(c->query);
    log_info("model %s (%s): %zu genes, %zu pathways, %zu classes; query %zu cells", c->model,
             blend ? "student + teacher, --final blend" : which, spec.prep.G, spec.pw.P, spec.K, q.n_total);
    outputs_check_size(c, q.n_total, spec.mc.C);
    Model m;
    model_init(&m, &spec.mc, &map, 1, 0);
    modelfile_read_params(c->model, which, &m, 0);
    Predictions p = predictions_alloc(q.count, &spec.mc), pt = {0};
    Model t = {0};
    if (blend) {
        model_init(&t, &spec.mc, &map, 1, 0);
        modelfile_read_params(c->model, "teacher", &t, 0);
        pt = predictions_alloc(q.count, &spec.mc);
    }
    PhaseClock read = {0, 0}, infer = {0, 0};   // sums over the blocks
    for (size_t lo = 0; lo < q.count; lo += DATASET_BLOCK) {
        size_t n = q.count - lo < DATASET_BLOCK ? q.count - lo : DATASET_BLOCK;
        PhaseClock t0 = phase_clock();
        Csr x = dataset_query_rows(&q, &spec.prep, q.start + lo, n, 1);
        PhaseClock t1 = phase_clock();
        infer_into(&p, lo, &spec.mc, &map, spec.prep.zero, m.params, &x, 64, gpu);
        if (blend) infer_into(&pt, lo, &spec.mc, &map, spec.prep.zero, t.params, &x, 64, gpu);
        PhaseClock t2 = phase_clock();
        read.wall += t1.wall - t0.wall, read.cpu += t1.cpu - t0.cpu;
        infer.wall += t2.wall - t1.wall, infer.cpu += t2.cpu - t1.cpu;
        csr_free(&x);
    }
    phase_add("read + preprocess", read.wall, read.cpu, q.count);
    phase_add("inference", infer.wall, infer.cpu, q.count);
    if (blend) {
        predictions_blend(&p, &pt);
        predictions_free(&pt);
        model_free(&t);
    }
    Predictions *final[1] = {&p};
    size_t smooth = spatial_smooth_query(&q, c, d, final, 1);
    OutputSpec o = {.query = &q, .c = c, .out_path = c->out, .overwrite = c->overwrite, .spec = &spec, .final = &p,
                    .n_total = q.n_total, .unknown_threshold = c->unknown_threshold, .mode = "predict",
                    .spatial_smooth = smooth};
    OutputLabels l = outputs_write(c, d, &o);
    // the reference's label column, as the model was trained: the query may hold the truth there
    char *truth = outputs_config_value(spec.config_text, "label-key");
    outputs_summary(c, d, &l, truth ? truth : c->label_key, NULL);
    free(truth);
    output_labels_free(&l);
    predictions_free(&p);
    model_free(&m);
    dataset_free(&q);
    pathmap_free(&map);
    modelspec_free(&spec);
    return 0;
}
