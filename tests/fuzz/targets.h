// targets: kida's parsers as fuzz targets. Each target reads one input file the way the
// program does (the same entry points the subcommands call); a bad input ends in FATAL. The same
// code runs under libFuzzer (fuzz_main.c, `make fuzz`) and as the regression replayer of
// `make check` (replay_main.c), where FATAL prints its message and exits 1 as in kida itself.
#ifndef KIDA_FUZZ_TARGETS_H
#define KIDA_FUZZ_TARGETS_H

typedef struct {
    const char *name;   // gmt, gtf, bed, config, h5ad
    const char *ext;    // file name ending the parser needs (".gtf": GTF, ".bed": BED)
    void (*run)(const char *path);
} FuzzTarget;

// The target called name, or NULL.
const FuzzTarget *fuzz_target(const char *name);
// "gmt, gtf, ..." for usage messages.
const char *fuzz_target_names(void);
#endif
