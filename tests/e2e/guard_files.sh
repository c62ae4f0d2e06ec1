# Outputs and checkpoint folders: an output folder that cannot be written is refused before any
# work; two live runs cannot share a checkpoint folder (flock); temporaries that killed runs left
# are removed on start (this host's dead processes, and any in a locked checkpoint folder); a
# failed run leaves no empty .ckpt folder behind; outputs without room (a full disk, or here the
# file size limit) are refused before training. (A write failing mid-file leaves no temporary:
# tests/io/bad_inputs_io.sh.)
. "$TOP_SRCDIR/tests/e2e/lib.sh"
TRAIN="--epochs 1 --quiet"
# an output folder nobody can write (root writes everywhere: /proc then)
mkdir "$WORK/ro" && chmod 555 "$WORK/ro"
RO="$WORK/ro"
if touch "$RO/probe" 2>/dev/null; then rm -f "$RO/probe"; RO=/proc; fi
expect_fail "read-only output folder" "cannot create files in folder $RO" "$KIDA" train $SMALL --model-out "$RO/m.h5"
# a failed run leaves no empty checkpoint folder
expect_fail "failing run" "gene set file" "$KIDA" train $SMALL --model-out "$WORK/f.h5" --gmt "$WORK/none.gmt"
[ ! -e "$WORK/f.h5.ckpt" ] || { ls -la "$WORK/f.h5.ckpt"; fail "the failed run left $WORK/f.h5.ckpt"; }
pass "no checkpoint folder after a failed run"
# temporaries of killed runs: a dead process of this host (new and old name forms) and, inside the
# locked checkpoint folder, of any host; a live process's temporary stays
host=$(uname -n | cut -d. -f1 | sed 's/[^A-Za-z0-9-]/_/g')
sh -c 'exit 0' & dead=$!; wait $dead
mkdir -p "$WORK/m.h5.ckpt"
touch "$WORK/.m.h5.tmp.$host.$dead" "$WORK/.m.h5.tmp.$dead" "$WORK/.m.h5.tmp.$host.$$" \
      "$WORK/.m.h5.tmp.otherhost.$dead" "$WORK/m.h5.ckpt/.checkpoint.h5.tmp.otherhost.12345"
"$KIDA" train $SMALL $TRAIN --model-out "$WORK/m.h5" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "train"; }
for f in ".m.h5.tmp.$host.$dead" ".m.h5.tmp.$dead" "m.h5.ckpt/.checkpoint.h5.tmp.otherhost.12345"; do
    [ ! -e "$WORK/$f" ] || fail "stale temporary $f was not removed"
done
[ -e "$WORK/.m.h5.tmp.$host.$$" ] || fail "the temporary of a live process was removed"
[ -e "$WORK/.m.h5.tmp.otherhost.$dead" ] || fail "a temporary of another host (outside a locked folder) was removed"
pass "stale temporaries removed, live ones kept"
# two live runs, one checkpoint folder
"$KIDA" train $SMALL --epochs 200 --model-out "$WORK/a.h5" --log-every 1 >"$WORK/loga" 2>&1 &
pid=$!
i=0
while ! grep -q "^teacher | epoch" "$WORK/loga" 2>/dev/null; do
    sleep 0.2; i=$((i + 1))
    [ $i -lt 300 ] && kill -0 $pid 2>/dev/null || { kill $pid 2>/dev/null; cat "$WORK/loga"; fail "first run did not start"; }
done
expect_fail "second run on a locked checkpoint folder" "is in use by another running kida (process $pid)" \
    "$KIDA" train $SMALL --model-out "$WORK/a.h5"
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 75 ] || { cat "$WORK/loga"; fail "first run exit $rc after SIGTERM, want 75"; }
"$KIDA" train $SMALL $TRAIN --model-out "$WORK/a.h5" --resume --epochs 1 >"$WORK/log" 2>&1 ||
    { cat "$WORK/log"; fail "the folder stayed locked after its run ended"; }
pass "a live run's checkpoint folder is locked; the lock ends with the run"
# outputs larger than the room for them (here the file size limit, ulimit -f: it acts as a full
# disk would) are refused before training; nothing is left behind. (PMIx's shared memory would
# trip over the limit itself: its hash store needs none.)
( trap '' XFSZ; ulimit -f 2048; export PMIX_MCA_gds=hash
  exec "$KIDA" annotate $SMALL --epochs 1 --student-min-steps 10 --out "$WORK/big.h5ad" ) >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc -eq 1 ] || { cat "$WORK/err"; fail "outputs past the file size limit: exit $rc, want 1"; }
grep -q "needs at least .* MB, more than the file size limit" "$WORK/err" || { cat "$WORK/err"; fail "no room error"; }
grep -q "teacher |" "$WORK/out" && fail "training started before the room for the outputs was checked"
[ ! -e "$WORK/big.h5ad" ] && [ ! -e "$WORK/big.h5ad.ckpt" ] || fail "the refused run left an output or a checkpoint folder"
ls -a "$WORK" | grep -q '^\.big\.h5ad\.tmp\.' && fail "a temporary was left behind"
pass "no room for the outputs: refused before training, nothing left behind"
