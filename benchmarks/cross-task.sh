#!/usr/bin/env bash
# Cross-task transfer with LeNet on 2 ranks, every option at its default: the SPN learns classes 0–4 (checked on
# their test split), the clustering network clusters 5–9, scored on their test images against K-means.
# Prints data, K, loss, seed, ACC, NMI, estimated count, K-means ACC on pixels and on SPN features, SPN F1 on
# target pairs, the SPN's held-out F1 and threshold, the share of SPN-dissimilar pairs put together, seconds.
# Usage: benchmarks/cross-task.sh DATA_FOLDER K [kcl|mcl] [seeds…]    e.g. benchmarks/cross-task.sh data/mnist5k 5 kcl 1 2 3
# Environment: AUX and TARGET swap the protocol (AUX=5,6,7,8,9 TARGET=0,1,2,3,4 is the reverse one), MODEL picks the
# backbone (lenet; resnet18 uses the small stem at 28×28), EXTRA adds options (e.g. "--augment affine --spn-epochs 2"),
# L2C the binary (default .build/release/l2c), JSONL a file that collects each run's whole summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: benchmarks/cross-task.sh DATA_FOLDER K [kcl|mcl] [seeds…]}
k=${2:?K}
loss=${3:-kcl}
shift 3 || shift $#
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "data,k,loss,seed,acc,nmi,clusters_estimated,kmeans_acc,kmeans_spn_features_acc,spn_f1_similar,spn_target_best_f1,spn_target_best_threshold,spn_heldout_f1,dissimilar_pairs_together,seconds"
# The first column names the run: data, then backbone, protocol and extra options when not the defaults.
label="$(basename "$data")${MODEL:+ $MODEL}${AUX:+ aux $AUX}${EXTRA:+ $EXTRA}"
label=${label//,/+}
for seed in "${seeds[@]}"; do
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  summary=$(mpirun -np 2 --bind-to none "${L2C:-.build/release/l2c}" transfer --data "$data" --model "${MODEL:-lenet}" \
    --aux-classes "${AUX:-0,1,2,3,4}" --target-classes "${TARGET:-5,6,7,8,9}" --loss "$loss" --clusters "$k" --seed "$seed" \
    --threads 1 ${EXTRA:-} 2>/dev/null | tail -n 1)
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  [ -z "${JSONL:-}" ] || echo "$summary" >> "$JSONL"
  echo "$summary" | python3 -c "
import json, sys; d = json.load(sys.stdin)
keys = ['acc', 'nmi', 'clusters_estimated', 'kmeans_acc', 'kmeans_spn_features_acc', 'spn_f1_similar', 'spn_target_best_f1', 'spn_target_best_threshold', 'spn_heldout_f1', 'dissimilar_pairs_together']
print('$label', $k, '$loss', $seed, *[d.get(key) for key in keys], round($seconds, 1), sep=',')"
done
