// cli: see cli.h (being written).
#include "cli.h"

#include "dist.h"
#include "log.h"

int cli_main(int argc, char **argv) {
    Dist d;
    dist_init(&d, &argc, &argv);
    log_info("kida: %d rank(s)", d.size);
    dist_finalize(&d);
    return 0;
}
