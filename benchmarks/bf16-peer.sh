#!/usr/bin/env bash
# bf16 and fp32 training steps, l2c against PyTorch back to back on this machine (issue 13's rows): ResNet-18 and
# ResNet-50 at 224 (batch 32) and ResNet-18 at 32 with the small stem (batch 128), 2 threads, one process each.
# PyTorch runs with jemalloc preloaded and channels_last tensors (its strongest CPU setting) and bf16 through torch.autocast.
# Usage: benchmarks/bf16-peer.sh [STEPS] [ROUNDS]    (needs a venv with torch: TORCH_PYTHON, default /tmp/torchenv/venv/bin/python)
# Prints one JSON line per run, prefixed by what ran.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-10}
rounds=${2:-2}
python=${TORCH_PYTHON:-/tmp/torchenv/venv/bin/python}
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
grep -m1 'model name' /proc/cpuinfo
grep -o 'avx512_bf16\|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
for round in $(seq "$rounds"); do
  for row in "resnet18 224 32" "resnet50 224 32" "resnet18 32 128"; do
    set -- $row
    for precision in fp32 bf16; do
      echo -n "round $round l2c $precision $1 $2 $3: "
      .build/release/l2c bench --model "$1" --image-size "$2" --batch-size "$3" --threads 2 --steps "$steps" --precision "$precision" 2>/dev/null | tail -n 1
      echo -n "round $round pytorch $precision $1 $2 $3: "
      LD_PRELOAD=$jemalloc "$python" benchmarks/pytorch_bench.py --model "$1" --image-size "$2" --batch-size "$3" --threads 2 \
        --steps "$steps" --precision "$precision" | tail -n 1
    done
  done
done
