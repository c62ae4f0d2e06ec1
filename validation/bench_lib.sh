# bench_lib.sh: what the benchmark scripts share (sourced by bench_scaling.sh, bench_atlas.sh).
# bench_args NAME HELP_LINES SCRIPT ARGS...: --parts, --sizes and --ranks into PARTS, SIZES and
# RANKS (the caller sets the defaults first); --help prints lines HELP_LINES ("2,30p") of SCRIPT.
bench_args() {
    local name=$1 help=$2 script=$3
    shift 3
    while [ $# -gt 0 ]; do
        case $1 in
        --parts) PARTS=$2; shift 2 ;;
        --sizes) SIZES=$2; shift 2 ;;
        --ranks) RANKS=$2; shift 2 ;;
        -h | --help) sed -n "$help" "$script"; exit 0 ;;
        *) echo "$name: unknown argument $1 (see --help)" >&2; exit 2 ;;
        esac
    done
}
# has LIST ITEM: ITEM is one of the comma-separated LIST
has() { case ",$1," in *",$2,"*) return 0 ;; *) return 1 ;; esac; }
# the 1-minute load average
load() { cut -d' ' -f1 /proc/loadavg; }
