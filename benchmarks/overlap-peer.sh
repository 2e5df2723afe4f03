#!/usr/bin/env bash
# PyTorch DDP (gloo) beside l2c on the same 2 fake hosts and links as benchmarks/overlap.sh: ResNet-18 at SIZE,
# global batch 64, 1 thread per rank, alternating REPEATS times. Prints one JSON line per run.
# Needs root, a release build and torch in PYTHON's environment. Usage: benchmarks/overlap-peer.sh [RATE] [SIZE] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1gbit}; size=${2:-112}; repeats=${3:-2}
python=${PYTHON:-/tmp/torchenv/venv/bin/python}
kit=${L2C_CLUSTER_KIT:-$PWD/../shared/cluster}
export CLUSTER_DIR=${CLUSTER_DIR:-/tmp/l2c-cluster}
"$kit/netns-down.sh" >/dev/null 2>&1 || true
"$kit/netns-up.sh" 2 >/dev/null
trap '"$kit/netns-down.sh" >/dev/null 2>&1' EXIT
for n in node1 node2; do ip netns exec "$n" tc qdisc add dev eth0 root tbf rate "$rate" burst 128kb latency 50ms; done
hosts() { # ranks, program and arguments
  "$kit/netns-rsh" node1 "cd $PWD && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --hostfile $CLUSTER_DIR/netns/hostfile \
    -np $1 --map-by node --bind-to none --mca plm_rsh_agent $kit/netns-rsh --mca btl tcp,self \
    --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 ${*:2}" 2>/dev/null | tail -n 1
}
for _ in $(seq "$repeats"); do
  hosts 1 "$python benchmarks/pytorch_ddp.py --master-addr 10.77.0.1 --model resnet18 --image-size $size --batch-size 32 --threads 1 --steps 8"
  hosts 2 "$python benchmarks/pytorch_ddp.py --master-addr 10.77.0.1 --model resnet18 --image-size $size --batch-size 64 --threads 1 --steps 8"
  hosts 1 ".build/release/l2c bench --model resnet18 --image-size $size --batch-size 32 --steps 8 --warmup 2 --threads 1"
  hosts 2 ".build/release/l2c bench --model resnet18 --image-size $size --batch-size 64 --steps 8 --warmup 2 --threads 1 --overlap on"
  hosts 2 ".build/release/l2c bench --model resnet18 --image-size $size --batch-size 64 --steps 8 --warmup 2 --threads 1 --overlap on --allreduce-precision bf16"
  hosts 2 ".build/release/l2c bench --model resnet18 --image-size $size --batch-size 64 --steps 8 --warmup 2 --threads 1 --local-batchnorm"
done
