#!/bin/bash
# The benchmarks must keep running: each bench program at a tiny size, one
# iteration, no PyTorch. Checks the exit status and the line each one ends
# with; never a time (benchmarks report ratios, tests do not judge speed).
#   smoke.sh BENCH_DIR
set -u
B=${1:?usage: smoke.sh BENCH_DIR}
fails=0
check() { # name regex command...
    local name=$1 re=$2
    shift 2
    local out rc
    out=$(timeout 300 "$@" 2>&1)
    rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "FAIL $name: exit $rc"; echo "$out" | tail -15; fails=$((fails + 1))
    elif ! grep -Eq "$re" <<<"$out"; then
        echo "FAIL $name: no line matching '$re'"; echo "$out" | tail -15; fails=$((fails + 1))
    else
        echo "ok   $name: $(grep -E "$re" <<<"$out" | head -1 | cut -c1-120)"
    fi
}
check bench_step 'RESULT bench_step .*scorr_pairs_s=[0-9.]*[1-9].* torch=off' \
    "$B/bench_step" --no-torch --depth 18 --size 64 --iters 1 --warmup 0
# bf16 requested: runs bf16 where the CPU has it natively, fp32 otherwise; either way
# the result line says which ran
check "bench_step bf16" 'RESULT bench_step .*scorr_pairs_s=[0-9.]*[1-9].* precision=bf16 precision_ran=(bf16|fp32)' \
    "$B/bench_step" --no-torch --depth 18 --size 64 --iters 1 --warmup 0 --precision bf16
check "bench_step --cpu" '^cpu: .*AVX2 (yes|no).*AVX512-BF16 (yes|no).*OpenBLAS core' "$B/bench_step" --cpu
check bench_head 'fused [0-9.]+ ms' "$B/bench_head" --size 16 --channels 32 --sce-out 64 --iters 1
check bench_backbone '^best: forward' "$B/bench_backbone" --depth 18 --width 16 --batch 2 --size 64 --iters 1
check bench_data 'augmentation p = 0.2' "$B/bench_data"
# peak memory: scorr_train in a child per configuration (mt: the second
# network shares the first's workspace) and the breakdown child
check bench_memory 'RESULT bench_memory variant=mt batch=1 .*scorr_kb=[1-9][0-9]* .*workspace_bytes=[1-9]' \
    "$B/bench_memory" --no-torch --depth 18 --size 64 --configs baseline:1,mt:1 --steps 1
for b in bench_step bench_head bench_backbone bench_data bench_memory; do
    check "$b --help" '^usage' "$B/$b" --help
done
[[ $fails -eq 0 ]] && echo "bench smoke: all passed" || echo "bench smoke: $fails failed"
exit $((fails > 0))
