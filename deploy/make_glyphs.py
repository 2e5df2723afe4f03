"""Renders an Omniglot-style character benchmark from the real fonts of Debian's fonts-noto-core.

DIR/<alphabet>/<character>/<n>.png: white glyphs on black, SIZE x SIZE grey PNGs, IMAGES per character,
each drawn with a randomly chosen face of the alphabet's fonts, a random affine distortion and a random
stroke thickness. Deterministic from the seed. Also writes DIR/aux-alphabets.txt and
DIR/target-alphabets.txt (a seeded split of the alphabets) and DIR/manifest.tsv.

usage: python3 make_glyphs.py DIR [--seed N] [--size 28] [--images 20] [--aux 24]
"""
import argparse
import glob
import math
import os
import random
import sys

from PIL import Image, ImageChops, ImageDraw, ImageFont

FONTS = "/usr/share/fonts/truetype/noto"

# Alphabet name, font file prefixes (any weight or style), code point ranges (inclusive), step.
ALPHABETS = [
    ("Latin", ["NotoSans-", "NotoSerif-", "NotoSansMono-", "NotoSansDisplay-", "NotoSerifDisplay-"], [(0x41, 0x5A)], 1),
    ("Greek", ["NotoSans-", "NotoSerif-", "NotoSansMono-", "NotoSansDisplay-"], [(0x391, 0x3A9)], 1),
    ("Cyrillic", ["NotoSans-", "NotoSerif-", "NotoSansMono-", "NotoSansDisplay-"], [(0x410, 0x42F)], 1),
    ("Armenian", ["NotoSansArmenian-", "NotoSerifArmenian-"], [(0x531, 0x556)], 1),
    ("Georgian", ["NotoSansGeorgian-", "NotoSerifGeorgian-"], [(0x10D0, 0x10F0)], 1),
    ("Hebrew", ["NotoSansHebrew-", "NotoSerifHebrew-", "NotoRashiHebrew-"], [(0x5D0, 0x5EA)], 1),
    ("Arabic", ["NotoSansArabic-", "NotoNaskhArabic-", "NotoKufiArabic-"], [(0x627, 0x64A)], 1),
    ("Syriac", ["NotoSansSyriac"], [(0x710, 0x72C)], 1),
    ("Thaana", ["NotoSansThaana-"], [(0x780, 0x7A5)], 1),
    ("NKo", ["NotoSansNKo-"], [(0x7CA, 0x7EA)], 1),
    ("Samaritan", ["NotoSansSamaritan-"], [(0x800, 0x815)], 1),
    ("Devanagari", ["NotoSansDevanagari-", "NotoSerifDevanagari-"], [(0x905, 0x939)], 1),
    ("Bengali", ["NotoSansBengali-", "NotoSerifBengali-"], [(0x985, 0x9B9)], 1),
    ("Gurmukhi", ["NotoSansGurmukhi-", "NotoSerifGurmukhi-"], [(0xA05, 0xA39)], 1),
    ("Gujarati", ["NotoSansGujarati-", "NotoSerifGujarati-"], [(0xA85, 0xAB9)], 1),
    ("Oriya", ["NotoSansOriya-", "NotoSerifOriya-"], [(0xB05, 0xB39)], 1),
    ("Tamil", ["NotoSansTamil-", "NotoSerifTamil-"], [(0xB85, 0xBB9)], 1),
    ("Telugu", ["NotoSansTelugu-", "NotoSerifTelugu-"], [(0xC05, 0xC39)], 1),
    ("Kannada", ["NotoSansKannada-", "NotoSerifKannada-"], [(0xC85, 0xCB9)], 1),
    ("Malayalam", ["NotoSansMalayalam-", "NotoSerifMalayalam-"], [(0xD05, 0xD39)], 1),
    ("Sinhala", ["NotoSansSinhala-", "NotoSerifSinhala-"], [(0xD85, 0xDC6)], 1),
    ("Thai", ["NotoSansThai-", "NotoSerifThai-", "NotoLoopedThai-"], [(0xE01, 0xE2E)], 1),
    ("Lao", ["NotoSansLao-", "NotoSerifLao-", "NotoLoopedLao-"], [(0xE81, 0xEAE)], 1),
    ("Tibetan", ["NotoSerifTibetan-"], [(0xF40, 0xF6C)], 1),
    ("Myanmar", ["NotoSansMyanmar-", "NotoSerifMyanmar-"], [(0x1000, 0x1020)], 1),
    ("Ethiopic", ["NotoSansEthiopic-", "NotoSerifEthiopic-"], [(0x1200, 0x1357)], 8),
    ("Cherokee", ["NotoSansCherokee-"], [(0x13A0, 0x13F4)], 2),
    ("CanadianAboriginal", ["NotoSansCanadianAboriginal-"], [(0x1401, 0x1480)], 3),
    ("Ogham", ["NotoSansOgham-"], [(0x1681, 0x169A)], 1),
    ("Runic", ["NotoSansRunic-"], [(0x16A0, 0x16EA)], 2),
    ("Khmer", ["NotoSansKhmer-", "NotoSerifKhmer-"], [(0x1780, 0x17A2)], 1),
    ("Mongolian", ["NotoSansMongolian-"], [(0x1820, 0x1842)], 1),
    ("Buginese", ["NotoSansBuginese-"], [(0x1A00, 0x1A16)], 1),
    ("Balinese", ["NotoSansBalinese-", "NotoSerifBalinese-"], [(0x1B05, 0x1B33)], 1),
    ("OlChiki", ["NotoSansOlChiki-"], [(0x1C5A, 0x1C77)], 1),
    ("Glagolitic", ["NotoSansGlagolitic-"], [(0x2C00, 0x2C2E)], 1),
    ("Coptic", ["NotoSansCoptic-"], [(0x2C80, 0x2CB1)], 2),
    ("Tifinagh", ["NotoSansTifinagh"], [(0x2D30, 0x2D67)], 1),
    ("Vai", ["NotoSansVai-"], [(0xA500, 0xA60B)], 6),
    ("Bamum", ["NotoSansBamum-"], [(0xA6A0, 0xA6E5)], 2),
    ("Javanese", ["NotoSansJavanese-"], [(0xA984, 0xA9B2)], 1),
    ("Lisu", ["NotoSansLisu-"], [(0xA4D0, 0xA4F7)], 1),
    ("Gothic", ["NotoSansGothic-"], [(0x10330, 0x1034A)], 1),
    ("OldItalic", ["NotoSansOldItalic-"], [(0x10300, 0x1031F)], 1),
    ("Deseret", ["NotoSansDeseret-"], [(0x10400, 0x10427)], 1),
    ("Osmanya", ["NotoSansOsmanya-"], [(0x10480, 0x1049D)], 1),
    ("Adlam", ["NotoSansAdlam-"], [(0x1E900, 0x1E921)], 1),
]
MAX_CHARACTERS = 40
RENDER = 96  # glyphs are drawn large, distorted, then reduced to SIZE


