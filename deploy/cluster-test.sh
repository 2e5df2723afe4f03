#!/usr/bin/env bash
# Runs l2c the way cluster users do, on fake hosts of this machine (network namespaces, TCP between them)
# and a real Slurm whose nodes are those hosts, using the harness in ../shared/cluster:
#   1. mpirun --hostfile hostfiles/two-nodes.example: 4 ranks on node1 and node2
#   2. sbatch -N 2 deploy/l2c.sbatch: 2 ranks launched by srun --mpi=pmix
# Each must print a JSON summary with the right rank count. Needs root, a release build and data/mnist5k.
# Usage: deploy/cluster-test.sh       (ends with "N passed, N failed")
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
kit=${L2C_CLUSTER_KIT:-$root/../shared/cluster}
export CLUSTER_DIR=${CLUSTER_DIR:-/tmp/l2c-cluster}
l2c=$root/.build/release/l2c
passed=0; failed=0
check() { # name, file, expected ranks
  if grep -q "\"ranks\":$3" "$2" && tail -n 1 "$2" | grep -q '"checkpoint"'; then passed=$((passed + 1)); echo "PASS: $1"
  else failed=$((failed + 1)); echo "FAIL: $1"; cat "$2"; fi
}
cleanup() { "$kit/slurm-down.sh" >/dev/null 2>&1; "$kit/netns-down.sh" >/dev/null 2>&1; }
trap cleanup EXIT
[ -x "$l2c" ] && [ -f data/mnist5k/train-images-idx3-ubyte ] || { echo "cluster-test: needs $l2c and data/mnist5k" >&2; exit 1; }
"$kit/deps.sh" >/dev/null || { echo "cluster-test: the cluster kit's deps.sh failed" >&2; exit 1; }
cleanup
"$kit/netns-up.sh" 2 >/dev/null
out=$CLUSTER_DIR/out; mkdir -p "$out"; chmod 1777 "$out"
job=(--data "$root/data/mnist5k" --model lenet --loss kcl --clusters 10 --steps 10 --seed 1 --no-eval)

# 1. mpirun with the project's hostfile, over TCP between the fake hosts.
timeout -k 10 180 "$kit/netns-rsh" node1 "cd $root && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
  mpirun --hostfile hostfiles/two-nodes.example -np 4 --oversubscribe --bind-to none \
  --mca plm_rsh_agent $kit/netns-rsh --mca btl tcp,self \
  --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
  $l2c train ${job[*]} --batch-size 64 --threads 1 --out $out/hostfile" > "$out/hostfile.log" 2>&1
check "mpirun --hostfile hostfiles/two-nodes.example (4 ranks on node1, node2)" "$out/hostfile.log" 4

# 2. Slurm on the fake hosts: sbatch the project's batch script on 2 nodes.
if "$kit/slurm-up.sh" --netns >/dev/null 2>&1; then
  timeout -k 10 300 "$kit/netns-rsh" node1 "cd $root && sbatch --wait -N 2 --ntasks-per-node=1 -o $out/slurm.log -e $out/slurm.err \
    deploy/l2c.sbatch ${job[*]} --batch-size 64 --out $out/slurm" >/dev/null 2>&1
  check "sbatch -N 2 deploy/l2c.sbatch (srun --mpi=pmix)" "$out/slurm.log" 2
  grep -h "l2c: error" "$out/slurm.err" 2>/dev/null
else
  failed=$((failed + 1)); echo "FAIL: slurm-up.sh --netns"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
