#!/usr/bin/env bash
# Renders the many-class character benchmark (Omniglot layout: DIR/<alphabet>/<character>/*.png) from the real
# fonts of Debian's fonts-noto-core, deterministic from a seed, with a seeded auxiliary/target split of the
# alphabets in DIR/aux-alphabets.txt and DIR/target-alphabets.txt.
# Usage: deploy/make-glyphs.sh DIR [--seed N] [--size 28] [--images 20] [--aux 24]
set -euo pipefail
dir=${1:?usage: deploy/make-glyphs.sh DIR [--seed N] [--size 28] [--images 20] [--aux 24]}
shift
"$(dirname "$0")/install-deps.sh"    # fonts-noto-core and python3-pil among them
if [ -f "$dir/manifest.tsv" ]; then echo "make-glyphs: $dir already holds a benchmark" >&2; exit 0; fi
# Debian's own Python, which has Debian's Pillow.
/usr/bin/python3 "$(dirname "$0")/make_glyphs.py" "$dir" "$@"
