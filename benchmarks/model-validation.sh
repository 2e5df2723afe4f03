#!/usr/bin/env bash
# Validates the communication model on fake hosts (../shared/cluster network namespaces on this machine):
# links shaped by tc to RATE, `l2c scaling` over 1–4 hosts (one rank each, 1 thread), which measures the network
# with `l2c bench-comm` and predicts each run from the 1-rank run; all ranks share this machine's cores
# (--shared-cores). Writes OUT/scaling.csv (step_seconds beside predicted_step_seconds) and OUT/scaling.html.
# Needs root and a release build. Usage: benchmarks/model-validation.sh RATE OUT [SIZE]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=$1; out=$2; size=${3:-112}
kit=${L2C_CLUSTER_KIT:-$PWD/../shared/cluster}
export CLUSTER_DIR=${CLUSTER_DIR:-/tmp/l2c-cluster}
"$kit/netns-down.sh" >/dev/null 2>&1 || true
"$kit/netns-up.sh" 4 >/dev/null
trap '"$kit/netns-down.sh" >/dev/null 2>&1' EXIT
for n in node1 node2 node3 node4; do ip netns exec "$n" tc qdisc add dev eth0 root tbf rate "$rate" burst 256kb latency 50ms; done
"$kit/netns-rsh" node1 "cd $PWD && .build/release/l2c scaling --ranks 1,2,3,4 --hostfile $CLUSTER_DIR/netns/hostfile \
  --model resnet18 --image-size $size --batch-size 32 --steps 5 --warmup 2 --threads 1 --shared-cores $(nproc) --out $out \
  --mpirun-args='--mca plm_rsh_agent $kit/netns-rsh --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24'"
