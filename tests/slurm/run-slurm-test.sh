#!/bin/bash
# The jobscripts on a one-node Slurm cluster started on localhost (munged, slurmctld, slurmd as
# root; state, sockets, logs in a temp dir; ports of its own); each job: 2 ranks, tests/e2e/small.conf.
#   full   cpu-node.sbatch straight through: completes, writes the output, removes its checkpoint;
#   stop   cpu-node.sbatch, SIGTERM to the batch shell mid-training (what --signal=B:TERM@120 does
#          before the time limit): kida checkpoints, exits 75, the script requeues the job, the
#          second start resumes; X_kida bit-identical (h5diff) to full;
#   full   requeued after it finished: the output is kept and kida is not run again;
#   multi  multi-node.sbatch (on one node), `scontrol requeue` mid-training (Slurm signals every
#          process of the job, as on preemption): resumed, bit-identical to full;
#   gpu    gpu-node.sbatch with 2 GPUs that exist in name only (gres files link to /dev/null),
#          kida on the CPU: `scancel` mid-training ends the job for good (CANCELLED, not
#          requeued, checkpoint kept); the script submitted again resumes; bit-identical to full.
# Installs slurm-wlm and munge with apt-get when missing. Leaves no daemon running.
# Exit: 0 pass, 1 fail, 77 skip (not root, no apt-get, slurmd cannot run here), 99 setup error.
# Outside the test suite: sudo KIDA=build/kida tests/slurm/run-slurm-test.sh  (KEEP=1 keeps logs)
set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KIDA=${KIDA:-$TOP_SRCDIR/build/kida}
T0=$(date +%s)
say() { echo "[$(($(date +%s) - T0))s] $*"; }
skip() { echo "SKIP: $*"; exit 77; }
die() { echo "SETUP ERROR: $*"; exit 99; }
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$KIDA" ] || die "no kida binary at $KIDA (set KIDA)"
cd "$TOP_SRCDIR" || die "no $TOP_SRCDIR"
[ "$(id -u)" -eq 0 ] || skip "not root: slurmd and munged need root here"

# ---- Slurm and MUNGE from Debian, when missing -------------------------------------------------
have_slurm() { command -v slurmctld && command -v slurmd && command -v sbatch && command -v munged; } >/dev/null
if ! have_slurm; then
    command -v apt-get >/dev/null || skip "no slurm-wlm/munge and no apt-get to install them"
    say "installing slurm-wlm and munge (apt-get)"
    rcd=""  # keep the packages from starting their system daemons
    [ -e /usr/sbin/policy-rc.d ] || { rcd=/usr/sbin/policy-rc.d; printf '#!/bin/sh\nexit 101\n' >$rcd; chmod +x $rcd; }
    inst() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge; }
    { inst || { apt-get update -q && inst; }; } >/tmp/kida-slurm-apt.log 2>&1
    ok=$?
    [ -z "$rcd" ] || rm -f "$rcd"
    [ "$ok" -eq 0 ] || { tail -n 20 /tmp/kida-slurm-apt.log; die "apt-get install slurm-wlm munge failed"; }
    have_slurm || die "slurm-wlm installed but its commands are missing"
fi

