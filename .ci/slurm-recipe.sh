#!/usr/bin/env bash
# The README's cluster recipes, run for real (issue 25). Starts a one-node Slurm cluster
# (Debian's munge, slurmctld, slurmd; no systemd: the daemons are started directly, with every
# file under a temporary folder), submits the job-array script taken from README.md (its
# /shared/ paths moved under that folder) over a folder with broken files, runs the merge
# as the script's "# after the array:" line says, and checks that the merged index.jsonl and
# summary.json equal one unsharded run's (.ci/compare_runs.py). Then runs the Kubernetes
# Job's pod command (from the README's manifest) once per completion index, with no cluster,
# merges and compares the same way.
#
# Usage: .ci/slurm-recipe.sh   (as root; VIT_ATTEND_BIN=DIR to use a vit-attend built
# elsewhere, else it builds the release binary, as the README's commands use)
# SLURM_RECIPE_TIMEOUT (seconds, default 600) bounds each wait.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
timeout_s=${SLURM_RECIPE_TIMEOUT:-600}
started=$SECONDS

need=()
for pkg in munge slurmctld slurmd slurm-client python3-yaml; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${need[@]}"
fi

if [[ -z "${VIT_ATTEND_BIN:-}" ]]; then
  swift build -c release --product vit-attend
  VIT_ATTEND_BIN=$(swift build -c release --show-bin-path)
fi
export PATH="$VIT_ATTEND_BIN:$PATH"
command -v vit-attend >/dev/null

work=$(mktemp -d /tmp/slurm-recipe.XXXXXX)
chmod 755 "$work" # munged refuses a socket in a folder others cannot enter
export SLURM_CONF=$work/etc/slurm.conf
host=$(hostname -s 2>/dev/null || uname -n)

