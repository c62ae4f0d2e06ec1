// commands: see commands.h.
#include "commands.h"

#include <stdio.h>

#include "explain.h"
#include "inspect.h"
#include "log.h"

int cmd_inspect(const Config *c, const Dist *d) {
    if (!c->input) FATAL("usage: kida inspect FILE.h5ad", "kida inspect needs a file");
    if (d->rank == 0) inspect_print(c->input, c->layer && *c->layer ? c->layer : NULL, stdout);
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
    default:
        FATAL("this command is not in this build yet; see docs/ for what each release provides",
              "`kida %s` is not implemented in kida " "0.1", c->cmd_name);
    }
}