# ---- the cluster: everything under $W, ports of our own ----------------------------------------
W=$(mktemp -d /tmp/kida-slurm.XXXXXX) || die "mktemp"
chmod 755 "$W"  # munged wants its socket's folder open to all
export SLURM_CONF=$W/slurm.conf
pids=""
cleanup() {
    if [ -n "$pids" ]; then
        jobs=$(squeue -h -o %i 2>/dev/null)
        # shellcheck disable=SC2086  # a list of job ids
        [ -z "$jobs" ] || scancel $jobs 2>/dev/null
        for _ in $(seq 60); do  # steps gone, so no slurmstepd outlives the test
            [ -z "$(squeue -h 2>/dev/null)" ] && ! scontrol listpids 2>/dev/null | grep -q '^[0-9]' && break
            sleep 0.5
        done
        for p in $pids; do kill "$p" 2>/dev/null; done
        for p in $pids; do wait "$p" 2>/dev/null; done
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 99' INT TERM
port=$((10000 + $$ % 20000))  # below the ephemeral range
node=kidanode
mkdir -p "$W/state" "$W/spool" "$W/out" || die "mkdir in $W"
{ dd if=/dev/urandom of="$W/munge.key" bs=1024 count=1 && chmod 400 "$W/munge.key"; } 2>/dev/null || die "munge key"
cat >"$SLURM_CONF" <<EOF
ClusterName=kidatest
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$W/munge.sock,cred_expire=5
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
JobRequeue=1
MinJobAge=600
KillWait=10
GresTypes=gpu
NodeName=$node NodeHostname=$(hostname) NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 Gres=gpu:2 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
# two GPUs in name only (device files are links to /dev/null): the GPU job runs kida on the CPU
for i in 0 1; do ln -s /dev/null "$W/gpu$i" || die "ln in $W"; done
echo "NodeName=$node Name=gpu File=$W/gpu[0-1]" >"$W/gres.conf"
munged -F --socket="$W/munge.sock" --key-file="$W/munge.key" --pid-file="$W/munged.pid" \
    --log-file="$W/munged.log" --seed-file="$W/munged.seed" >"$W/munged.out" 2>&1 &
pids="$!"
slurmctld -D -c >"$W/slurmctld.out" 2>&1 &
pids="$pids $!"
slurmd -D -N "$node" >"$W/slurmd.out" 2>&1 &
pids="$pids $!"
up=""
for _ in $(seq 60); do
    sleep 0.5
    for p in $pids; do kill -0 "$p" 2>/dev/null || break 2; done
    [ "$(sinfo -h -n "$node" -o %t 2>/dev/null)" = idle ] && { up=1; break; }
done
if [ -z "$up" ]; then
    tail -n 5 "$W"/*.out "$W"/*.log 2>/dev/null
    skip "the local Slurm cluster did not come up here (logs above)"
fi
say "cluster up: $(sinfo -V), node $node idle"

# ---- jobs ------------------------------------------------------------------------------------
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 KIDA
export KIDA_CONFIG=tests/e2e/small.conf KIDA_LAUNCH="srun --mpi=pmix"
# submit NAME SCRIPT [KIDA_ARGS]: the job id; output $W/out/NAME.h5ad, log $W/NAME.log
submit() {
    KIDA_OUT="$W/out/$1.h5ad" KIDA_ARGS="${3:-}" sbatch --parsable -o "$W/$1.log" -J "$1" \
        -N 1 --ntasks-per-node=2 --cpus-per-task=1 --mem=500M --time=10 "jobscripts/$2"  # the node has RealMemory=1000
}
state() { scontrol show job -o "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
field() { scontrol show job -o "$1" 2>/dev/null | grep -o " $2=[^ ]*" | cut -d= -f2; }
# ended ID: waits (5 min at most) until job ID has ended; prints its state
ended() {
    for _ in $(seq 600); do
        case $(state "$1") in
        COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL) break ;;
        esac
        sleep 0.5
    done
    state "$1"
}
# finish ID NAME: waits until the job has ended; fails unless it COMPLETED with exit 0
finish() {
    s=$(ended "$1")
    [ "$s" = COMPLETED ] && [ "$(field "$1" ExitCode)" = 0:0 ] && return 0
    cat "$W/$2.log"
    fail "job $2 ($1) ended $s, exit $(field "$1" ExitCode)"
}
has() { grep -q -- "$2" "$W/$1.log" || { cat "$W/$1.log"; fail "$1: log lacks '$2'"; }; }

a=$(submit full cpu-node.sbatch) || die "sbatch failed"
finish "$a" full
say "job full ($a) completed"
[ -s "$W/out/full.h5ad" ] || fail "job full wrote no output"
[ ! -e "$W/out/full.h5ad.ckpt/checkpoint.h5" ] || fail "job full left its checkpoint"
has full "kida job $a start 1"
has full "2 ranks"
has full "2 rank(s) on 1 node(s)"
has full "kida exited 0"

# same NAME: job NAME's X_kida is bit-identical to job full's
same() {
    h5diff "$W/out/full.h5ad" "$W/out/$1.h5ad" /obsm/X_kida >"$W/diff" 2>&1 ||
        { head "$W/diff"; fail "$1: X_kida differs from job full"; }
}
# interrupt NAME ID CMD...: once job NAME trains, freezes its ranks (SIGSTOP), runs CMD, gives the
# signals 2 s to arrive, thaws the ranks: the stop lands mid-training however fast this machine is
interrupt() {
    name=$1 id=$2
    shift 2
    for _ in $(seq 1200); do grep -q '^teacher | epoch' "$W/$name.log" 2>/dev/null && break; sleep 0.1; done
    ranks=$(scontrol listpids "$id" 2>/dev/null | awk 'NR > 1 {print $1}' | while read -r p; do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = kida ] && echo "$p"; done)
    [ -n "$ranks" ] || { cat "$W/$name.log"; fail "job $name: no kida process while training"; }
    # shellcheck disable=SC2086  # a list of pids
    kill -STOP $ranks
    "$@" || fail "$*"
    sleep 2
    # shellcheck disable=SC2086
    kill -CONT $ranks 2>/dev/null
    say "job $name ($id): $* mid-training"
}
# resumed NAME ID: the job stopped with a checkpoint, started again once, resumed, and matches full
resumed() {
    finish "$2" "$1"
    has "$1" "stopped by signal"
    has "$1" "kida exited 75"
    has "$1" "kida job $2 start 2"
    has "$1" "resuming from .*: \(teacher\|student\) phase"
    [ "$(field "$2" Restarts)" = 1 ] || fail "job $1: Restarts=$(field "$2" Restarts), want 1"
    [ ! -e "$W/out/$1.h5ad.ckpt/checkpoint.h5" ] || fail "job $1 left its checkpoint"
    same "$1"
    say "job $1 ($2): stopped, requeued, resumed; X_kida bit-identical to job full"
}

# the time limit's --signal=B:TERM@120: SIGTERM to the batch shell only; the script requeues
b=$(submit stop cpu-node.sbatch "--log-every 1") || die "sbatch failed"
interrupt stop "$b" scancel --signal=TERM --batch "$b"
resumed stop "$b"
has stop "asking kida to checkpoint"
has stop "requeued; it continues"

# a finished job requeued: its output is kept, kida does not run again
sum=$(cksum <"$W/out/full.h5ad")
scontrol requeue "$a" || fail "scontrol requeue $a"
finish "$a" full
has full "finished before, kept"
[ "$(cksum <"$W/out/full.h5ad")" = "$sum" ] || fail "a finished job's output changed when it was requeued"
say "job full ($a) requeued after it finished: output kept"

# Slurm requeues a running job itself (as on preemption): SIGTERM to every process of the job
c=$(submit multi multi-node.sbatch "--log-every 1") || die "sbatch failed"
interrupt multi "$c" scontrol requeue "$c"
resumed multi "$c"

# scancel: the job ends for good with its checkpoint; the script submitted again resumes from it
export KIDA_DEVICE=cpu SBATCH_GPUS_PER_NODE=2
d=$(submit gpu gpu-node.sbatch "--log-every 1") || die "sbatch failed"
interrupt gpu "$d" scancel "$d"
[ "$(ended "$d")" = CANCELLED ] || { cat "$W/gpu.log"; fail "job gpu ($d) ended $(state "$d"), want CANCELLED"; }
[ "$(field "$d" Restarts)" = 0 ] || fail "job gpu: cancelled job requeued itself"
[ -e "$W/out/gpu.h5ad.ckpt/checkpoint.h5" ] || fail "job gpu: cancelled without a checkpoint"
has gpu "not requeued by this script"
e=$(submit gpu gpu-node.sbatch) || die "sbatch failed"
finish "$e" gpu
has gpu "kida job $e start 1 .*gpus 0,1"
has gpu "resuming from"
same gpu
say "job gpu ($d, $e): gpu-node.sbatch (2 GPUs in name only, --device cpu) cancelled, submitted again," \
    "resumed; X_kida bit-identical"
echo "PASS: slurm jobscripts (${SECONDS}s)"
