#!/usr/bin/env bash
# Makes an ImageNet-layout folder of real JPEG photographs (DIR/train/<class>/*.JPEG) from the two photos
# scikit-learn ships (china.jpg, flower.jpg, 640×427): each class is one region of one photo, each image a
# seeded random crop of that region resized to an ImageNet-like size (shorter side 300–500), JPEG quality 90.
# Usage: deploy/make-photos.sh DIR [--classes 10] [--images 100] [--seed 1]     (idempotent)
set -euo pipefail
dir=${1:?usage: deploy/make-photos.sh DIR [--classes 10] [--images 100] [--seed 1]}
shift
if [ -d "$dir/train" ]; then echo "make-photos: $dir already holds photos" >&2; exit 0; fi
dpkg-query -W -f='${Status}' python3-pil 2>/dev/null | grep -q "install ok installed" || {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-pil >/dev/null
}
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$wheels" scikit-learn >&2
/usr/bin/python3 - "$wheels" "$dir" "$@" <<'PY'
import argparse, glob, io, os, random, sys, zipfile
from PIL import Image

wheels, out = sys.argv[1], sys.argv[2]
p = argparse.ArgumentParser()
p.add_argument("--classes", type=int, default=10)
p.add_argument("--images", type=int, default=100)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args(sys.argv[3:])
with zipfile.ZipFile(glob.glob(os.path.join(wheels, "scikit_learn-*.whl"))[0]) as z:
    photos = {n: Image.open(io.BytesIO(z.read(f"sklearn/datasets/images/{n}.jpg"))).convert("RGB") for n in ("china", "flower")}
rng = random.Random(a.seed)
names = sorted(photos)
for c in range(a.classes):
    photo = photos[names[c % 2]]
    W, H = photo.size
    # Class c: a window centred on one of a row of regions across the photo.
    regions = (a.classes + 1) // 2
    cx = (c // 2 + 0.5) * W / regions
    folder = os.path.join(out, "train", f"n{c:08d}")
    os.makedirs(folder, exist_ok=True)
    for i in range(a.images):
        w = rng.randint(W // 4, W // 2); h = rng.randint(H // 3, H * 2 // 3)
        x = min(max(int(cx - w / 2 + rng.uniform(-W / 16, W / 16)), 0), W - w)
        y = rng.randint(0, H - h)
        crop = photo.crop((x, y, x + w, y + h))
        short = rng.randint(300, 500)
        scale = short / min(w, h)
        crop = crop.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR)
        crop.save(os.path.join(folder, f"n{c:08d}_{i}.JPEG"), quality=90)
print(f"make-photos: {out}/train: {a.classes} classes × {a.images} JPEGs", file=sys.stderr)
PY
