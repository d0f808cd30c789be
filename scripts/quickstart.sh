#!/bin/bash
# The main job: install what is missing, build, and run scorr on the built-in
# synthetic benchmark. Until scorr_train lands this runs the forward/backward
# demo of the full SCorrSAN model (scorr_demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
B=${SCORR_BUILD_DIR:-build}
if [ -x "$B/bin/scorr_demo" ]; then
  OMP_NUM_THREADS=$(nproc) OPENBLAS_NUM_THREADS=$(nproc) "$B/bin/scorr_demo"
else
  echo "quickstart: built; the demo program is not part of this revision yet" >&2
  exit 1
fi
