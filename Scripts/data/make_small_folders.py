#!/usr/bin/env python3
"""Writes the two small image folders issue 14 measures `patch-classify` on.

  digits:       scikit-learn's handwritten digits (1,797 8x8 images from UCI, bundled with
                scikit-learn, no download), upsampled to 32x32 grayscale PNGs (bicubic),
                ROOT/<digit>/<index>.png.
  colour-shapes: 3,000 64x64 RGB PNGs, six classes (circle, square, triangle, star, cross,
                ring), one object of a random colour, size, position and rotation on a
                smooth colour-noise background (a random 4x4 colour grid upsampled bicubic),
                antialiased (drawn at 4x and reduced); ROOT/<class>/<index>.png, and the
                object's binary mask as MASKS/<class>/<index>.png (255 on the object), for
                `patch-classify --masks MASKS`.

Both are ImageFolder layouts without train/val sub-folders, so patch-classify holds out every
fifth image of each class. Everything depends only on --seed.

Usage:
  python3 Scripts/data/make_small_folders.py digits OUT/digits
  python3 Scripts/data/make_small_folders.py colour-shapes OUT/shapes --masks OUT/shapes-masks
  the committed toy folder of the patch-classify tests (300 16x16 digits, 30 of each):
  python3 Scripts/data/make_small_folders.py digits Tests/PatchClassifyTests/Fixtures/toy-digits --size 16 --per-class 30
"""
import argparse
import math
import os

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ["circle", "square", "triangle", "star", "cross", "ring"]


def write_digits(root, size=32, per_class=None):
    from sklearn.datasets import load_digits

    digits = load_digits()
    written = {}
    for i, (pixels, label) in enumerate(zip(digits.images, digits.target)):
        if per_class is not None and written.get(label, 0) >= per_class:
            continue
        written[label] = written.get(label, 0) + 1
        folder = os.path.join(root, str(label))
        os.makedirs(folder, exist_ok=True)
        small = Image.fromarray((pixels / 16 * 255).round().astype(np.uint8), mode="L")
        small.resize((size, size), Image.BICUBIC).save(os.path.join(folder, f"{i:04d}.png"))
    print(f"wrote {sum(written.values())} digits under {root}")


def polygon(cx, cy, radius, angle, points):
    return [(cx + r * math.cos(angle + a), cy + r * math.sin(angle + a)) for r, a in points]


def draw_shape(draw, name, cx, cy, r, angle, fill):
    if name == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif name == "ring":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        draw.ellipse([cx - r * 0.55, cy - r * 0.55, cx + r * 0.55, cy + r * 0.55], fill=0)
    elif name == "square":
        s = r * 0.85
        draw.polygon(polygon(cx, cy, s, angle, [(s * math.sqrt(2), math.pi / 4 + k * math.pi / 2) for k in range(4)]), fill=fill)
    elif name == "triangle":
        draw.polygon(polygon(cx, cy, r, angle, [(r, -math.pi / 2 + k * 2 * math.pi / 3) for k in range(3)]), fill=fill)
    elif name == "star":
        pts = [(r if k % 2 == 0 else r * 0.45, -math.pi / 2 + k * math.pi / 5) for k in range(10)]
        draw.polygon(polygon(cx, cy, r, angle, pts), fill=fill)
    elif name == "cross":
        w = r * 0.33
        arms = [(-w, -r), (w, -r), (w, -w), (r, -w), (r, w), (w, w), (w, r), (-w, r), (-w, w), (-r, w), (-r, -w), (-w, -w)]
        c, s = math.cos(angle), math.sin(angle)
        draw.polygon([(cx + x * c - y * s, cy + x * s + y * c) for x, y in arms], fill=fill)


def write_colour_shapes(root, masks, seed, count, size=64, classes=SHAPES, scale=4):
    rng = np.random.default_rng(seed)
    big = size * scale
    for i in range(count):
        name = classes[i % len(classes)]
        grid = rng.random((4, 4, 3)) * 255
        background = Image.fromarray(grid.astype(np.uint8), mode="RGB").resize((big, big), Image.BICUBIC)
        r = rng.uniform(0.16, 0.28) * big
        cx, cy = rng.uniform(r, big - r), rng.uniform(r, big - r)
        angle = rng.uniform(0, 2 * math.pi)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        mask = Image.new("L", (big, big), 0)
        draw_shape(ImageDraw.Draw(mask), name, cx, cy, r, angle, 255)
        image = Image.composite(Image.new("RGB", (big, big), colour), background, mask)
        folder = os.path.join(root, name)
        os.makedirs(folder, exist_ok=True)
        image.resize((size, size), Image.BOX).save(os.path.join(folder, f"{i:04d}.png"))
        if masks:
            mfolder = os.path.join(masks, name)
            os.makedirs(mfolder, exist_ok=True)
            small = np.asarray(mask.resize((size, size), Image.BOX)) >= 128
            Image.fromarray((small * 255).astype(np.uint8), mode="L").save(os.path.join(mfolder, f"{i:04d}.png"))
    print(f"wrote {count} images under {root}" + (f" and their masks under {masks}" if masks else ""))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["digits", "colour-shapes"])
    p.add_argument("root")
    p.add_argument("--masks", help="colour-shapes: also write the object masks under this folder")
    p.add_argument("--count", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=64, help="side in pixels (digits: 32 unless given)")
    p.add_argument("--per-class", type=int, help="digits: at most this many images of each digit (the first ones)")
    p.add_argument("--classes", default=",".join(SHAPES), help="colour-shapes: comma-separated subset of " + ",".join(SHAPES))
    args = p.parse_args()
    if args.kind == "digits":
        write_digits(args.root, args.size if args.size != 64 else 32, args.per_class)
    else:
        classes = args.classes.split(",")
        assert all(c in SHAPES for c in classes), f"unknown class in {classes}"
        write_colour_shapes(args.root, args.masks, args.seed, args.count, args.size, classes)


if __name__ == "__main__":
    main()
