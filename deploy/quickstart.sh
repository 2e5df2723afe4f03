#!/usr/bin/env bash
# From a fresh Debian machine (as root): install everything, fetch real MNIST digits, build, and train a
# LeNet clustering network with KCL on 2 MPI ranks. The last line is the run's JSON summary.
# Usage: deploy/quickstart.sh [OUTDIR]          (default runs/quickstart)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/quickstart}
deploy/install-deps.sh
deploy/fetch-data.sh data
l2c=$(deploy/build.sh)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun -np 2 --oversubscribe --bind-to none "$l2c" train --data data/mnist5k --model lenet --loss kcl --clusters 10 \
  --batch-size 100 --epochs 10 --lr 0.001 --seed 1 --threads 1 --out "$out"
