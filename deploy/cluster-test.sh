#!/usr/bin/env bash
# Runs l2c the way cluster users do, on fake hosts of this machine (network namespaces, TCP between them)
# and a real Slurm whose nodes are those hosts, using the harness in ../shared/cluster:
#   mpirun --hostfile hostfiles/two-nodes.example: 4 ranks on node1 and node2; a rank killed (-9), stopped
#     (SIGSTOP) or cut off (its host's link down) ends the job within seconds, saying where
#   sbatch -N 2 deploy/l2c.sbatch: a training run; the same run stopped by the time-limit signal (USR1),
#     requeued and resumed, and preempted (requeued from outside: SIGTERM, then SIGKILL), each ending with a
#     model identical to the uninterrupted run's, bit for bit; a rank killed under srun ends the job
#   l2c scaling --ranks 1,2 in a Slurm allocation, and --ranks 1,2,4 over 4 fake hosts: the study's CSV and HTML
# Needs root, a release build and data/mnist5k.
# Usage: deploy/cluster-test.sh       (ends with "N passed, N failed")
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
kit=${L2C_CLUSTER_KIT:-$root/../shared/cluster}
export CLUSTER_DIR=${CLUSTER_DIR:-/tmp/l2c-cluster}
l2c=$root/.build/release/l2c
passed=0; failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 30 "$2"; }
check() { # name, file, expected ranks: a JSON summary with that rank count
  if grep -q "\"ranks\":$3" "$2" && tail -n 1 "$2" | grep -q '"checkpoint"'; then pass "$1"; else fail "$1" "$2"; fi
}
cleanup() { "$kit/slurm-down.sh" >/dev/null 2>&1; "$kit/netns-down.sh" >/dev/null 2>&1; }
trap cleanup EXIT
[ -x "$l2c" ] && [ -f data/mnist5k/train-images-idx3-ubyte ] || { echo "cluster-test: needs $l2c and data/mnist5k" >&2; exit 1; }
"$kit/deps.sh" >/dev/null || { echo "cluster-test: the cluster kit's deps.sh failed" >&2; exit 1; }
cleanup
"$kit/netns-up.sh" 2 >/dev/null
out=$CLUSTER_DIR/out; rm -rf "$out"; mkdir -p "$out"; chmod 1777 "$out"
on_node1() { "$kit/netns-rsh" node1 "cd $root && $*"; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
under() { [ "$(echo "$1 < $2" | bc)" = 1 ]; }
wait_for_state() { # OUT: until OUT/checkpoints holds a state (60 s at most)
  for _ in $(seq 1 600); do ls "$1/checkpoints" 2>/dev/null | grep -q '^state-' && return 0; sleep 0.1; done; return 1
}
l2c_on_node2() { ip netns pids node2 | while read -r p; do [ "$(cat /proc/"$p"/comm 2>/dev/null)" = l2c ] && echo "$p"; done | head -n 1; }
# mpirun across the fake hosts. TCP keepalive on the launcher's links to its daemons (idle probes every 2 s,
# 4 misses × 3 s) lets mpirun notice a host that dropped off the network in ~15 s instead of Open MPI's
# default of 8 minutes; the project recommends the same for hostfile runs (README, "Long runs").
hostfile_mpirun="OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --hostfile hostfiles/two-nodes.example --bind-to none \
  --mca plm_rsh_agent $kit/netns-rsh --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
  --mca oob_tcp_keepalive_time 2 --mca oob_tcp_keepalive_intvl 3 --mca oob_tcp_keepalive_probes 4"
job=(--data "$root/data/mnist5k" --model lenet --loss kcl --clusters 10 --steps 10 --seed 1 --no-eval)
endless=(--data "$root/data/mnist5k" --model lenet --steps 1000000 --checkpoint-every 50 --no-eval --threads 1)

# 1. mpirun with the project's hostfile, over TCP between the fake hosts.
timeout -k 10 180 "$kit/netns-rsh" node1 "cd $root && $hostfile_mpirun -np 4 --oversubscribe \
  $l2c train ${job[*]} --batch-size 64 --threads 1 --out $out/hostfile" > "$out/hostfile.log" 2>&1
check "mpirun --hostfile hostfiles/two-nodes.example (4 ranks on node1, node2)" "$out/hostfile.log" 4

# 2. Failures under mpirun --hostfile, one rank per host: kill -9, SIGSTOP, the link down.
hostfile_failure() { # name, what to do to node2's rank ("kill" | "stop" | "link"), time limit in s, expected text
  local name=$1 what=$2 limit=$3 expect=$4 log=$out/fail-$2.log
  timeout -k 10 120 "$kit/netns-rsh" node1 "cd $root && $hostfile_mpirun -np 2 --map-by node \
    $l2c train ${endless[*]} --stall-timeout 10 --out $out/fail-$what" > "$log" 2>&1 &
  local launcher=$!
  if ! wait_for_state "$out/fail-$what"; then kill "$launcher"; fail "$name: no state written" "$log"; return; fi
  local rank; rank=$(l2c_on_node2)
  local start; start=$(now)
  case $what in
    kill) kill -9 "$rank" ;;
    stop) kill -STOP "$rank" ;;
    link) ip -n node2 link set eth0 down ;;
  esac
  wait "$launcher"; local status=$?; local took; took=$(since "$start")
  [ "$what" = link ] && ip -n node2 link set eth0 up
  if [ "$status" != 0 ] && [ "$status" != 124 ] && under "$took" "$limit" && grep -q "$expect" "$log" \
     && "$l2c" state "$out/fail-$what" >/dev/null; then
    pass "$name: the job ended in $(printf "%.1f" "$took") s (exit $status), the last state verifies"
  else
    fail "$name: exit $status after $took s (limit $limit s, expected '$expect' and a valid last state)" "$log"
  fi
}
hostfile_failure "kill -9 of the rank on node2" kill 5 "process rank 1 .* on node node2"
hostfile_failure "SIGSTOP of the rank on node2, --stall-timeout 10" stop 25 "no step completed for .* waiting in MPI_"
hostfile_failure "node2's link down, --stall-timeout 10" link 25 "no step completed for .* waiting in MPI_"
"$kit/netns-down.sh" >/dev/null 2>&1; "$kit/netns-up.sh" 2 >/dev/null   # hosts anew after the link test

