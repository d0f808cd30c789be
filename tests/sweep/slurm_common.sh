# Sourced by the tests that run a REAL SLURM on this machine
# (test_slurm_sweep.sh, test_slurm_preempt.sh). Before sourcing, set TEST
# (the test's name), NAME_STEM, BIN, SRC and SLURM_TOOLS (the client programs the test
# needs). Defines skip/fail/say; skips (exit 77) unless root with the SLURM
# packages; makes WORK (a fresh folder) and NAME (the job-name stem); starts
# SLURM with scripts/slurm-local.sh unless one is up, and on exit cancels the
# test's jobs, stops the daemons it started and removes WORK
# (SCORR_KEEP_TMP=1 keeps it).
SKIP=77
T0=$(date +%s)

skip() { echo "SKIP $TEST: $*"; exit $SKIP; }
fail() { echo "FAIL $TEST: $*" >&2; exit 1; }
say() { echo "[$(( $(date +%s) - T0 ))s] $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root (slurmd runs the jobs as root here); CI runs as root"
for c in munged slurmctld slurmd; do
  command -v $c >/dev/null || [ -x /usr/sbin/$c ] || skip "$c not installed (bash scripts/deps.sh --test)"
done
for c in $SLURM_TOOLS; do
  command -v $c >/dev/null || skip "$c not installed (bash scripts/deps.sh --test)"
done

export SLURM_CONF=${SCORR_SLURM_DIR:-/tmp/scorr-slurm}/slurm.conf
WORK=$(mktemp -d "/tmp/scorr_$TEST.XXXXXX")
NAME=scorr-$NAME_STEM-$$
STARTED=
cleanup() {
  scancel --name="scorr-$NAME" >/dev/null 2>&1 || true
  if [ -n "$STARTED" ]; then bash "$SRC/scripts/slurm-local.sh" down >/dev/null 2>&1 || true; fi
  if [ -z "${SCORR_KEEP_TMP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

# SLURM: reuse a running one, else start it here.
if [ -f /run/slurmctld.pid ] && kill -0 "$(cat /run/slurmctld.pid)" 2>/dev/null &&
   sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
  say "SLURM already up: using it"
else
  STARTED=1
  bash "$SRC/scripts/slurm-local.sh" up || fail "scripts/slurm-local.sh up failed (see above)"
fi
