#!/usr/bin/env bash
# The digit protocols of `l2c adapt` with LeNet on 2 ranks: source-only, DANN, CCN+ and CCN++, seeds 1–3, with
# shared and with per-domain BatchNorm, every other option at its default:
#   MNIST-5k → mfeat and mfeat → MNIST-5k (CCN+/CCN++ train their SPN on the source's labels first);
#   printed digits → MNIST-5k (the SPN learnt once on the glyph benchmark's auxiliary alphabets, as the paper's
#   SVHN → MNIST uses Omniglot).
# Prints protocol, batchnorm, method, seed, target and source accuracy, SPN F1 on target pairs, seconds.
# Usage: benchmarks/adapt-digits.sh [DATA] [protocol…]   (DATA from deploy/fetch-data.sh, make-glyphs.sh and
#        make-printed-digits.sh; protocols: mnist5k-mfeat mfeat-mnist5k printed-mnist5k, default all;
#        BATCHNORM="per-domain" in the environment runs one mode only)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-data}
shift || true
protocols=("$@")
[ ${#protocols[@]} -gt 0 ] || protocols=(mnist5k-mfeat mfeat-mnist5k printed-mnist5k)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mpi=(mpirun -np 2 --bind-to none .build/release/l2c)
echo "protocol,batchnorm,method,seed,target_acc,source_acc,spn_f1_similar,seconds"
for protocol in "${protocols[@]}"; do
  spn=()
  case $protocol in
    mnist5k-mfeat) source=$data/mnist5k target=$data/mfeat ;;
    mfeat-mnist5k) source=$data/mfeat target=$data/mnist5k ;;
    printed-mnist5k)
      source=$data/printed-digits target=$data/mnist5k
      start=$(date +%s.%N)
      "${mpi[@]}" train-spn --data "$data/glyphs" --alphabets @"$data/glyphs/aux-alphabets.txt" --threads 1 --out "$out/glyph-spn" >/dev/null 2>&1
      echo "# glyph SPN (train-spn --alphabets, 10 epochs): $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s" >&2
      spn=(--spn "$out/glyph-spn/spn.safetensors") ;;
    *) echo "unknown protocol $protocol" >&2; exit 2 ;;
  esac
  for batchnorm in ${BATCHNORM:-shared per-domain}; do
    for seed in 1 2 3; do
      for method in source-only dann ccn+ ccn++; do
        start=$(date +%s.%N)
        summary=$("${mpi[@]}" adapt --source "$source" --target "$target" --model lenet --method "$method" --seed "$seed" \
          --batchnorm "$batchnorm" "${spn[@]}" --threads 1 --out "$out/run" 2>/dev/null | tail -n 1)
        rm -rf "$out/run"
        seconds=$(echo "$(date +%s.%N) - $start" | bc)
        echo "$summary" | python3 -c "
import json, sys; d = json.load(sys.stdin)
print('$protocol', '$batchnorm', '$method', $seed, d['target_acc'], d['source_acc'], d['spn_f1_similar'], round($seconds, 1), sep=',')"
      done
    done
  done
done
