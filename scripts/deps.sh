#!/bin/bash
# Install the Debian 12 packages scorr needs, if any are missing.
#   scripts/deps.sh            build and run dependencies
#   scripts/deps.sh --test     also what the test suite needs (SLURM, munge, Chromium for
#                              the report's browser test)
#   scripts/deps.sh --torch    also PyTorch, for regenerating fixtures and bench/ comparisons
set -euo pipefail
pkgs=(build-essential cmake pkg-config git ca-certificates
      openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools
      libopenblas-dev libyaml-dev libdnnl-dev ocl-icd-opencl-dev
      libjpeg-dev libpng-dev libcjson-dev libmatio-dev)
for a in "$@"; do
  case "$a" in
    --test) pkgs+=(slurmctld slurmd slurm-client munge chromium) ;;
    --torch) pkgs+=(python3-torch python3-torchvision python3-h5py python3-numpy python3-scipy) ;;
    *) echo "deps.sh: unknown option '$a' (use --test, --torch)" >&2; exit 2 ;;
  esac
done
# Open MPI resolves this machine's hostname at every start; without an entry
# (bare containers and chroots have no /etc/hosts) each start waits 5 s for DNS.
ensure_hostname() {
  local h
  h=$(hostname)
  getent hosts "$h" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "deps: '$h' does not resolve; adding '127.0.1.1 $h' to /etc/hosts (MPI start-up waits 5 s otherwise)"
    grep -q '^127.0.0.1' /etc/hosts 2>/dev/null || echo "127.0.0.1 localhost" >> /etc/hosts
    echo "127.0.1.1 $h" >> /etc/hosts
  else
    echo "deps: warning: hostname '$h' does not resolve; MPI start-up will be slow (add it to /etc/hosts)" >&2
  fi
}
ensure_hostname

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
