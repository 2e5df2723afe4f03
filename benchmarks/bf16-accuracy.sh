#!/usr/bin/env bash
# Does bf16 reach fp32's accuracy? ResNet-18 clustering of the photo folder (10 classes × 100 JPEGs at 64×64),
# pairwise-supervised with KCL, 2 ranks, the README's recipe, seeds 1-3, fp32 and bf16 (native bf16 CPUs only).
# Usage: [EPOCHS=2] benchmarks/bf16-accuracy.sh [PHOTOS_TRAIN_FOLDER] [seeds…]   (deploy/make-photos.sh data/photos makes it)
# Prints precision, seed, ACC, NMI, seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-data/photos/train}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "precision,seed,acc,nmi,seconds"
for seed in "${seeds[@]}"; do
  for precision in fp32 bf16; do
    start=$(date +%s.%N)
    summary=$(mpirun -np 2 --bind-to none .build/release/l2c train --data "$data" --image-size 64 --model resnet18 --loss kcl \
      --clusters 10 --batch-size 32 --epochs "${EPOCHS:-2}" --optimizer sgd --lr 0.05 --threads 1 --workers 1 --seed "$seed" \
      --test-data "$data" --precision "$precision" 2>/dev/null | tail -n 1)
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    echo "$summary" | python3 -c "import json, sys; d = json.load(sys.stdin); print('$precision', $seed, d['acc'], d['nmi'], round($seconds, 1), sep=',')"
  done
done
