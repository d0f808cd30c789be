#!/bin/bash
# Preemption and time limits on a REAL SLURM on this machine
# (scripts/slurm-local.sh), through the sweep's array script
# (slurm/array.sbatch.in) and mpirun on 2 ranks:
#   1. the time limit's early warning: SLURM's --signal=B:USR1@N reaches the
#      batch shell (here delivered at once with scancel --batch
#      --signal=USR1); the ranks checkpoint, exit 3, the task requeues
#      itself and finishes;
#   2. a preemption / time limit without the early warning: SIGTERM to every
#      process of the job (scancel --full --signal=TERM); mpirun exits 1 but
#      the ranks checkpoint, the script sees it in summary.json (exit 3) and
#      requeues;
# and the final weights equal those of the same run uninterrupted (mpirun
# -np 2 outside SLURM) bit for bit (h5diff of /params).
#
#   test_slurm_preempt.sh BIN_DIR SOURCE_DIR
#
# Exit 0 pass, 1 fail, 77 skip (not root, SLURM or h5diff missing). The
# daemons are stopped on exit if this test started them.
set -u
BIN=${1:?usage: test_slurm_preempt.sh BIN_DIR SOURCE_DIR}
SRC=${2:?usage: test_slurm_preempt.sh BIN_DIR SOURCE_DIR}
TEST=test_slurm_preempt NAME_STEM=preempt SLURM_TOOLS="sbatch squeue scontrol scancel sinfo mpirun h5diff"
# shellcheck source=tests/sweep/slurm_common.sh
source "$SRC/tests/sweep/slurm_common.sh"
[ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] || skip "needs 2 cores for 2 ranks"

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# After a SIGTERM mpirun ends the job 2 x this after the ranks left (the
# template's default, 60, took 2 minutes); the ranks need well under 1 s here.
export OMPI_MCA_odls_base_sigkill_timeout=10
cd "$WORK" || fail "cd $WORK"
"$BIN/scorr_synth" --size 64 --categories 3 --pairs 32,8,8 --images-per-category 8,4,4 \
  --seed 3 synth.h5 > synth.log 2>&1 || { cat synth.log; fail "scorr_synth failed"; }
# 8 epochs of 8 steps (long enough to be signalled mid-run), a checkpoint
# every 2 steps; no evaluation.
cat > sweep.yaml <<EOF
name: $NAME
base: $SRC/experiments/quickstart.yaml
dir: sweep
set:
  variant: baseline
  data: {file: $WORK/synth.h5, image_size: 64, augment: false}
  model: {backbone: {width: 8}, sce: {kernel: 3, channels: 16}}
  train: {epochs: 8, batch_size: 4}
  checkpoint: {every_steps: 2, keep_last: 1}
  log.every_steps: 1
resources: {ranks: 2, threads: 1, time: "00:10:00"}
slurm: {signal_seconds: 60, max_requeues: 3}
eval: {split: none}
cells:
  - {id: usr1}
  - {id: term}
grid:
  seed: [1]
EOF
"$BIN/scorr_sweep" sweep.yaml --write-only > write.log 2>&1 || { cat write.log; fail "--write-only failed"; }

# The reference: the same experiment uninterrupted, 2 ranks, outside SLURM.
cp sweep/cells/usr1-seed1/exp.yaml ref.yaml
sed -i "s#^output: .*#output: $WORK/ref#" ref.yaml
mpirun -np 2 --oversubscribe "$BIN/scorr_train" ref.yaml > ref.log 2>&1 || { cat ref.log; fail "reference run failed"; }

# Submit both cells; signal each once it has logged 3 steps. The jobs inherit
# a 150 ms sleep per step (a test hook of scorr_train): on a quiet machine the
# 64 steps take about 4 s, and a signal sent by this 1 s poll could otherwise
# arrive after the run has finished.
SCORR_TEST_STEP_SLEEP_MS=150 "$BIN/scorr_sweep" sweep.yaml --submit > submit.log 2>&1 || { cat submit.log; fail "--submit failed"; }
cat submit.log
declare -A how=([usr1-seed1]="--batch --signal=USR1" [term-seed1]="--full --signal=TERM")
declare -A sent=()
for _ in $(seq 1 240); do
  left=$(squeue -h -r --name="scorr-$NAME" -o '%i %T %r' 2>/dev/null)
  [ -z "$left" ] && [ ${#sent[@]} -eq 2 ] && break
  for cell in usr1-seed1 term-seed1; do
    [ -n "${sent[$cell]:-}" ] && continue
    steps=sweep/runs/$cell/steps.csv
    [ -f "$steps" ] && [ "$(wc -l < "$steps")" -ge 4 ] || continue
    idx=$(awk -F'\t' -v c="$cell" '$2 == c {print $1}' sweep/cells.tsv)
    job=$(squeue -h -r --name="scorr-$NAME" -o '%i %K %T' | awk -v i="$idx" '$2 == i && $3 == "RUNNING" {print $1}')
    [ -n "$job" ] || continue
    # shellcheck disable=SC2086
    scancel ${how[$cell]} "$job" && sent[$cell]=1 && say "$cell: scancel ${how[$cell]} $job"
  done
  echo "$left" | awk '$3 == "BeginTime" {print $1}' | while read -r j; do
    scontrol update JobId="$j" StartTime=now >/dev/null 2>&1 || true
  done
  sleep 1
done
[ -z "$(squeue -h --name="scorr-$NAME" 2>/dev/null)" ] || { squeue; fail "jobs still queued after 240 s"; }
say "jobs finished"

for cell in usr1-seed1 term-seed1; do
  [ -n "${sent[$cell]:-}" ] || fail "$cell: never signalled (training did not start?)"
  log=$(ls sweep/logs/*_"$(awk -F'\t' -v c="$cell" '$2 == c {print $1}' sweep/cells.tsv)".out)
  grep -q 'requeueing' "$log" || { cat "$log"; fail "$cell: not requeued after the signal"; }
  # mpirun drops the ranks' output after a SIGTERM: the resume says it.
  grep -q 'resuming from .*step_' "$log" || { cat "$log"; fail "$cell: no checkpoint at the signal"; }
  [ "$(grep -c 'requeueing' "$log")" -eq 1 ] || { cat "$log"; fail "$cell: expected one requeue"; }
  grep -q "cell $cell done" "$log" || { cat "$log"; fail "$cell: did not finish"; }
  grep -q '"finished":[[:space:]]*true' "sweep/runs/$cell/summary.json" || fail "$cell: summary not finished"
  a=$(ls ref/checkpoints/step_*.h5 | tail -1)
  b=$(ls "sweep/runs/$cell/checkpoints/"step_*.h5 | tail -1)
  [ "$(basename "$a")" = "$(basename "$b")" ] || fail "$cell: last checkpoint $b, reference $a"
  h5diff -q "$a" "$b" /params /params || fail "$cell: final weights differ from the uninterrupted run"
  say "$cell: checkpointed at the signal, requeued, finished; final weights equal the uninterrupted run"
done
say "PASS"
exit 0