# 3. Slurm on the fake hosts.
if ! "$kit/slurm-up.sh" --netns >/dev/null 2>&1; then
  fail "slurm-up.sh --netns"; echo "$passed passed, $failed failed"; exit 1
fi
submit() { on_node1 "sbatch --parsable -N 2 --ntasks-per-node=1 -o $out/$1.log -e $out/$1.err deploy/l2c.sbatch ${*:2}"; }
job_state() { on_node1 "squeue -h -j $1 -o %T" 2>/dev/null; }
wait_job() { # id, seconds: until the job has left the queue
  for _ in $(seq 1 $(($2 * 5))); do [ -z "$(job_state "$1")" ] && return 0; sleep 0.2; done; return 1
}
# A requeued job waits ~2 minutes before it may start again; let it start at once, once its old step is gone.
release_requeued() {
  for _ in $(seq 1 300); do case "$(job_state "$1")" in PENDING*) break ;; esac; sleep 0.2; done
  for _ in $(seq 1 100); do ls "$CLUSTER_DIR"/slurm/spool/node*/ 2>/dev/null | grep -q "pmix.$1\." || break; sleep 0.2; done
  # The requeue can set the job's start time after a first update lands: repeat until the job leaves PENDING.
  for _ in $(seq 1 60); do
    on_node1 "scontrol update JobId=$1 StartTime=now" >/dev/null 2>&1
    sleep 1
    case "$(job_state "$1")" in PENDING*) ;; *) break ;; esac
  done
}
long=(train --data "$root/data/mnist5k" --model lenet --loss kcl --clusters 10 --batch-size 64 --steps 500 --optimizer sgd --lr 0.01
      --seed 2 --checkpoint-every 10 --no-eval)

# 3a. The uninterrupted run (also the reference of 3b and 3c).
id=$(submit whole "${long[*]}" --out "$out/whole")
if wait_job "$id" 300 && [ -f "$out/whole/model.safetensors" ]; then check "sbatch -N 2 deploy/l2c.sbatch train (srun --mpi=pmix)" "$out/whole.log" 2
else fail "sbatch -N 2 deploy/l2c.sbatch train" "$out/whole.err"; fi

