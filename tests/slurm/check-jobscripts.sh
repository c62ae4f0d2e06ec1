#!/bin/sh
# The logic of jobscripts/*.sbatch without Slurm: each script runs under bash with SLURM_*
# variables set, a stand-in kida (records its arguments; on USR1 writes a checkpoint and exits 75)
# and a stand-in scontrol (job state RUNNING or FAKE_STATE; records requeues). Checks: the shared part is the same in all scripts,
# the required #SBATCH lines, the kida command line, --resume when a checkpoint exists, a finished
# output kept on a restart even with --overwrite, SIGTERM -> USR1 -> requeue, no requeue of a job
# Slurm is ending or past the restart limit, failures not requeued; shellcheck when installed.
# Seconds; no Slurm, no root.
set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$TOP_SRCDIR" || exit 99
command -v bash >/dev/null || { echo "SKIP: no bash"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kida-jobscripts.XXXXXX") || exit 99
trap 'rm -rf "$WORK"' EXIT
SCRIPTS="jobscripts/cpu-node.sbatch jobscripts/gpu-node.sbatch jobscripts/multi-node.sbatch"

# ---- static ----------------------------------------------------------------------------------
for s in $SCRIPTS; do
    bash -n "$s" || fail "$s: bash syntax"
    for line in '#SBATCH --signal=B:TERM@120' '#SBATCH --requeue' '#SBATCH --open-mode=append'; do
        grep -qx -- "$line" "$s" || fail "$s lacks '$line'"
    done
    sed -n '/^# ---- no edits below/,$p' "$s" >"$WORK/tail"
    [ -s "$WORK/tail" ] || fail "$s: no '# ---- no edits below' part"
    [ -e "$WORK/tail0" ] || cp "$WORK/tail" "$WORK/tail0"
    cmp -s "$WORK/tail0" "$WORK/tail" || fail "$s: shared part differs from cpu-node.sbatch's"
done
for s in $SCRIPTS; do
    grep -q '^#SBATCH --mem=[0-9]' "$s" || fail "$s lacks an '#SBATCH --mem=' line"
    # shellcheck disable=SC2016  # the script's text, not an expansion
    grep -q '^mkdir -p "$(dirname "$KIDA_OUT")"' "$s" || fail "$s does not create the output folder"
    head -12 "$s" | grep -q 'You edit only the lines' || fail "$s does not say at the top which lines to edit"
done
grep -q '^#SBATCH --gpus-per-node=' jobscripts/gpu-node.sbatch || fail "gpu-node.sbatch: no --gpus-per-node"
grep -q '^#SBATCH --nodes=2' jobscripts/multi-node.sbatch || fail "multi-node.sbatch: not several nodes"
pass "syntax, #SBATCH lines, one shared part"
if command -v shellcheck >/dev/null; then
    # shellcheck disable=SC2086
    shellcheck $SCRIPTS tests/slurm/slurm.sh tests/slurm/run-slurm-test.sh tests/slurm/check-jobscripts.sh ||
        fail "shellcheck"
    pass "shellcheck"
else
    echo "note: shellcheck not installed; not run"
fi

# ---- stand-ins ---------------------------------------------------------------------------------
mkdir -p "$WORK/bin" "$WORK/out"
cat >"$WORK/bin/kida" <<'EOF'
#!/bin/sh
# stand-in kida: records its arguments; with FAKE_WAIT waits for USR1 like a training run
echo "$*" >>"$FAKE_LOG/kida.args"
out="" ckpt="" prev=""
for a in "$@"; do
    case $prev in --out) out=$a ;; --checkpoint-dir) ckpt=$a ;; esac
    prev=$a
done
trap 'mkdir -p "$ckpt" && : >"$ckpt/checkpoint.h5"; exit 75' USR1
if [ -n "${FAKE_WAIT:-}" ]; then
    : >"$FAKE_LOG/training"
    for _ in $(seq 100); do sleep 0.1; done  # 10 s at most
    exit 1
fi
[ "${FAKE_RC:-0}" -eq 0 ] || exit "$FAKE_RC"
rm -f "$ckpt/checkpoint.h5"
: >"$out"
EOF
cat >"$WORK/bin/scontrol" <<'EOF'
#!/bin/sh
# stand-in scontrol: `show job` gives the state FAKE_STATE (RUNNING); requeues are recorded
case $1 in
show) echo "JobId=$4 JobName=x JobState=${FAKE_STATE:-RUNNING} Reason=None" ;;
*) echo "$*" >>"$FAKE_LOG/scontrol" ;;
esac
EOF
chmod +x "$WORK/bin/kida" "$WORK/bin/scontrol"
export FAKE_LOG="$WORK" PATH="$WORK/bin:$PATH" KIDA="$WORK/bin/kida" KIDA_LAUNCH=env
export SLURM_JOB_ID=4242 SLURM_JOB_NODELIST=node1 SLURM_NTASKS=2 SLURM_CPUS_PER_TASK=3
unset SLURM_RESTART_COUNT KIDA_ARGS KIDA_CKPT KIDA_DEVICE KIDA_MAX_RESTARTS FAKE_WAIT FAKE_RC
O="$WORK/out/a.h5ad"
# job SCRIPT: runs it with KIDA_OUT=$O; status in $rc, output in $WORK/log, kida's args in $WORK/args
job() {
    rm -f "$WORK/kida.args" "$WORK/scontrol"
    KIDA_OUT=$O KIDA_CONFIG=my.conf bash "$1" >"$WORK/log" 2>&1
    rc=$?
    cat "$WORK/kida.args" >"$WORK/args" 2>/dev/null || : >"$WORK/args"
}
expect() {  # expect WHAT RC: the script exited RC
    [ "$rc" -eq "$2" ] || { cat "$WORK/log"; fail "$1: exit $rc, want $2"; }
}
args_have() { grep -q -- "$2" "$WORK/args" || { cat "$WORK/args"; fail "$1: kida args lack '$2'"; }; }
no_requeue() { [ ! -e "$WORK/scontrol" ] || fail "$1: requeued ($(cat "$WORK/scontrol"))"; }

