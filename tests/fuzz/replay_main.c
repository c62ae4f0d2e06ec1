// replay: runs one fuzz target on input files, as kida runs its parsers: a bad input is FATAL
// (its message on stderr, exit 1). Used by tests/fuzz/replay.sh on the regression corpus.
//   fuzz_replay TARGET FILE...
// Exit 0 when every file was read without error, 1 on the first FATAL, 2 on usage errors.
#include <stdio.h>

#include "io/h5util.h"
#include "tests/fuzz/targets.h"

int main(int argc, char **argv) {
    const FuzzTarget *t = argc >= 3 ? fuzz_target(argv[1]) : NULL;
    if (!t) {
        fprintf(stderr, "usage: fuzz_replay TARGET FILE... (targets: %s)\n", fuzz_target_names());
        return 2;
    }
    h5u_init();
    for (int i = 2; i < argc; i++) t->run(argv[i]);
    return 0;
}
