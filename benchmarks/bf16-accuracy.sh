#!/usr/bin/env bash
# Does bf16 reach fp32's accuracy? ResNet-18 clustering of the photo folder (10 classes × 100 JPEGs at 64×64),
# pairwise-supervised with KCL, 2 ranks, the README's recipe, seeds 1-3, fp32 and bf16 (native bf16 CPUs only).
# Given a folder of IDX files (data/fashion-mnist), the same on its 60,000 training images at 28×28 with the small
# stem, batch 100, STEPS steps (default 600: one epoch), scored on its 10,000 test images.
# Usage: [EPOCHS=2] benchmarks/bf16-accuracy.sh [PHOTOS_TRAIN_FOLDER] [seeds…]   (deploy/make-photos.sh data/photos makes it)
#        [STEPS=600] benchmarks/bf16-accuracy.sh data/fashion-mnist [seeds…]     (L2C: the binary, default .build/release/l2c)
# PRECISIONS="bf16" runs one of the two (default "fp32 bf16").
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
  for precision in ${PRECISIONS:-fp32 bf16}; do
    start=$(date +%s.%N)
    if compgen -G "$data/train-images-idx3-ubyte*" > /dev/null; then
      recipe=(--batch-size 100 --steps "${STEPS:-600}")
    else
      recipe=(--image-size 64 --batch-size 32 --epochs "${EPOCHS:-2}" --workers 1 --test-data "$data")
    fi
    summary=$(mpirun -np 2 --bind-to none "${L2C:-.build/release/l2c}" train --data "$data" --model resnet18 --loss kcl --clusters 10 \
      --optimizer sgd --lr 0.05 --threads 1 --seed "$seed" --precision "$precision" "${recipe[@]}" 2>/dev/null | tail -n 1)
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    echo "$summary" | python3 -c "import json, sys; d = json.load(sys.stdin); print('$precision', $seed, d['acc'], d['nmi'], round($seconds, 1), sep=',')"
  done
done
