#!/usr/bin/env bash
# Large global batches at the same number of epochs: KCL (LeNet, 10 clusters) on MNIST-5k and Fashion-MNIST at
# global batch 100 (SGD, lr 0.1), and 800 and 3,200 with the linear scaling rule (lr × B/100) plus a linear
# warm-up over the first 20% of the steps, and with LARS (lr 10 × B/800, the same warm-up); cosine decay
# throughout, 2 ranks. Prints one line per run: dataset, batch, method, steps, test ACC, NMI, ARI.
# Usage: benchmarks/large-batch.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-10}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() { # dataset path, samples, batch, method, lr
  local steps=$(( $2 / $3 * epochs )); local warmup=$(( steps / 5 )); [ "$4" = sgd-base ] && warmup=0
  local optimizer=sgd; [ "$4" = lars ] && optimizer=lars
  mpirun -np 2 --bind-to none .build/release/l2c train --data "$1" --model lenet --loss kcl --clusters 10 --batch-size "$3" \
    --steps "$steps" --optimizer $optimizer --lr "$5" --warmup-steps "$warmup" --lr-schedule cosine --threads 1 --seed 1 \
    --log-every 1000 --out "$out/run" 2>/dev/null | tail -n 1 | python3 -c "
import json, sys; d = json.load(sys.stdin)
print('$(basename "$1")', $3, '$4', d['steps'], d['acc'], round(d['nmi'], 3), round(d['ari'], 3), sep=',')"
}
echo "dataset,global_batch,method,steps,acc,nmi,ari"
for data in "data/mnist5k 5000" "/usr/share/datasets/fashion-mnist 60000"; do
  set -- $data
  run "$1" "$2" 100 sgd-base 0.1
  for b in 800 3200; do
    run "$1" "$2" "$b" linear-warmup "$(python3 -c "print(0.1 * $b / 100)")"
    run "$1" "$2" "$b" lars "$(python3 -c "print(10 * $b / 800)")"
  done
done
