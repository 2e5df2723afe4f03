"""Renders a printed-digit domain (the analogue of SVHN for cross-domain transfer) from Debian's fonts-noto-core.

The digits 0-9 from every font face whose digits have their own design (at least 40 faces), each image with a
random face, stroke, affine distortion, position, neighbouring digits cut by the frame, contrast and polarity,
background gradient, blur and pixel noise. Deterministic from the seed. Written as 28x28 MNIST IDX files:
DIR/printed-digits/{train,t10k}-{images-idx3,labels-idx1}-ubyte (TRAIN + TEST images per class), and
DIR/printed-digits/faces.txt (the faces drawn from).

usage: python3 make_printed_digits.py DIR [--seed N] [--train 400] [--test 100] [--size 28]
"""
import argparse
import glob
import hashlib
import math
import os
import random
import struct
import sys

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONTS = "/usr/share/fonts/truetype/noto"
RENDER = 96  # drawn large, distorted, then reduced
DIGITS = "0123456789"
MIN_FACES = 40


def draw_text(font, text, stroke, size=RENDER):
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=stroke)
    draw.text(((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top), text, fill=255, font=font,
              stroke_width=stroke, stroke_fill=255)
    return image


def digit_faces():
    """Font faces that draw all ten digits, one per distinct digit design (symbol fonts left out)."""
    faces, seen = [], set()
    for path in sorted(glob.glob(os.path.join(FONTS, "*.ttf"))):
        if "Symbols" in path:
            continue
        try:
            font = ImageFont.truetype(path, 64)
        except OSError:
            continue
        missing = draw_text(font, "\U0010FFFD", 0)
        images = [draw_text(font, d, 0) for d in DIGITS]
        if any(i.getbbox() is None or ImageChops.difference(i, missing).getbbox() is None for i in images):
            continue
        design = hashlib.sha256(b"".join(i.tobytes() for i in images)).hexdigest()
        if design not in seen:
            seen.add(design)
            faces.append((os.path.basename(path), font))
    return faces


def affine(image, rng):
    """Rotation, shear and scale about the centre (PIL maps output → input, so the matrix is inverted)."""
    angle = math.radians(rng.uniform(-15, 15))
    shear = rng.uniform(-0.3, 0.3)
    scale = rng.uniform(0.8, 1.15)
    cos, sin = math.cos(angle), math.sin(angle)
    a, b, c, d = cos * scale, (cos * shear - sin) * scale, sin * scale, (sin * shear + cos) * scale
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    centre = RENDER / 2
    return image.transform((RENDER, RENDER), Image.AFFINE,
                           (ia, ib, centre - ia * centre - ib * centre, ic, id_, centre - ic * centre - id_ * centre),
                           resample=Image.BILINEAR)


def render(faces, digit, rng, size):
    _, font = faces[rng.randrange(len(faces))]
    stroke = rng.choice([0, 0, 0, 1, 2])
    glyph = affine(draw_text(font, DIGITS[digit], stroke), rng)
    box = glyph.getbbox() or (0, 0, RENDER, RENDER)
    height = box[3] - box[1]
    # A frame around the digit as a house-number crop: the digit fills 55-85% of its height, off centre.
    side = height / rng.uniform(0.55, 0.85)
    cx = (box[0] + box[2]) / 2 + rng.uniform(-0.12, 0.12) * side
    cy = (box[1] + box[3]) / 2 + rng.uniform(-0.08, 0.08) * side
    canvas = Image.new("L", (RENDER * 3, RENDER), 0)
    canvas.paste(glyph, (RENDER, 0))
    # Neighbouring digits of the same face, as on a door or a price tag, cut by the frame.
    gap = rng.uniform(0.0, 0.25) * (box[2] - box[0])
    for side_sign in (-1, 1):
        if rng.random() < 0.5:
            neighbour = draw_text(font, DIGITS[rng.randrange(10)], stroke)
            nbox = neighbour.getbbox() or (0, 0, RENDER, RENDER)
            x = box[0] - gap - nbox[2] if side_sign < 0 else box[2] + gap - nbox[0]
            canvas = ImageChops.lighter(canvas, shifted(neighbour, RENDER + int(x), RENDER * 3))
    left, top = RENDER + cx - side / 2, cy - side / 2
    crop = canvas.crop((int(left), int(top), int(left + side), int(top + side))).resize((size, size), Image.LANCZOS)
    if rng.random() < 0.5:
        crop = crop.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    # Contrast and polarity: ink and paper grey levels, dark on light in a third of the images.
    paper, ink = rng.uniform(0, 0.45), rng.uniform(0.6, 1.0)
    if rng.random() < 1 / 3:
        paper, ink = 1 - paper, 1 - ink
    gx, gy = rng.uniform(-0.15, 0.15), rng.uniform(-0.15, 0.15)
    noise = rng.uniform(0.0, 0.08)
    pixels = crop.tobytes()
    values = bytearray(size * size)
    for i, v in enumerate(pixels):
        y, x = divmod(i, size)
        ramp = gx * (x / (size - 1) - 0.5) + gy * (y / (size - 1) - 0.5)
        t = v / 255
        level = paper + (ink - paper) * t + ramp + rng.gauss(0, noise)
        values[i] = max(0, min(255, round(level * 255)))
    return bytes(values)


def shifted(image, x, width):
    canvas = Image.new("L", (width, RENDER), 0)
    canvas.paste(image, (x, 0))
    return canvas


def write_idx(path, dims, data):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train", type=int, default=400, help="training images per digit")
    parser.add_argument("--test", type=int, default=100, help="test images per digit")
    parser.add_argument("--size", type=int, default=28)
    args = parser.parse_args()
    faces = digit_faces()
    if len(faces) < MIN_FACES:
        sys.exit(f"make-printed-digits: {FONTS} has only {len(faces)} faces with distinct digits, {MIN_FACES} needed "
                 "(install fonts-noto-core)")
    folder = os.path.join(args.out, "printed-digits")
    os.makedirs(folder, exist_ok=True)
    for prefix, per_class, stream in (("train", args.train, 0), ("t10k", args.test, 1)):
        rng = random.Random(f"{args.seed}/{stream}")
        images, labels = bytearray(), bytearray()
        # Interleaved classes (0, 1, …, 9, 0, …) so a prefix of the file is balanced.
        for n in range(per_class * 10):
            images += render(faces, n % 10, rng, args.size)
            labels.append(n % 10)
        write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), [per_class * 10, args.size, args.size], images)
        write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), [per_class * 10], labels)
    with open(os.path.join(folder, "faces.txt"), "w") as f:
        f.write("\n".join(name for name, _ in faces) + "\n")
    print(f"make-printed-digits: {folder}: {args.train * 10} train, {args.test * 10} test images of the digits 0-9 "
          f"from {len(faces)} font faces", file=sys.stderr)


if __name__ == "__main__":
    main()
