#!/bin/bash
# The stall watchdog (train.stall_timeout, include/scorr/watchdog.h): a rank
# frozen with SIGSTOP in the middle of a 2-rank run must end the job within
# the timeout (plus a margin), with exit status 4 and a message naming what
# the rank that still runs was waiting for; every process of the job must be
# gone; the same command then resumes from the last checkpoint and finishes.
# Before the watchdog the job hung for good (issue 10, item 6).
#
#   test_train_stall.sh BIN_DIR MPIEXEC
set -u
BIN=${1:?usage: test_train_stall.sh BIN_DIR MPIEXEC}
MPI=${2:?usage: test_train_stall.sh BIN_DIR MPIEXEC}
TIMEOUT=8   # train.stall_timeout
MARGIN=20   # start-up of the abort, mpirun's teardown, a loaded machine
T0=$(date +%s)

fail() { echo "FAIL test_train_stall: $*" >&2; exit 1; }
say() { echo "[$(( $(date +%s) - T0 ))s] $*"; }

WORK=$(mktemp -d /tmp/scorr_test_stall.XXXXXX)
MPID=
cleanup() {
  # only processes this test started: mpirun and its children
  if [ -n "$MPID" ] && kill -0 "$MPID" 2>/dev/null; then
    pkill -CONT -P "$MPID" 2>/dev/null
    pkill -KILL -P "$MPID" 2>/dev/null
    kill -KILL "$MPID" 2>/dev/null
  fi
  if [ -z "${SCORR_KEEP_TMP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT
cd "$WORK" || fail "cd $WORK"

"$BIN/scorr_synth" --size 64 --pairs 48,8,8 --images-per-category 12 --seed 3 data.h5 \
  > synth.log 2>&1 || { cat synth.log; fail "scorr_synth failed"; }
cat > stall.yaml <<EOF
name: stall
output: $WORK/run
seed: 5
variant: baseline
data: {file: $WORK/data.h5, image_size: 64, augment: false}
model:
  backbone: {depth: 18, width: 8, batchnorm: frozen}
  sce: {kernel: 3, channels: 16}
  upsample: 4
train: {epochs: 30, batch_size: 8, stall_timeout: $TIMEOUT}
validation: {every_epochs: 100}
checkpoint: {every_steps: 3, keep_last: 2}
log: {every_steps: 1}
EOF

"$MPI" -np 2 "$BIN/scorr_train" stall.yaml > run1.log 2>&1 &
MPID=$!
# wait for a few steps (steps.csv: a header, then one row per step)
for _ in $(seq 1 600); do
  rows=$(($(cat run/steps.csv 2>/dev/null | wc -l) - 1))
  [ "$rows" -ge 5 ] && break
  kill -0 "$MPID" 2>/dev/null || { cat run1.log; fail "the run ended before it could be frozen"; }
  sleep 0.1
done
[ "$rows" -ge 5 ] || { cat run1.log; fail "no 5 steps within 60 s"; }
ranks=$(pgrep -P "$MPID" -f scorr_train | tr '\n' ' ')
[ "$(echo $ranks | wc -w)" -eq 2 ] || fail "expected 2 rank processes under mpirun $MPID, found '$ranks'"
victim=${ranks%% *}
say "freezing rank process $victim (of $ranks) after $rows steps"
t_stop=$(date +%s.%N)
kill -STOP "$victim"
# the test's own limit: far beyond the watchdog's
for _ in $(seq 1 $(( (TIMEOUT + MARGIN + 30) * 10 ))); do
  kill -0 "$MPID" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$MPID" 2>/dev/null; then
  cat run1.log
  fail "the job still hangs $((TIMEOUT + MARGIN + 30)) s after a rank was frozen"
fi
wait "$MPID"
rc=$?
t_end=$(date +%s.%N)
MPID=
elapsed=$(awk -v a="$t_stop" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
cat run1.log
say "job ended ${elapsed} s after the freeze, exit $rc"
[ "$rc" -eq 4 ] || fail "exit status $rc, expected 4 (stalled)"
awk -v e="$elapsed" -v l=$((TIMEOUT + MARGIN)) 'BEGIN { exit !(e <= l) }' ||
  fail "the job took ${elapsed} s to end, more than train.stall_timeout $TIMEOUT + $MARGIN s"
grep -q "scorr watchdog \[rank [01] of 2.*no progress for .*waiting in '.*'.*inside MPI_" run1.log ||
  fail "no watchdog message naming the phase and the MPI call"
grep -q "^scorr watchdog \[rank [01] of 2.*no progress for" run/.stalled 2>/dev/null ||
  fail "no stall marker run/.stalled with the watchdog's message"
# every rank process is gone (or a zombie) within a few seconds of mpirun
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
for p in $ranks; do
  for _ in $(seq 1 100); do alive "$p" || break; sleep 0.1; done
  if alive "$p"; then kill -CONT "$p"; kill -KILL "$p"; fail "rank process $p survived the abort by 10 s"; fi
done

# The same command resumes from the last checkpoint and finishes.
ls run/checkpoints/step_*.h5 > /dev/null 2>&1 || fail "no checkpoint left"
sed -i 's/epochs: 30,/epochs: 2,/' stall.yaml
"$MPI" -np 2 "$BIN/scorr_train" stall.yaml > run2.log 2>&1
rc=$?
tail -3 run2.log
[ "$rc" -eq 0 ] || { cat run2.log; fail "the rerun exited $rc"; }
grep -q 'resum' run2.log || fail "the rerun did not resume"
say "PASS"
