#!/bin/sh
# fuzz: what `make fuzz` runs. Builds each libFuzzer target (tests/fuzz/fuzz_main.c with one of
# targets.c's targets) with clang, AddressSanitizer and UBSan (every undefined behaviour aborts)
# into $TOP_BUILDDIR/fuzzing/, then runs each for FUZZ_TIME seconds (default 60) under nice, on a
# corpus that starts from the seeds (tests/fuzz/seed/<target>, the h5ad files make_seeds writes)
# and the regression corpus (tests/fuzz/regress/<target>). It keeps going after a finding; every
# crash, sanitizer report, hang (> 10 s) or out-of-memory (> 2 GiB) is saved in
# fuzzing/findings/<target>/ and listed with the first frame of its stack (in libhdf5 or in
# kida). One line per target: executions, corpus size, findings.
# Environment: FUZZ_CC (clang), FUZZ_TIME, FUZZ_TARGETS (default "gmt gtf bed config h5ad"),
# HDF5_CFLAGS, HDF5_LIBS, TOP_SRCDIR, TOP_BUILDDIR. Exit 0 no finding, 1 findings, 99 setup error.
set -u
S=${TOP_SRCDIR:?}
B=${TOP_BUILDDIR:?}
CC=${FUZZ_CC:-clang}
TIME=${FUZZ_TIME:-60}
TARGETS=${FUZZ_TARGETS:-gmt gtf bed config h5ad}
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz: no clang ($CC). HINT: tools/install-deps --fuzz (installs clang), then ./configure again" >&2
    exit 99
fi
F="$B/fuzzing"
mkdir -p "$F/obj" || exit 99
export OMPI_CC="$CC" MPICH_CC="$CC"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CFLAGS="-std=gnu11 -g -O1 $SAN -fsanitize=fuzzer-no-link -D_GNU_SOURCE -I$S/src -I$S -I$B ${HDF5_CFLAGS:-}
        -DKIDA_PKGDATADIR=\"/nonexistent\" -DKIDA_SRCDIR=\"$S\""
SRC="$S/src/core/log.c $S/src/core/options.c $S/src/core/confpath.c $S/src/core/csr.c $S/src/core/strmap.c $S/src/core/atomic.c
     $S/src/core/exactsum.c $S/src/core/signals.c $S/src/core/cpu.c $S/mpi/dist.c $S/src/io/h5util.c $S/src/io/h5vlen.c
     $S/src/io/h5filters.c $S/src/io/h5ad_read.c $S/src/io/h5ad_labels.c $S/src/io/h5ad_write.c $S/src/io/h5ad_rows.c
     $S/src/io/h5ad_copy.c $S/src/io/inspect.c $S/src/io/xvalues.c $S/src/io/gzline.c $S/src/io/gmt.c
     $S/src/io/genes_annot.c $S/tests/fuzz/targets.c"
OBJS=""
for c in $SRC; do
    o="$F/obj/$(basename "$c" .c).o"
    if [ ! -e "$o" ] || [ "$c" -nt "$o" ]; then
        mpicc $CFLAGS -c "$c" -o "$o" || { echo "fuzz: compiling $c failed" >&2; exit 99; }
    fi
    OBJS="$OBJS $o"
done
LIBS="${HDF5_LIBS:-} -lz -lm"
SEEDS_H5="$F/seed-h5ad"
mkdir -p "$SEEDS_H5"
"$B/tests/fuzz/make_seeds" "$SEEDS_H5" || { echo "fuzz: make_seeds failed" >&2; exit 99; }
"$B/tests/io/make_bad_h5ad" "$SEEDS_H5" 2>/dev/null || true   # the malformed files are seeds too
status=0
for t in $TARGETS; do
    exe="$F/fuzz-$t"
    mpicc $CFLAGS -fsanitize=fuzzer -DKIDA_FUZZ_TARGET="\"$t\"" "$S/tests/fuzz/fuzz_main.c" $OBJS $LIBS -o "$exe" ||
        { echo "fuzz: linking $exe failed" >&2; exit 99; }
    rm -rf "$F/findings/$t"
    mkdir -p "$F/corpus/$t" "$F/findings/$t"
    seeds="$S/tests/fuzz/seed/$t"
    [ "$t" = h5ad ] && seeds="$SEEDS_H5"
    # the regression corpus seeds the run too, but for the inputs regress/NOSEED names (too slow
    # to mutate: every descendant of a 10 MB gzip line costs seconds under ASan)
    if [ -d "$S/tests/fuzz/regress/$t" ]; then
        rs="$F/seed-regress/$t"
        rm -rf "$rs" && mkdir -p "$rs" || exit 99
        for r in "$S/tests/fuzz/regress/$t"/*; do
            grep -qx "$t/$(basename "$r")" "$S/tests/fuzz/regress/NOSEED" 2>/dev/null || cp "$r" "$rs/"
        done
        seeds="$seeds $rs"
    fi
    log="$F/fuzz-$t.log"
    ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    nice -n 10 "$exe" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$TIME" \
        -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -artifact_prefix="$F/findings/$t/" \
        "$F/corpus/$t" $seeds >"$log" 2>&1
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1)
    execs=$(echo "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    nfind=$(find "$F/findings/$t" -type f | wc -l)
    echo "fuzz $t: ${execs:-0} executions in ${TIME} s, corpus ${corp:-?} inputs, $nfind finding(s) (log: $log)"
    if [ "$nfind" -gt 0 ]; then
        status=1
        # where each finding happens: the first frame outside the sanitizers, libc and libFuzzer
        for f in $(find "$F/findings/$t" -type f | sort); do
            frame=$(ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1 \
                timeout 60 "$exe" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 "$f" 2>&1 |
                grep -E '^ +#[0-9]+ 0x' | grep -vE 'sanitizer|__asan|__ubsan|libc\.so|fuzzer::|LLVMFuzzer|malloc|calloc|realloc|libFuzzer|_start' |
                head -n 1 | sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ (in )?//')
            case "$frame" in *libhdf5*) where=libhdf5 ;; "") where="no stack (rerun it)" ;; *) where=kida ;; esac
            echo "    $(basename "$f"): $where: $(echo "$frame" | cut -c1-120)"
        done
    fi
done
exit $status
