#!/bin/bash
# Embed slurm/array.sbatch.in into scorr_sweep: regenerates
# src/sweep/sweep_template.c (the built-in template). Run after editing the
# template, then rebuild; test_sweep_script fails while the two differ.
set -euo pipefail
cd "$(dirname "$0")/.."
in=slurm/array.sbatch.in
out=src/sweep/sweep_template.c
{
  cat <<'EOT'
/* The built-in SLURM array script template: slurm/array.sbatch.in, embedded
 * by slurm/embed-template.sh (do not edit here; test_sweep_script checks the
 * two are identical). @NAME@ placeholders are filled in by sweep_slurm.c. */
#include "scorr/sweep.h"

static const char TEMPLATE[] =
EOT
  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' "$in"
  cat <<'EOT'
    ;

const char *scorr_sweep_builtin_template(void) { return TEMPLATE; }
EOT
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "embed-template: $in -> $out"
