#!/usr/bin/env bash
# Builds l2c (release) and prints its path. Usage: deploy/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product l2c >&2
echo "$PWD/.build/release/l2c"
