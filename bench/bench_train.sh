#!/usr/bin/env bash
# bench_train.sh: training throughput of scorr_train under MPI (issue 4).
#
#   bench/bench_train.sh BUILD_DIR [WORK_DIR]
#
# Builds nothing. Makes a small synthetic dataset at 256 px (scorr_synth), then
# trains the paper model (ResNet-101 cut after layer3, SCE k = 7 to 2048
# channels, upsampling 4, random initialisation; experiments/spair.yaml
# otherwise, but no validation and checkpoints only at the epoch end) for one
# short epoch with a global batch of 4 pairs, variants baseline and mt, at 1
# and 2 ranks (mpirun --bind-to none, OMP threads per rank = cores / ranks,
# OMP_WAIT_POLICY=passive). mt starts its pseudo-labels at epoch 0 so the
# flow exchange and the crossed selection are part of every step.
#
# Reads from each run's summary.json: step_seconds (wall time per step with
# data loading and communication, the run's first step left out),
# pairs_per_second (global pairs per second) and comm_fraction (time in MPI
# calls / step compute time), and prints a Markdown table.
#
# Then the gradient exchange (docs/performance.md, "Communication"):
# baseline at COMM_RANKS (default "2 4") ranks, once per train.bucket_mb in
# BUCKETS (default "0 25": 0 = exchange after the backward, i.e. before the
# overlap) and allreduce_dtype in DTYPES (default "fp32 bf16"), reporting
# step_seconds and grad_exposed_seconds (the exchange time per step that the
# backward did not hide) from summary.json.
#
# Environment: STEPS (steps per run, default 5: 4 timed), CORES (default
# nproc), MPIRUN (default mpirun), DEPTH (default 101; 18 for a quick check
# of the script), PRECISION (model.precision, fp32 or bf16; default fp32),
# SECTIONS (default "throughput comm"), KEEP=1 keeps WORK_DIR. The report
# starts with the CPU's vector features and the OpenBLAS core that runs
# (BUILD_DIR/bench/bench_step --cpu).
set -euo pipefail

if [[ $# -lt 1 || "$1" == "-h" || "$1" == "--help" ]]; then
    sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
BUILD=$(cd "$1" && pwd)
BIN="$BUILD/bin"
for exe in scorr_synth scorr_train; do
    if [[ ! -x "$BIN/$exe" ]]; then
        echo "bench_train.sh: $BIN/$exe not found; build it first (cmake --build $BUILD --target ${exe}_exe)" >&2
        exit 1
    fi
done
WORK=${2:-$(mktemp -d /tmp/bench_train.XXXXXX)}
mkdir -p "$WORK"
STEPS=${STEPS:-5}
DEPTH=${DEPTH:-101}
PRECISION=${PRECISION:-fp32}
CORES=${CORES:-$(nproc)}
MPIRUN=${MPIRUN:-mpirun}
SECTIONS=${SECTIONS:-throughput comm}
COMM_RANKS=${COMM_RANKS:-2 4}
BUCKETS=${BUCKETS:-0 25}
DTYPES=${DTYPES:-fp32 bf16}
cleanup() { [[ "${KEEP:-0}" == 1 ]] || rm -rf "$WORK"; }
trap cleanup EXIT

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader
export OMP_WAIT_POLICY=passive

DATA="$WORK/synth256.h5"
pairs=$((4 * STEPS))
echo "dataset: $pairs training pairs at 256 px -> $DATA" >&2
OMP_NUM_THREADS=$CORES "$BIN/scorr_synth" --size 256 --pairs "$pairs,0,0" \
    --images-per-category 8,4,4 --seed 7 "$DATA" >/dev/null

write_config() { # variant out [bucket_mb dtype]
    cat >"$WORK/$1.yaml" <<EOF
# experiments/spair.yaml on a small synthetic dataset, for throughput only
name: bench_$1
output: $2
seed: 2021
variant: $1
data:
  file: $DATA
  train_split: trn
  val_split: none
  image_size: 256
  augment: true
  flip: false
model:
  backbone:
    depth: $DEPTH
    width: 64
    weights: none
    freeze: false
    batchnorm: batch
  sce:
    enabled: true
    kernel: 7
    channels: 2048
  upsample: 4
  temperature: 0.02
  precision: $PRECISION
pseudo:
  weight: 10.0
  start_epoch: 0
  dilation_kernel: 7
  selection:
    start_ratio: 0.2
    end_ratio: 0.9
    ramp_epochs: 10
optim:
  lr: 3.0e-5
  lr_backbone: 3.0e-6
  weight_decay: 0.05
schedule:
  type: step
  milestones: [150]
  gamma: 0.5
train:
  epochs: 1
  batch_size: 4
  max_steps_per_epoch: $STEPS
  bucket_mb: ${3:-25}
  allreduce_dtype: ${4:-fp32}
checkpoint:
  every_steps: none
  keep_last: 1
log:
  every_steps: 1
EOF
}

field() { # summary.json key -> value ("nan" for null or missing); cJSON writes one key per line
    local v
    v=$(sed -n 's/^[[:space:]]*"'"$2"'":[[:space:]]*\([^,]*\),\{0,1\}[[:space:]]*$/\1/p' "$1" | head -1)
    [[ -z "$v" || "$v" == null ]] && v=nan
    echo "$v"
}

# run_one variant ranks out [bucket_mb dtype]: train, fail loudly, leave summary.json
run_one() {
    local variant=$1 ranks=$2 out=$3 threads=$((CORES / $2))
    [[ $threads -ge 1 ]] || threads=1
    rm -rf "$out"
    write_config "$variant" "$out" "${4:-25}" "${5:-fp32}"
    echo "run: $variant, $ranks rank(s), $threads thread(s) each, bucket_mb ${4:-25}, ${5:-fp32}, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=1 \
        "$MPIRUN" -np "$ranks" --bind-to none \
        -x OMP_NUM_THREADS -x OPENBLAS_NUM_THREADS -x OMP_WAIT_POLICY \
        "$BIN/scorr_train" "$WORK/$variant.yaml" >"$out.log" 2>&1 || {
        echo "bench_train.sh: scorr_train failed ($variant, $ranks ranks); log:" >&2
        tail -20 "$out.log" >&2
        exit 1
    }
    grep -h "training steps:\|gradient exchange:" "$out.log" >&2 || true
}

if [[ -x "$BUILD/bench/bench_step" ]]; then
    "$BUILD/bench/bench_step" --cpu
else
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) (build bench/bench_step for the vector features and OpenBLAS core); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
fi

