#!/bin/bash
# Run one fuzzer of a -DSCORR_FUZZ=ON build (tests/fuzz/README.md):
#   tests/fuzz/run.sh <build dir> <target> [runs] [extra libFuzzer flags...]
# One process (-workers=1 -jobs=1). The working corpus starts from the
# committed seeds (tests/fuzz/corpus/<target>) in $FUZZ_WORK (default
# /tmp/scorr-fuzz/<target>); crashes, timeouts and leaks land in
# $FUZZ_WORK/artifacts/ (commit them under tests/fuzz/regressions/<target>/
# once fixed). Prints libFuzzer's final statistics (executions, time).
set -euo pipefail
build=$1 target=$2 runs=${3:-100000}
shift $(( $# < 3 ? $# : 3 ))
here=$(cd "$(dirname "$0")" && pwd)
work=${FUZZ_WORK:-/tmp/scorr-fuzz}/$target
mkdir -p "$work/corpus" "$work/artifacts"
cp -n "$here/corpus/$target/"* "$work/corpus/" 2>/dev/null || true
if [ -d "$here/regressions/$target" ]; then
  cp -n "$here/regressions/$target/"* "$work/corpus/" 2>/dev/null || true
fi
# Open MPI is not started by the targets; HDF5 and OpenBLAS run one thread.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
bin=$(cd "$build" && pwd)/fuzz/fuzz_$target
# -jobs=1 runs the fuzzer in one child process whose output goes to
# fuzz-0.log in the working directory: $work.
cd "$work"
rm -f fuzz-0.log
rc=0
"$bin" -workers=1 -jobs=1 -runs="$runs" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" || rc=$?
cat fuzz-0.log 2>/dev/null || true
exit $rc
