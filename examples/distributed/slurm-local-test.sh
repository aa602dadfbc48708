#!/bin/bash
# A real Slurm run of a distributed merge on this one machine, with the recipe as users run it:
#   1. starts munged, slurmctld and slurmd (Debian's munge and slurm-wlm) from a minimal
#      slurm.conf in a temporary folder, on free ports, the node being this machine;
#   2. generates small LLaMA-shaped models (make-models.mjs) and a TIES config with global trim
#      (every shard makes whole-model preparation passes);
#   3. submits examples/distributed/slurm/submit.sh: a job array of N shards, and the gather as a
#      job that depends on it (--dependency=afterok);
#   4. waits, then compares the gathered output with a single-process merge, tensor by tensor
#      (examples/distributed/compare-outputs.mjs), and prints every job's log.
# Exit status 0 only when both Slurm jobs succeeded and the outputs are identical.
#
#   npm run build && examples/distributed/slurm-local-test.sh [N]     (N: shards, default 4)
#
# Needs root (slurmd runs the jobs as the submitting user, itself root here) and the Debian
# packages slurm-wlm and munge. KEEP=1 keeps the temporary folder; the daemons are always stopped.
set -euo pipefail

shards=${1:-4}
repo=$(cd "$(dirname "$0")/../.." && pwd)
mats="node $repo/packages/merge/bin/mats.js"
[ "$(id -u)" -eq 0 ] || { echo "slurm-local-test: run as root (slurmd starts the jobs; sudo $0)" >&2; exit 1; }
for tool in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$tool" >/dev/null || { echo "slurm-local-test: $tool not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
done
[ -f "$repo/packages/merge/dist/cli/main.js" ] || { echo "slurm-local-test: run npm run build first" >&2; exit 1; }

T=$(mktemp -d /tmp/mats-slurm-local.XXXXXX)
pids=()
cleanup() {
  local status=$?
  # Stop only what this script started, by the pids their pid files hold.
  for f in "$T/slurmd.pid" "$T/slurmctld.pid" "$T/munged.pid"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 1
  if [ "${KEEP:-0}" = 1 ] || [ $status -ne 0 ]; then echo "slurm-local-test: files kept in $T"; else rm -rf "$T"; fi
  exit $status
}
trap cleanup EXIT
started=$SECONDS
log() { echo "[slurm-local-test $((SECONDS - started)) s] $*"; }

free_port() {
  local p
  for p in $(seq "$1" "$(($1 + 200))"); do
    if ! (ss -ltnH 2>/dev/null || true) | awk '{print $4}' | grep -q ":$p\$"; then echo "$p"; return; fi
  done
  echo "slurm-local-test: no free port from $1" >&2
  exit 1
}

# --- munge: its own key, socket, log and pid file
mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/work"
chmod 755 "$T/munge"
dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 status=none
chmod 600 "$T/munge.key"
munged --force --socket="$T/munge/munge.socket" --key-file="$T/munge.key" --log-file="$T/munged.log" \
  --pid-file="$T/munged.pid" --seed-file="$T/munged.seed" --num-threads=2
log "munged started"

# --- slurm: one node, this machine; up to 4 jobs share its cores
node_name=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
ctld_port=$(free_port 16817)
d_port=$(free_port $((ctld_port + 1)))
cat >"$T/slurm.conf" <<EOF
ClusterName=matslocal
SlurmctldHost=$node_name(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.socket
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
MinJobAge=600
KillWait=5
NodeName=$node_name NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$node_name Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
export SLURM_CONF=$T/slurm.conf
slurmctld -f "$SLURM_CONF" -i
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  state=$(sinfo -h -n "$node_name" -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 1
done
[ "$state" = idle ] || { echo "slurm-local-test: the node is '$state', not idle:"; tail -20 "$T/slurmctld.log" "$T/slurmd.log"; exit 1; }
log "slurmctld (port $ctld_port) and slurmd (port $d_port) up; node $node_name idle ($cpus CPUs)"

# --- inputs: a base and 3 task models, a TIES config with global trim
cd "$T/work"
node "$repo/examples/distributed/make-models.mjs" "$T/work/models" --models 3
cat >"$T/work/merge.yaml" <<'EOF'
method: ties
base: models/base.safetensors
models:
  - path: models/task1.safetensors
  - path: models/task2.safetensors
  - path: models/task3.safetensors
parameters:
  density: 0.2
output:
  path: merged
  shard_size: 4MB
EOF

# --- the recipe: the array of shards and the dependent gather
submitted=$(MATS="$mats" "$repo/examples/distributed/slurm/submit.sh" merge.yaml "$shards" merged --cpus-per-task=1 --mem=1G)
echo "$submitted"
array=$(echo "$submitted" | sed -n 's/^submitted: array job \([0-9]*\) .*/\1/p')
gather=$(echo "$submitted" | sed -n 's/.*gather job \([0-9]*\) .*/\1/p')
[ -n "$array" ] && [ -n "$gather" ] || { echo "slurm-local-test: no job ids in submit.sh's output"; exit 1; }
log "submitted array job $array and gather job $gather"

job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' '; }
for _ in $(seq 600); do
  state=$(job_state "$gather")
  case "$state" in
    *COMPLETED*|*FAILED*|*CANCELLED*|*TIMEOUT*|*NODE_FAIL*|*OUT_OF_MEMORY*) break ;;
  esac
  sleep 1
done
log "array job $array: $(job_state "$array"); gather job $gather: $(job_state "$gather")"
for f in mats-merge-*.out mats-gather-*.out; do
  echo "----- $f"
  cat "$f"
done
[ "$(job_state "$gather")" = "COMPLETED " ] || { echo "slurm-local-test: the gather job did not complete"; tail -30 "$T/slurmctld.log"; exit 1; }

# --- the same merge in one process, and the comparison
$mats merge merge.yaml --out single --quiet
node "$repo/examples/distributed/compare-outputs.mjs" merged single
log "done: $shards shards through Slurm, gathered, identical to the single-process merge"
