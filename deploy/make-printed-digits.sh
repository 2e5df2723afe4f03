#!/usr/bin/env bash
# Renders the printed-digit domain (house-number-like crops of the digits 0–9 from at least 40 font faces of
# Debian's fonts-noto-core: random face, stroke, affine distortion, position, neighbouring digits, contrast and
# polarity, background and noise; deterministic from the seed) as 28×28 MNIST IDX files in DIR/printed-digits/.
# Usage: deploy/make-printed-digits.sh DIR [--seed N] [--train 400] [--test 100]   (per digit)
set -euo pipefail
dir=${1:?usage: deploy/make-printed-digits.sh DIR [--seed N] [--train 400] [--test 100]}
shift
"$(dirname "$0")/install-deps.sh"    # fonts-noto-core and python3-pil among them
if [ -f "$dir/printed-digits/t10k-labels-idx1-ubyte" ]; then echo "make-printed-digits: $dir/printed-digits already exists" >&2; exit 0; fi
# Debian's own Python, which has Debian's Pillow.
/usr/bin/python3 "$(dirname "$0")/make_printed_digits.py" "$dir" "$@"
