#!/bin/bash
# Configure and build scorr into ./build (or $SCORR_BUILD_DIR). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${SCORR_BUILD_DIR:-build}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=${SCORR_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$B" -j "$(nproc)"
