// kida: the command-line entry point. Parses the subcommand and hands over to the library.
#include "cmd/cli.h"

int main(int argc, char **argv) { return cli_main(argc, argv); }
