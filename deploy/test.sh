#!/usr/bin/env bash
# Runs the whole test suite the way CI does: dependencies, the real test data, a release build, swift test
# (including the MPI tests, which launch real ranks with mpirun).
# Usage: deploy/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/fetch-data.sh data
export NO_COLOR=1
swift build -c release --build-tests
# Multi-host mpirun with the project's hostfile and a 2-node Slurm job, on fake hosts of this machine
# (needs the cluster kit beside the project, as in CI).
if [ -d ../shared/cluster ]; then deploy/cluster-test.sh; else echo "test: ../shared/cluster not found: multi-host tests skipped" >&2; fi
# A fresh, empty temporary folder: a test that reads another test's leftovers fails here, as on a new machine.
TMPDIR=$(mktemp -d) swift test -c release --skip-build
