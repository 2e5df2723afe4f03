#!/usr/bin/env bash
# The gradient all-reduce with and without overlap, where it matters: 2 fake hosts (../shared/cluster network
# namespaces on this machine), 1 rank each, 1 thread per rank, links shaped to RATE (default 1gbit), ResNet-18
# at SIZE (default 112) with global batch 64; beside them 1 rank alone with its 32 images, for the efficiency.
# The same with bf16 gradients on the wire. Then, unshaped on one host, ResNet-18 at 224: 1 rank × 1 thread against 2 ranks × 1 thread.
# Prints one JSON line per run (l2c bench), alternating the variants REPEATS times (default 3).
# Needs root and a release build. Usage: benchmarks/overlap.sh [RATE] [SIZE] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1gbit}; size=${2:-112}; repeats=${3:-3}
kit=${L2C_CLUSTER_KIT:-$PWD/../shared/cluster}
export CLUSTER_DIR=${CLUSTER_DIR:-/tmp/l2c-cluster} OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
l2c=$PWD/.build/release/l2c
"$kit/netns-down.sh" >/dev/null 2>&1 || true
"$kit/netns-up.sh" 2 >/dev/null
trap '"$kit/netns-down.sh" >/dev/null 2>&1' EXIT
for n in node1 node2; do ip netns exec "$n" tc qdisc add dev eth0 root tbf rate "$rate" burst 128kb latency 50ms; done
hosts() { # ranks, l2c arguments: over the fake hosts, one rank per host
  "$kit/netns-rsh" node1 "cd $PWD && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --hostfile $CLUSTER_DIR/netns/hostfile \
    -np $1 --map-by node --bind-to none --mca plm_rsh_agent $kit/netns-rsh --mca btl tcp,self \
    --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 $l2c ${*:2}" 2>/dev/null | tail -n 1
}
bench=(bench --model resnet18 --image-size "$size" --steps 8 --warmup 2 --threads 1)
for _ in $(seq "$repeats"); do
  echo "{\"variant\":\"1 rank, $rate hosts\",\"result\":$(hosts 1 "${bench[@]}" --batch-size 32)}"
  echo "{\"variant\":\"2 hosts, overlap off\",\"result\":$(hosts 2 "${bench[@]}" --batch-size 64 --overlap off)}"
  echo "{\"variant\":\"2 hosts, overlap on\",\"result\":$(hosts 2 "${bench[@]}" --batch-size 64 --overlap on)}"
  echo "{\"variant\":\"2 hosts, overlap off, bf16\",\"result\":$(hosts 2 "${bench[@]}" --batch-size 64 --overlap off --allreduce-precision bf16)}"
  echo "{\"variant\":\"2 hosts, overlap on, bf16\",\"result\":$(hosts 2 "${bench[@]}" --batch-size 64 --overlap on --allreduce-precision bf16)}"
done
local224=(bench --model resnet18 --image-size 224 --steps 5 --warmup 2 --threads 1)
for _ in $(seq "$repeats"); do
  echo "{\"variant\":\"1 rank, one host, 224\",\"result\":$(mpirun -np 1 --bind-to none "$l2c" "${local224[@]}" --batch-size 32 2>/dev/null | tail -n 1)}"
  echo "{\"variant\":\"2 ranks, one host, 224\",\"result\":$(mpirun -np 2 --bind-to none "$l2c" "${local224[@]}" --batch-size 64 2>/dev/null | tail -n 1)}"
done
