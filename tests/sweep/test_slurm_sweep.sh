#!/bin/bash
# End to end on a REAL SLURM on this machine (scripts/slurm-local.sh): a
# tiny synthetic dataset (scorr_synth, 64 x 64), a sweep of three tiny
# experiments (baseline; mt on 2 ranks through mpirun; st depending on the
# baseline by --dependency=afterok), submitted as SLURM array jobs by
# scorr_sweep --submit. Every training stops once on purpose after a few
# steps (SCORR_TRAIN_ARGS="--stop-after-steps N", as a preemption would), so
# each task exits 3 and requeues itself; the test lifts SLURM's requeue
# delay (BeginTime) with scontrol. Then: every cell done (summary finished,
# eval JSON with sane numbers, one requeue in its log, st started after its
# teacher ended), --status, a second --submit that submits nothing, and
# scorr_table listing every cell.
#
#   test_slurm_sweep.sh BIN_DIR SOURCE_DIR
#
# Exit 0 pass, 1 fail, 77 skip (not root, or SLURM packages missing: a SKIP
# message says which). The daemons are stopped on exit if this test started
# them (trap); a SLURM already up is used and left running.
set -u
BIN=${1:?usage: test_slurm_sweep.sh BIN_DIR SOURCE_DIR}
SRC=${2:?usage: test_slurm_sweep.sh BIN_DIR SOURCE_DIR}
TEST=test_slurm_sweep NAME_STEM=e2e SLURM_TOOLS="sbatch squeue scontrol scancel sinfo mpirun"
# shellcheck source=tests/sweep/slurm_common.sh
source "$SRC/tests/sweep/slurm_common.sh"
for p in scorr_sweep scorr_table scorr_train scorr_eval scorr_synth; do
  [ -x "$BIN/$p" ] || fail "$BIN/$p missing (build it first)"
done

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
cd "$WORK" || fail "cd $WORK"

# mt on two ranks (one per network) when the node has two cores.
MT_RANKS=1
[ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] && MT_RANKS=2

# A tiny dataset, and a reduced synthetic ablation: the quick-start
# experiment (experiments/quickstart.yaml) at 64 x 64, width 8, 2 epochs of 3
# steps (6 steps per run).
"$BIN/scorr_synth" --size 64 --categories 3 --pairs 32,8,8 --images-per-category 8,4,4 \
  --seed 3 synth.h5 > synth.log 2>&1 || { cat synth.log; fail "scorr_synth failed"; }
cat > sweep.yaml <<EOF
name: $NAME
base: $SRC/experiments/quickstart.yaml
dir: sweep
set:
  data: {file: synth.h5, image_size: 64, augment: false}
  model: {backbone: {width: 8}, sce: {kernel: 3, channels: 16}}
  train: {epochs: 2, batch_size: 4, max_steps_per_epoch: 3}
  pseudo: {start_epoch: 1, selection: {ramp_epochs: 1}}
  checkpoint: {every_steps: none, keep_last: 1}
  log.every_steps: 3
resources: {ranks: 1, threads: 1, time: "00:05:00"}
slurm: {signal_seconds: 60, max_requeues: 3}
cells:
  - {id: base, set: {variant: baseline}}
  - {id: st, set: {variant: st}}
  - id: mt
    set: {variant: mt}
    resources: {ranks: $MT_RANKS}
grid:
  seed: [1]
EOF

# Submit; every training stops after 4 steps the first time (exit 3) and
# requeues itself, then finishes from its checkpoint.
export SCORR_TRAIN_ARGS="--stop-after-steps 4"
"$BIN/scorr_sweep" sweep.yaml --submit > submit.log 2>&1 || { cat submit.log; fail "--submit failed"; }
cat submit.log
njobs=$(grep -c '^submitted job ' submit.log)
[ "$njobs" -eq 3 ] || fail "expected 3 array submissions (baseline, mt, st after baseline), found $njobs"
grep -q -- '--dependency=afterok:[0-9]*_0 --kill-on-invalid-dep=yes .*/slurm/group1.sbatch' submit.log ||
  fail "the st cell was not submitted after its teacher's task"
unset SCORR_TRAIN_ARGS

