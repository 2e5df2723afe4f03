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
swift test -c release --skip-build
