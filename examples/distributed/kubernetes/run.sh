#!/bin/bash
# Runs the distributed merge on Kubernetes: the Indexed Job of shards, then (once every index
# completed) the gather Job. Assumes the volume mats-merge-data already holds /data/merge.yaml
# and the inputs it names (copy them in with a helper pod, or use an existing claim).
#   examples/distributed/kubernetes/run.sh [kubectl options, e.g. -n NAMESPACE]
set -euo pipefail
here=$(dirname "$(realpath "$0")")
kubectl "$@" apply -f "$here/merge-job.yaml"
# A failed index is retried alone (backoffLimitPerIndex); the Job is Complete only when every shard is.
kubectl "$@" wait --for=condition=complete --timeout=24h job/mats-merge
kubectl "$@" apply -f "$here/gather-job.yaml"
kubectl "$@" wait --for=condition=complete --timeout=1h job/mats-gather
kubectl "$@" logs job/mats-gather