say "waiting for the jobs"
# Until squeue (answering: under load it may time out, and an empty answer
# from a failed call is not an empty queue) lists none of them.
empty=0
declare -A held   # job -> when it was first seen held after its requeue
for _ in $(seq 1 150); do
  if left=$(squeue -h -r --name="scorr-$NAME" -o '%i %T %r' 2>&1); then
    [ -z "$left" ] && { empty=1; break; }
    # SLURM holds a requeued job for ~2 minutes (BeginTime): lift it, but
    # not at once: slurmd refuses to launch a job in the same second it
    # killed it ("Job N already killed, do not launch batch job") and the
    # task then fails without running (issue 10, item 8). Lift it once it
    # has been held 2 s (the kill came before the hold).
    now=$(date +%s)
    while read -r j state reason; do
      [ "$reason" = BeginTime ] || { unset "held[$j]"; continue; }
      [ -n "${held[$j]:-}" ] || held[$j]=$now
      if [ $((now - held[$j])) -ge 2 ]; then
        scontrol update JobId="$j" StartTime=now >/dev/null 2>&1 || true
      fi
    done <<< "$left"
  else
    say "squeue failed, retrying: $left"
  fi
  sleep 1
done
[ "$empty" = 1 ] || { squeue; fail "jobs still queued after 150 s"; }
say "jobs finished"

status=$("$BIN/scorr_sweep" sweep.yaml --status 2>&1)
echo "$status"
echo "$status" | grep -q '^3 cells: 3 done$' || {
  for f in sweep/logs/*; do echo "--- $f"; tail -20 "$f"; done
  grep -h 'already killed' "$(dirname "$SLURM_CONF")/slurmd.log" 2>/dev/null | tail -3
  fail "not every cell is done"
}
for cell in base-seed1 st-seed1 mt-seed1; do
  run=sweep/runs/$cell
  grep -q '"finished":[[:space:]]*true' "$run/summary.json" || fail "$cell: summary.json not finished"
  [ -f "$run/eval_test.json" ] || fail "$cell: no eval_test.json"
  pck=$(tr -d '\n\t ' < "$run/eval_test.json" | sed -n 's/.*"pck":{[^}]*"0.1":\([0-9.eE+-]*\).*/\1/p')
  awk -v p="$pck" 'BEGIN { exit !(p != "" && p >= 0 && p <= 100) }' ||
    fail "$cell: PCK@0.1 '$pck' is not a number in [0, 100]"
  grep -q '"pairs":[[:space:]]*8' "$run/eval_test.json" || fail "$cell: eval_test.json does not cover the 8 test pairs"
  log=$(ls sweep/logs/*_"$(awk -F'\t' -v c="$cell" '$2 == c {print $1}' sweep/cells.tsv)".out)
  [ "$(grep -c 'requeueing' "$log")" -eq 1 ] || fail "$cell: expected one requeue in $log"
  [ "$(grep -c "cell $cell done" "$log")" -eq 1 ] || fail "$cell: $log does not end done"
  say "$cell: done, test PCK@0.1 $pck, one requeue"
done
if [ "$MT_RANKS" -eq 2 ]; then
  grep -q 'mpirun -np 2 ' sweep/logs/*_2.out || fail "the mt cell did not run through mpirun -np 2"
  grep -q 'two groups' sweep/logs/*_2.out || fail "the mt cell did not run on two rank groups"
else
  say "one core: mt ran on one rank"
fi
# st ran after its teacher's task ended: first start of st >= base's end.
base_end=$(grep 'cell base-seed1 done at' sweep/logs/*_0.out | sed 's/.* at //')
st_start=$(grep -m1 'cell 1 st-seed1 on' sweep/logs/*_1.out | sed 's/.* at \(.*\) (.*/\1/')
[ "$(date -d "$st_start" +%s)" -ge "$(date -d "$base_end" +%s)" ] ||
  fail "st started at $st_start, before its teacher ended at $base_end"
grep -q "teacher.checkpoint=.*/sweep/runs/base-seed1" sweep/cells.tsv || fail "st's teacher not in cells.tsv"

# Never rerun a finished cell.
"$BIN/scorr_sweep" sweep.yaml --submit > resubmit.log 2>&1 || { cat resubmit.log; fail "second --submit failed"; }
grep -q 'nothing to submit' resubmit.log || { cat resubmit.log; fail "the second --submit submitted done cells"; }

# The tables list every cell.
"$BIN/scorr_table" sweep --table all --format csv > table.csv 2> table.err || { cat table.err; fail "scorr_table failed"; }
cat table.csv
for v in "none (baseline)" "(st)" "(mt)"; do
  grep -q "^variants,0,[0-9]*,Variant=[^,]*$v,test PCK@0.1,[0-9.]*,,1$" table.csv ||
    fail "Table 5 lacks the $v row with n = 1"
done
[ "$(grep -c '^categories,0,' table.csv)" -ge 3 ] || fail "Table 1 lacks rows"
grep -q '3 runs read, 3 counted' table.err || { cat table.err; fail "scorr_table did not count the 3 runs"; }
"$BIN/scorr_table" sweep --table variants > table.md 2>/dev/null || fail "scorr_table (md) failed"
cat table.md

say "PASS"
exit 0