stop_daemons() {
  local status=$? pids=()
  # Jobs still queued or running (after a timeout) go first, so no task outlives the cluster.
  if [[ -s "$work/slurmctld.pid" ]] && timeout 10 scancel -u "$(id -un)" 2>/dev/null; then
    for _ in $(seq 30); do
      [[ -z "$(timeout 5 squeue -h 2>/dev/null)" ]] && break
      sleep 0.5
    done
  fi
  for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/munged.pid"; do
    if [[ -s "$pidfile" ]]; then
      pids+=("$(cat "$pidfile")")
      kill "${pids[-1]}" 2>/dev/null || true
    fi
  done
  for _ in $(seq 20); do # let them write their state before the folder goes
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if ((status != 0)); then
    echo "slurm-recipe: FAILED; logs follow" >&2
    for log in "$work"/*.log "$work"/munge/munged.log "$work"/jobs/*.out; do
      [[ -f "$log" ]] && { echo "--- $log" >&2; tail -n 40 "$log" >&2; }
    done
  fi
  rm -rf "$work"
}
trap stop_daemons EXIT

# Waits until COMMAND prints nothing (or, with a pattern, prints a line matching it).
wait_for() {
  local what=$1 pattern=$2
  shift 2
  local deadline=$((SECONDS + timeout_s))
  until out=$("$@" 2>/dev/null) && if [[ -z "$pattern" ]]; then [[ -z "$out" ]]; else grep -qx "$pattern" <<<"$out"; fi; do
    if ((SECONDS > deadline)); then
      echo "slurm-recipe: timed out after ${timeout_s}s waiting for $what (last: ${out:-nothing})" >&2
      return 1
    fi
    sleep 1
  done
}

# The data: class folders of valid images (PngSuite's basic images, the README's examples)
# plus a text file named .png and a PNG cut short, which must be recorded as failures.
mkdir -p "$work/munge" "$work/etc" "$work/state" "$work/spool" "$work/jobs"
images=$work/shared/imagenet/val
mkdir -p "$images/n01/sub" "$images/n02" "$work/shared/models"
cp "$repo"/Tests/VAImageIOTests/Fixtures/pngsuite/basn*.png "$images/n01/"
cp "$repo"/Tests/VAImageIOTests/Fixtures/pngsuite/basi*.png "$images/n01/sub/"
cp "$repo"/images/*.png "$repo"/images/*.jpg "$images/n02/"
echo "not an image" >"$images/n02/broken.png"
head -c 3000 "$repo/images/cat.png" >"$images/n01/truncated.png"
# A small checkpoint in the model's place: the recipe, not the model, is under test.
cp -r "$repo/Tests/VAModelsTests/Fixtures/timm_basic" "$work/shared/models/dino-vits16"

# The one-node cluster: 2 CPUs, memory as this machine has less a margin, no accounting,
# no cgroups (proctrack/linuxproc, task/none) since nothing here runs systemd; addresses are
# 127.0.0.1 so the host name need not resolve.
memory_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))
cat >"$SLURM_CONF" <<EOF
ClusterName=ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=$memory_mib State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

cluster_start=$SECONDS
mungekey --create --keyfile="$work/munge/munge.key"
chmod 755 "$work/munge"
munged --socket="$work/munge/munge.socket" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed"
slurmctld -i # -i: ignore any state a previous run left (there is none: a fresh folder)
slurmd
wait_for "the node to be idle" idle sinfo -h -n "$host" -o %t
echo "slurm-recipe: cluster up in $((SECONDS - cluster_start))s ($((cluster_start - started))s installing and building before)"

# The README's job array, as written but for its paths. The node has 2 CPUs where the
# script asks 8 per task: sbatch's own options take precedence over #SBATCH lines.
merge_line=$(python3 .ci/readme_recipes.py slurm README.md "$work" "$work/jobs/vit-attend.sbatch")
cd "$work/jobs"
array=$(sbatch --parsable --cpus-per-task=1 vit-attend.sbatch)
merge_out=$(eval "${merge_line//<job id>/$array}")
echo "$merge_out"
merge=$(sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p' <<<"$merge_out")
[[ -n "$merge" ]]
wait_for "job array $array and merge $merge" "" squeue -h -j "$array,$merge"
cd "$repo"

shards=$(sed -n 's/^#SBATCH --array=1-\([0-9]*\)$/\1/p' "$work/jobs/vit-attend.sbatch")
# Every task ended with 0 or 2 (2: its shard held a failed image), at least one with 2, the
# merge with 0.
tasks=$(scontrol -o show job "$array" | grep -o 'JobState=[A-Z_]* .* ExitCode=[0-9]*:[0-9]*' \
  | sed -E 's/ .* / /' | sort | uniq -c)
echo "slurm-recipe: array $array tasks ended:" $tasks
count=$(scontrol -o show job "$array" | grep -c 'ArrayTaskId=')
[[ "$count" == "$shards" ]] || { echo "slurm-recipe: $count array tasks, not $shards" >&2; exit 1; }
if grep -v -E 'ExitCode=(0|2):0$' <<<"$tasks" | grep -q .; then
  echo "slurm-recipe: a task ended otherwise than with 0 or 2" >&2
  exit 1
fi
grep -q 'ExitCode=2:0' <<<"$tasks" || { echo "slurm-recipe: no task saw the broken images" >&2; exit 1; }
scontrol -o show job "$merge" | grep -q 'JobState=COMPLETED .*ExitCode=0:0' \
  || { echo "slurm-recipe: the merge job failed: $(scontrol -o show job "$merge")" >&2; exit 1; }

# One unsharded run over the same folder, the reference.
status=0
vit-attend "$images" --out-dir "$work/whole" -w "$work/shared/models/dino-vits16" -m distance --keep-going \
  2>"$work/whole.log" || status=$?
[[ $status == 2 ]] || { echo "slurm-recipe: the unsharded run exited $status, not 2" >&2; exit 1; }
python3 .ci/compare_runs.py "$work/whole" "$work/shared/attention"

# The Kubernetes Job's pod command, once per completion index (as the Job's pods would),
# then the merge the README gives; the manifest's checks are in readme_recipes.py.
k8s_lines=$(python3 .ci/readme_recipes.py k8s README.md "$work") # fails on a manifest that no longer fits
mapfile -t k8s <<<"$k8s_lines"
mkdir -p "$work/data/models"
cp -r "$images" "$work/data/images"
cp -r "$work/shared/models/dino-vits16" "$work/data/models/"
for index in $(seq 0 $((shards - 1))); do
  JOB_COMPLETION_INDEX=$index sh -c "${k8s[0]}" 2>>"$work/pods.log" \
    || { echo "slurm-recipe: pod $index failed" >&2; tail "$work/pods.log" >&2; exit 1; }
done
sh -c "${k8s[1]}"
python3 .ci/compare_runs.py "$work/whole" "$work/data/attention" "$images" "$work/data/images"
echo "slurm-recipe: passed in $((SECONDS - started))s"
