// commands: see commands.h.
#include "cmd/commands.h"

#include <stdio.h>

#include "analysis/explain.h"
#include "cmd/inspect_model.h"
#include "core/log.h"
#include "io/inspect.h"
#include "prep/genescore.h"

int cmd_inspect(const Config *c, const Dist *d) {
    if (!c->input) FATAL("usage: kida inspect FILE.h5ad", "kida inspect needs a file");
    if (d->rank != 0) return 0;
    if (inspect_is_model(c->input)) inspect_model_print(c->input, stdout);
    else inspect_print(c->input, c->layer && *c->layer ? c->layer : NULL, stdout);
    return 0;
}

int command_run(const Config *c, const Dist *d) {
    switch (c->cmd) {
    case CMD_ANNOTATE: return cmd_annotate(c, d);
    case CMD_TRAIN: return cmd_train(c, d);
    case CMD_PREDICT: return cmd_predict(c, d);
    case CMD_EVALUATE: return cmd_evaluate(c, d);
    case CMD_INSPECT: return cmd_inspect(c, d);
    case CMD_EXPLAIN: return cmd_explain(c, d);
    case CMD_REPORT: return cmd_report(c, d);
    case CMD_GENESCORE: return cmd_genescore(c, d);
    default:
        FATAL("a bug in kida: please report it", "no handler for command `%s`", c->cmd_name);
    }
}
