#!/usr/bin/env bash
# MNIST-5k → mfeat with LeNet on 2 ranks: source-only, DANN, CCN+ and CCN++ through `l2c adapt`, seeds 1–3, all
# other options at their defaults (CCN+/CCN++ train their SPN on the source first). Prints method, seed, target
# and source accuracy, SPN F1 on target pairs, seconds. Usage: benchmarks/adapt-digits.sh [DATA]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-data}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "method,seed,target_acc,source_acc,spn_f1_similar,seconds"
for seed in 1 2 3; do
  for method in source-only dann ccn+ ccn++; do
    start=$(date +%s.%N)
    summary=$(mpirun -np 2 --bind-to none .build/release/l2c adapt --source "$data/mnist5k" --target "$data/mfeat" --model lenet \
      --method "$method" --seed "$seed" --threads 1 --out "$out/$method-$seed" 2>/dev/null | tail -n 1)
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    echo "$summary" | python3 -c "
import json, sys; d = json.load(sys.stdin)
print('$method', $seed, d['target_acc'], d['source_acc'], d['spn_f1_similar'], round($seconds, 1), sep=',')"
  done
done
