// commands: one function per subcommand; command_run dispatches on the parsed config.
#ifndef KIDA_COMMANDS_H
#define KIDA_COMMANDS_H
#include "core/options.h"
#include "mpi/dist.h"

int command_run(const Config *c, const Dist *d);
int cmd_annotate(const Config *c, const Dist *d);
int cmd_train(const Config *c, const Dist *d);
int cmd_predict(const Config *c, const Dist *d);
int cmd_evaluate(const Config *c, const Dist *d);
int cmd_inspect(const Config *c, const Dist *d);
#endif