def faces(prefixes):
    files = sorted(f for p in prefixes for f in glob.glob(os.path.join(FONTS, p + "*.ttf")))
    return [f for f in files if "Condensed" not in f and "Extra" not in f and "Thin" not in f]


def rasterize(font, text, stroke):
    image = Image.new("L", (RENDER, RENDER), 0)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=stroke)
    x = (RENDER - (right - left)) / 2 - left
    y = (RENDER - (bottom - top)) / 2 - top
    draw.text((x, y), text, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    return image


def has_glyph(font, ch, missing):
    """A glyph exists when it draws something that differs from the font's missing-glyph box."""
    image = rasterize(font, ch, 0)
    return image.getbbox() is not None and ImageChops.difference(image, missing).getbbox() is not None


def distort(image, rng, size):
    angle = math.radians(rng.uniform(-12, 12))
    shear = rng.uniform(-0.25, 0.25)
    scale = rng.uniform(0.8, 1.1)
    dx, dy = rng.uniform(-5, 5), rng.uniform(-5, 5)
    # Inverse map output → input about the centre: A = (R·S·scale)⁻¹.
    cos, sin = math.cos(angle), math.sin(angle)
    a, b, c, d = cos * scale, (cos * shear - sin) * scale, sin * scale, (sin * shear + cos) * scale
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    cx = cy = RENDER / 2
    ox, oy = cx + dx, cy + dy
    coeffs = (ia, ib, cx - ia * ox - ib * oy, ic, id_, cy - ic * ox - id_ * oy)
    warped = image.transform((RENDER, RENDER), Image.AFFINE, coeffs, resample=Image.BILINEAR)
    # Fit the glyph's box into the image with a margin, as MNIST and Omniglot do.
    box = warped.getbbox() or (0, 0, RENDER, RENDER)
    side = max(box[2] - box[0], box[3] - box[1]) * 1.25
    mx, my = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    crop = warped.crop((int(mx - side / 2), int(my - side / 2), int(mx + side / 2), int(my + side / 2)))
    return crop.resize((size, size), Image.LANCZOS)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--aux", type=int, default=24, help="alphabets in the auxiliary (background) split")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    manifest = []
    alphabets = []
    for name, prefixes, ranges, step in ALPHABETS:
        files = faces(prefixes)
        if not files:
            print(f"make-glyphs: no font for {name}, skipped", file=sys.stderr)
            continue
        fonts = [ImageFont.truetype(f, 64) for f in files]
        missing = [rasterize(font, "\U0010FFFD", 0) for font in fonts]
        characters = []
        for low, high in ranges:
            for code in range(low, high + 1, step):
                ch = chr(code)
                usable = [i for i, font in enumerate(fonts) if has_glyph(font, ch, missing[i])]
                if usable:
                    characters.append((code, usable))
        characters = characters[:MAX_CHARACTERS]
        if len(characters) < 10:
            print(f"make-glyphs: {name} has only {len(characters)} characters, skipped", file=sys.stderr)
            continue
        alphabets.append(name)
        for index, (code, usable) in enumerate(characters):
            folder = os.path.join(args.out, name, f"character{index + 1:02d}_U{code:04X}")
            os.makedirs(folder, exist_ok=True)
            for n in range(args.images):
                font = fonts[rng.choice(usable)]
                stroke = rng.choice([0, 0, 1, 2, 3])
                image = distort(rasterize(font, chr(code), stroke), rng, args.size)
                image.save(os.path.join(folder, f"{n + 1:02d}.png"), optimize=False)
            manifest.append((name, f"character{index + 1:02d}_U{code:04X}", len(usable)))
        print(f"make-glyphs: {name}: {len(characters)} characters from {len(files)} font faces", file=sys.stderr)
    order = alphabets[:]
    random.Random(args.seed + 1).shuffle(order)
    aux, target = sorted(order[: args.aux]), sorted(order[args.aux:])
    with open(os.path.join(args.out, "aux-alphabets.txt"), "w") as f:
        f.write("\n".join(aux) + "\n")
    with open(os.path.join(args.out, "target-alphabets.txt"), "w") as f:
        f.write("\n".join(target) + "\n")
    with open(os.path.join(args.out, "manifest.tsv"), "w") as f:
        f.write("alphabet\tcharacter\tfaces\n")
        f.writelines(f"{a}\t{c}\t{n}\n" for a, c, n in manifest)
    print(f"make-glyphs: {len(alphabets)} alphabets, {len(manifest)} characters, {len(manifest) * args.images} images "
          f"in {args.out} ({len(aux)} auxiliary, {len(target)} target alphabets)", file=sys.stderr)


if __name__ == "__main__":
    main()
