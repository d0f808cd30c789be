#!/bin/bash
# A real single-node SLURM on this machine, for tests and for trying sweeps:
#   scripts/slurm-local.sh up     start munged, slurmctld and slurmd (as root)
#   scripts/slurm-local.sh down   stop them by their pid files
#   scripts/slurm-local.sh env    print the SLURM_CONF line to export
# Configuration and logs live in $SCORR_SLURM_DIR (default /tmp/scorr-slurm);
# clients find it through SLURM_CONF=$SCORR_SLURM_DIR/slurm.conf.
# Needs: slurmctld slurmd slurm-client munge (scripts/deps.sh --test).
set -euo pipefail
DIR=${SCORR_SLURM_DIR:-/tmp/scorr-slurm}
CONF=$DIR/slurm.conf
RUN=${SCORR_SLURM_RUN:-/run}

die() { echo "slurm-local: $*" >&2; exit 1; }

# slurmd 22.05 initialises its cgroup plugin even with proctrack/linuxproc and
# task/none, and stops when no cgroup filesystem is mounted (bare chroots and
# some containers). Mount the hierarchies this process belongs to, as the host
# has them (v1 controllers on a tmpfs, or the v2 unified tree); `down` unmounts.
ensure_cgroups() {
  if grep -q ' /sys/fs/cgroup' /proc/mounts; then return 0; fi
  [ -d /sys/fs/cgroup ] || return 0
  : > "$DIR/cgroup-mounts"
  if grep -qE '^[0-9]+:[^:]+:' /proc/self/cgroup; then
    mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
    echo /sys/fs/cgroup >> "$DIR/cgroup-mounts"
    local line ctrls dir opts
    while IFS= read -r line; do
      ctrls=$(echo "$line" | cut -d: -f2)
      if [ -z "$ctrls" ]; then
        dir=unified
        mkdir -p /sys/fs/cgroup/$dir
        mount -t cgroup2 cgroup2 /sys/fs/cgroup/$dir || continue
      else
        dir=${ctrls#name=}
        opts=$ctrls
        case "$ctrls" in name=*) opts="none,$ctrls" ;; esac
        mkdir -p /sys/fs/cgroup/$dir
        mount -t cgroup -o "$opts" cgroup /sys/fs/cgroup/$dir || continue
      fi
      sed -i "1i /sys/fs/cgroup/$dir" "$DIR/cgroup-mounts"
    done < /proc/self/cgroup
  else
    mount -t cgroup2 cgroup2 /sys/fs/cgroup
    echo /sys/fs/cgroup >> "$DIR/cgroup-mounts"
  fi
  echo "slurm-local: mounted the cgroup hierarchies slurmd needs (unmounted by 'down')"
}

up() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (slurmd runs jobs as root here)"
  for c in munged slurmctld slurmd sbatch; do
    command -v $c >/dev/null || [ -x /usr/sbin/$c ] || die "$c not installed (bash scripts/deps.sh --test)"
  done
  mkdir -p "$DIR/state" "$DIR/spool"
  ensure_cgroups
  # munge: its own user, its own run dir
  if ! { [ -f /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null; }; then
    mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
    [ -f /etc/munge/munge.key ] || { dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
    runuser -u munge -- /usr/sbin/munged
  fi
  local node
  node=$(slurmd -C | head -1 | sed 's/ UpTime.*//')
  local name
  name=$(echo "$node" | sed -n 's/^NodeName=\([^ ]*\).*/\1/p')
  cat > "$CONF" <<CONF
# written by scripts/slurm-local.sh
ClusterName=scorr-local
SlurmctldHost=$name(127.0.0.1)
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ReturnToService=2
KillWait=5
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$CONF
  /usr/sbin/slurmctld -f "$CONF"
  /usr/sbin/slurmd -f "$CONF"
  for _ in $(seq 1 50); do
    if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      echo "slurm-local: up ($name); export SLURM_CONF=$CONF"
      return 0
    fi
    sleep 0.2
  done
  sinfo >&2 || true
  tail -5 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
  die "the node did not become idle within 10 s"
}

stop_pid() {
  local f=$1
  if [ -f "$f" ]; then
    local p
    p=$(cat "$f")
    if kill -0 "$p" 2>/dev/null; then
      kill "$p" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$f"
  fi
}

down() {
  stop_pid "$RUN/slurmd.pid"
  stop_pid "$RUN/slurmctld.pid"
  stop_pid /run/munge/munged.pid
  if [ -f "$DIR/cgroup-mounts" ]; then
    while IFS= read -r m; do umount "$m" 2>/dev/null || true; done < "$DIR/cgroup-mounts"
    rm -f "$DIR/cgroup-mounts"
  fi
  echo "slurm-local: down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: scripts/slurm-local.sh up|down|env" >&2; exit 2 ;;
esac