# 3b/3c. A job stopped mid-run, requeued and resumed, must end with the uninterrupted job's model.
requeue_case() { # name, out name, command that stops job $id, the stop line's signal
  local id; id=$(submit "$2" "${long[*]}" --out "$out/$2")
  wait_for_state "$out/$2"
  on_node1 "$(printf "$3" "$id")"
  release_requeued "$id"
  if wait_job "$id" 300 && grep -q "stopped at step .* by $4" "$out/$2.err" && grep -q "restart 1: resuming" "$out/$2.err" \
     && cmp -s "$out/whole/model.safetensors" "$out/$2/model.safetensors"; then
    pass "$1: the run stopped with a state, the job was requeued, resumed and ended bit for bit as the uninterrupted run"
  else fail "$1: stop, requeue, resume, identical model" "$out/$2.err"; fi
}
# The time limit: USR1 to the batch script, as --signal=B:USR1@SECONDS sends it; the script requeues.
requeue_case "Slurm time limit (USR1)" usr1 "scancel --signal=USR1 --batch %s" SIGUSR1
# Preemption: requeued from outside, SIGTERM to every task and SIGKILL after KillWait.
requeue_case "Slurm preemption (scontrol requeue: SIGTERM, then SIGKILL)" preempt "scontrol requeue %s" SIGTERM

# 3d. A rank killed under srun ends the job within 5 s.
id=$(submit srunkill train "${endless[*]}" --out "$out/srunkill")
if wait_for_state "$out/srunkill"; then
  start=$(now); kill -9 "$(l2c_on_node2)"
  for _ in $(seq 1 300); do on_node1 "squeue -h -j $id -t RUNNING -o %T" | grep -q RUNNING || break; sleep 0.1; done
  took=$(since "$start")
  if under "$took" 5 && grep -q "node2: task 1" "$out/srunkill.err" && "$l2c" state "$out/srunkill" >/dev/null; then
    pass "kill -9 of a rank under srun: the job ended in $(printf "%.1f" "$took") s, the last state verifies"
  else fail "kill -9 under srun: $took s" "$out/srunkill.err"; fi
else fail "kill -9 under srun: no state written" "$out/srunkill.err"; fi
on_node1 "scancel $id" >/dev/null 2>&1

# 3e. A scaling study inside a Slurm allocation: mpirun takes the allocation's hosts.
mkdir -p "$out/slurm-scaling"; chmod 1777 "$out/slurm-scaling"
on_node1 "sbatch --wait -N 2 --ntasks-per-node=1 -o $out/slurm-scaling/job.log --wrap 'OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
  OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include=10.77.0.0/24 OMPI_MCA_oob_tcp_if_include=10.77.0.0/24 $l2c scaling --ranks 1,2 \
  --model resnet18 --image-size 32 --batch-size 8 --steps 2 --warmup 1 --out $out/slurm-scaling/study'" >/dev/null 2>&1
hosts_column=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "hosts") c = i } NR > 1 { printf "%s ", $c }' "$out/slurm-scaling/study/scaling.csv" 2>/dev/null)
if [ "$hosts_column" = "1 2 " ] && [ -f "$out/slurm-scaling/study/scaling.html" ]; then
  pass "sbatch -N 2 --wrap 'l2c scaling --ranks 1,2': the study ran on the allocation's 2 hosts"
else fail "l2c scaling in a Slurm allocation (hosts column '$hosts_column')" "$out/slurm-scaling/job.log"; fi

# 4. A scaling study over 1, 2 and 4 fake hosts (one rank each), with the hosts' own hostfile.
"$kit/slurm-down.sh" >/dev/null 2>&1; "$kit/netns-down.sh" >/dev/null 2>&1; "$kit/netns-up.sh" 4 >/dev/null
timeout -k 10 300 "$kit/netns-rsh" node1 "cd $root && $l2c scaling --ranks 1,2,4 --hostfile $CLUSTER_DIR/netns/hostfile \
  --model resnet18 --image-size 32 --batch-size 8 --steps 2 --warmup 1 --out $out/scaling \
  --mpirun-args='--mca plm_rsh_agent $kit/netns-rsh --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24'" \
  > "$out/scaling.log" 2>&1
hosts_column=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "hosts") c = i } NR > 1 { printf "%s ", $c }' "$out/scaling/scaling.csv" 2>/dev/null)
points=$(grep -o 'class="run"' "$out/scaling/scaling.html" 2>/dev/null | wc -l)
if [ "$hosts_column" = "1 2 4 " ] && [ "$points" = 3 ] && grep -q 'class="predicted"' "$out/scaling/scaling.html"; then
  pass "l2c scaling --ranks 1,2,4 on 1, 2 and 4 fake hosts: scaling.csv and scaling.html with one point per run"
else fail "l2c scaling on fake hosts (hosts column '$hosts_column', $points points)" "$out/scaling.log"; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