rows=()
if [[ " $SECTIONS " == *" throughput "* ]]; then
    for variant in baseline mt; do
        for ranks in 1 2; do
            out="$WORK/run_${variant}_$ranks"
            t0=$(date +%s.%N)
            run_one "$variant" "$ranks" "$out"
            t1=$(date +%s.%N)
            s="$out/summary.json"
            rows+=("$(printf '| %s | %d | %d | %d | %.3f | %.3f | %.1f %% | %.0f s |' \
                "$variant" "$ranks" "$(( CORES / ranks > 0 ? CORES / ranks : 1 ))" \
                "$(field "$s" steps_timed)" "$(field "$s" step_seconds)" \
                "$(field "$s" pairs_per_second)" \
                "$(awk -v c="$(field "$s" comm_fraction)" 'BEGIN{print 100*c}')" \
                "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")")
        done
    done
    echo
    echo "scorr_train throughput: ResNet-$DEPTH + SCE k=7/2048, up 4, 256x256, global batch 4, batchnorm batch, precision $PRECISION, $CORES cores, $(date -u +%Y-%m-%d)"
    echo
    echo "| variant | ranks | threads/rank | steps timed | s/step | pairs/s | comm fraction | run wall time |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    printf '%s\n' "${rows[@]}"
fi

crows=()
if [[ " $SECTIONS " == *" comm "* ]]; then
    for ranks in $COMM_RANKS; do
        for dtype in $DTYPES; do
            for bucket in $BUCKETS; do
                out="$WORK/comm_${ranks}_${dtype}_$bucket"
                run_one baseline "$ranks" "$out" "$bucket" "$dtype"
                s="$out/summary.json"
                sps=$(field "$s" step_seconds)
                ge=$(field "$s" grad_exposed_seconds)
                nb=$(sed -n 's/.*gradient exchange: \([0-9]*\) bucket.*/\1/p' "$out.log" | head -1)
                crows+=("$(printf '| %d | %s | %s | %s | %d | %.3f | %.3f | %.1f %% |' \
                    "$ranks" "$dtype" "$bucket" "$([[ $bucket == 0 ]] && echo after || echo overlapped)" \
                    "${nb:-0}" "$sps" "$ge" "$(awk -v a="$ge" -v b="$sps" 'BEGIN{print 100*a/b}')")")
            done
        done
    done
    echo
    echo "gradient exchange (baseline, ResNet-$DEPTH, precision $PRECISION, global batch 4, $CORES cores shared by all ranks, $(date -u +%Y-%m-%d)):"
    echo "exposed = seconds per step of the exchange not hidden behind the backward (summary.json grad_exposed_seconds)"
    echo
    echo "| ranks | dtype | bucket_mb | exchange | buckets | s/step | exposed s/step | exposed / step |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    printf '%s\n' "${crows[@]}"
fi
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
