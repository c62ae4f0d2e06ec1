// cli: the `kida` command line: subcommand dispatch, options, help.
#ifndef KIDA_CLI_H
#define KIDA_CLI_H
int cli_main(int argc, char **argv);
#endif