# ---- behaviour ---------------------------------------------------------------------------------
for s in $SCRIPTS; do
    rm -rf "$WORK/out"/*
    KIDA_ARGS="--seed 3 --lr 0.01" job "$s"
    expect "$s fresh" 0
    args_have "$s fresh" \
        "^annotate --config my.conf --seed 3 --lr 0.01 --out $O --checkpoint-dir $O.ckpt --device [a-z]* --threads 3\$"
    [ -e "$O" ] || fail "$s fresh: no output"
    grep -q "kida job 4242 start 1 .*hosts node1, 2 ranks, 3 cpus/rank" "$WORK/log" ||
        { cat "$WORK/log"; fail "$s: start line"; }
    no_requeue "$s fresh"
done
pass "command line: config, extra options, out, checkpoint dir, device, threads; job id, hosts, ranks"
rm -rf "$WORK/out"/*
O2="$WORK/out/new/folder/b.h5ad"
KIDA_OUT=$O2 KIDA_CONFIG=my.conf bash jobscripts/cpu-node.sbatch >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "new output folder: job failed"; }
[ -e "$O2" ] || { cat "$WORK/log"; fail "the output folder was not created"; }
pass "the output's folder is created"
job jobscripts/gpu-node.sbatch; args_have gpu-node "--device cuda"
job jobscripts/cpu-node.sbatch; args_have cpu-node "--device cpu"

rm -rf "$WORK/out"/*
mkdir -p "$O.ckpt" && : >"$O.ckpt/checkpoint.h5"
job jobscripts/cpu-node.sbatch
expect "checkpoint present" 0
args_have "checkpoint present" "--resume$"
pass "a checkpoint is resumed (first start too)"

: >"$O"  # finished earlier in this job; no checkpoint
SLURM_RESTART_COUNT=1 KIDA_ARGS="--overwrite" job jobscripts/cpu-node.sbatch
expect "restart after finish" 0
[ ! -s "$WORK/args" ] || fail "restart after finish: kida ran ($(cat "$WORK/args"))"
grep -q "finished before, kept" "$WORK/log" || { cat "$WORK/log"; fail "restart after finish: no message"; }
pass "restart with a finished output and no checkpoint: kept, kida not run, even with --overwrite"

mkdir -p "$O.ckpt" && : >"$O.ckpt/checkpoint.h5"
SLURM_RESTART_COUNT=1 KIDA_ARGS="--overwrite" job jobscripts/cpu-node.sbatch
expect "restart over an old output" 0
args_have "restart over an old output" "--overwrite.*--resume$"
pass "restart with a checkpoint over an older output resumes it (with the user's --overwrite)"

# SIGTERM to the batch shell: USR1 to kida, checkpoint, exit 75, requeue
stop() {  # stop SCRIPT: runs it, sends SIGTERM once kida trains
    rm -rf "$WORK/out"/* "$WORK/training" "$WORK/kida.args" "$WORK/scontrol"
    KIDA_OUT=$O KIDA_CONFIG=my.conf FAKE_WAIT=1 bash "$1" >"$WORK/log" 2>&1 &
    pid=$!
    i=0
    while [ ! -e "$WORK/training" ]; do
        sleep 0.1
        i=$((i + 1))
        [ $i -lt 100 ] || fail "stand-in kida never started"
    done
    kill -TERM $pid
    wait $pid
    rc=$?
}
stop jobscripts/cpu-node.sbatch
expect "SIGTERM" 75
[ -e "$O.ckpt/checkpoint.h5" ] || fail "SIGTERM: kida got no USR1 (no checkpoint)"
grep -qx "requeue 4242" "$WORK/scontrol" 2>/dev/null || { cat "$WORK/log"; fail "SIGTERM: not requeued"; }
grep -q "requeued; it continues from $O.ckpt" "$WORK/log" || { cat "$WORK/log"; fail "SIGTERM: no requeue message"; }
pass "SIGTERM to the batch shell: kida checkpoints, exit 75, scontrol requeue 4242"

SLURM_RESTART_COUNT=20 stop jobscripts/cpu-node.sbatch
expect "restart limit" 75
no_requeue "restart limit"
grep -q "not requeued by this script" "$WORK/log" || { cat "$WORK/log"; fail "restart limit: no message"; }
pass "after KIDA_MAX_RESTARTS (20) restarts: not requeued, says how to continue"

FAKE_STATE=COMPLETING stop jobscripts/cpu-node.sbatch
expect "cancelled" 75
no_requeue "cancelled"
grep -q "not requeued by this script (JobState=COMPLETING" "$WORK/log" || { cat "$WORK/log"; fail "cancelled: message"; }
pass "a job Slurm is already ending (scancel, time limit, preemption) does not requeue itself"

rm -rf "$WORK/out"/*
FAKE_RC=1 job jobscripts/cpu-node.sbatch
expect "kida error" 1
no_requeue "kida error"
pass "a failing kida is not requeued; its status is the job's"
