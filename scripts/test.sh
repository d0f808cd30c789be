#!/bin/bash
# The test suite: install what is missing, build, run every test (ctest).
# Extra arguments go to ctest (e.g. -L ops, -R test_core).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --test
bash scripts/build.sh
cd "${SCORR_BUILD_DIR:-build}"
ctest --output-on-failure -j "${SCORR_TEST_JOBS:-2}" "$@"
