#!/bin/bash
# The main job on a fresh machine: install what is missing, build, generate the
# built-in synthetic benchmark, train the mutual-online-teacher variant on two
# MPI ranks (experiments/quickstart.yaml), then evaluate the trained network and
# the untrained one (its initial weights) on the test split, draw a few pairs
# and write the run's HTML report (runs/quickstart/report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
BIN=$(pwd)/${SCORR_BUILD_DIR:-build}/bin
NP=${SCORR_RANKS:-2}
CORES=$(nproc)
THREADS=$(( CORES / NP > 0 ? CORES / NP : 1 ))
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
# Ranks are processes of their own: no busy-waiting OpenMP threads between steps.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# mpirun hides whether this output is a terminal from the ranks; tell them.
[ -t 1 ] && export SCORR_PROGRESS=${SCORR_PROGRESS:-tty}
MPIRUN=(mpirun -np "$NP" --bind-to none)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
[ "$NP" -gt "$CORES" ] && MPIRUN+=(--oversubscribe)

mkdir -p data
if [ ! -f data/synth.h5 ]; then
  echo "== generating the synthetic benchmark (data/synth.h5)"
  "$BIN/scorr_synth" --size 128 --seed 1 --contact-sheet data/synth-sheet.png data/synth.h5
fi
echo "== training (mt, $NP ranks x $THREADS threads): runs/quickstart"
"${MPIRUN[@]}" "$BIN/scorr_train" experiments/quickstart.yaml
echo "== evaluating the untrained network (runs/quickstart/init.h5) on the test split"
"$BIN/scorr_eval" runs/quickstart/init.h5 data/synth.h5 --split test --out runs/quickstart/untrained
echo "== evaluating the trained network (runs/quickstart/best.h5) on the test split"
"$BIN/scorr_eval" runs/quickstart/best.h5 data/synth.h5 --split test --pictures 8
echo "== the report: training curves, evaluation tables, pictures"
"$BIN/scorr_report" runs/quickstart
# The overall per-image PCK@0.1: the first "pck" object of the JSON.
pck() {
  local v
  v=$(tr -d ' \t\n' < "$1" | grep -o '"pck":{[^}]*}' | head -1 | grep -o '"0.1":[0-9.eE+-]*' | cut -d: -f2)
  printf '%.1f' "$v"
}
echo
echo "test PCK@0.1 (bbox): untrained $(pck runs/quickstart/untrained/eval_test.json)  ->  trained $(pck runs/quickstart/eval_test.json)"
echo "report: $(pwd)/runs/quickstart/report.html (one file; open it in a browser)"
