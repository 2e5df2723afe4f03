#!/usr/bin/env bash
# Installs the Debian packages L2C builds and runs with. Idempotent: installs only what is missing.
# Usage (as root): deploy/install-deps.sh
set -euo pipefail
packages=(
  openmpi-bin libopenmpi-dev      # MPI runtime (mpirun) and headers
  libopenblas-dev                 # CBLAS GEMM
  libdnnl-dev                     # oneDNN
  libturbojpeg0-dev libpng-dev zlib1g-dev  # image decoders, gzip
  libssl-dev                      # SHA-256 of checkpoints (libcrypto)
  pkg-config python3-pip gzip     # build helpers and the data fetcher
  dataset-fashion-mnist           # Fashion-MNIST, 70,000 images as IDX (large-batch study)
  fonts-noto-core python3-pil     # the rendered glyph benchmark and printed-digit domain
  python3-venv                    # the Python environment below
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all packages present" >&2
fi
# Python with numpy and safetensors, for interoperability with PyTorch files (`--init`, and the test that writes
# such a file the way a PyTorch user does). From PyPI, into its own environment.
python_env=/opt/l2c/python
if ! "$python_env/bin/python3" -c "import numpy, safetensors.numpy" 2>/dev/null; then
  echo "install-deps: Python environment $python_env (numpy, safetensors)" >&2
  /usr/bin/python3 -m venv "$python_env"
  "$python_env/bin/pip" install --quiet --disable-pip-version-check numpy safetensors
fi
