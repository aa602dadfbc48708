#!/bin/bash
# Submits a distributed merge to Slurm: a job array of N shards, and the gather as a job that
# starts only when every task of the array succeeded (--dependency=afterok).
#
#   examples/distributed/slurm/submit.sh CONFIG N OUTPUT [sbatch options...]
#
# sbatch options (--partition, --account, --mem, ...) go to both jobs and override the
# #SBATCH lines of merge.sbatch and gather.sbatch.
#
# CONFIG and OUTPUT must be on a file system every node sees. Prints `mats plan` (the tensors,
# bytes read, estimated time and peak memory of each shard) first; size --mem and --time by it.
# If a task fails: fix the cause, then `sbatch --array=I --export=ALL,MATS_CONFIG=...,MATS_SHARDS=N,MATS_OUT=...
# merge.sbatch` (shards already complete are skipped even if you resubmit the whole array), then
# `sbatch --export=ALL,MATS_OUT=OUTPUT gather.sbatch`.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 CONFIG N OUTPUT [sbatch options...]" >&2
  exit 2
fi
config=$(realpath "$1")
shards=$2
output=$(realpath -m "$3")
shift 3
here=$(dirname "$(realpath "$0")")
mats=${MATS:-mats}

$mats plan "$config" --shards "$shards" --out "$output"

array=$(sbatch --parsable --array=0-$((shards - 1)) --export=ALL,MATS_CONFIG="$config",MATS_SHARDS="$shards",MATS_OUT="$output" "$@" "$here/merge.sbatch")
array=${array%%;*}
gather=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes --export=ALL,MATS_OUT="$output" "$@" "$here/gather.sbatch")
gather=${gather%%;*}
echo "submitted: array job $array (shards 0-$((shards - 1))), gather job $gather (starts once every shard succeeded)"
