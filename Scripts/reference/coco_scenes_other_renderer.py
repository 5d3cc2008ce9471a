"""Draws ShapeWorld-like detection scenes with Pillow into a COCO folder: a second renderer,
independent of patch-detect's (different rasteriser, no antialiasing, other backgrounds and
sizes), for the issue's check that a model trained on someone else's scenes detects them.

Usage: python3 Scripts/reference/coco_scenes_other_renderer.py OUT_DIR [--count 3000] [--size 128] [--seed 0]
Needs: Pillow, numpy.

OUT_DIR/annotations.json (COCO detection: images, annotations with bbox [x, y, w, h] in pixels,
categories 1..6 = circle, square, triangle, star, cross, ring, as patch-detect's export) and
OUT_DIR/images/NNNNNN.png. Each scene: 1 to 5 shapes, each keeping at least half of its pixels
visible; a box is the extent of the pixels the object shows in the final picture.
"""
import argparse, json, math, os, shutil
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring']


def polygon(kind, cx, cy, r, angle):
    """Outline points of a polygonal shape (Pillow fills it)."""
    if kind == 'square':
        pts = [(-0.75, -0.75), (0.75, -0.75), (0.75, 0.75), (-0.75, 0.75)]
    elif kind == 'triangle':
        pts = [(math.cos(math.pi / 2 + i * 2 * math.pi / 3), math.sin(math.pi / 2 + i * 2 * math.pi / 3)) for i in range(3)]
    elif kind == 'star':
        pts = [((1 if i % 2 == 0 else 0.42) * math.cos(math.pi / 2 + i * math.pi / 5),
                (1 if i % 2 == 0 else 0.42) * math.sin(math.pi / 2 + i * math.pi / 5)) for i in range(10)]
    elif kind == 'cross':
        a = 0.3
        pts = [(-a, -1), (a, -1), (a, -a), (1, -a), (1, a), (a, a), (a, 1), (-a, 1), (-a, a), (-1, a), (-1, -a), (-a, -a)]
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + r * (c * u - s * v), cy + r * (s * u + c * v)) for u, v in pts]


def shape_mask(kind, size, cx, cy, r, angle):
    m = Image.new('L', (size, size), 0)
    d = ImageDraw.Draw(m)
    if kind == 'circle':
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    elif kind == 'ring':
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        d.ellipse([cx - 0.5 * r, cy - 0.5 * r, cx + 0.5 * r, cy + 0.5 * r], fill=0)
    else:
        d.polygon(polygon(kind, cx, cy, r, angle), fill=255)
    return np.array(m) > 0


def background(rng, size):
    kind = rng.randint(3)
    base = rng.uniform(10, 80, size=3)
    if kind == 0:  # smooth blobs: blurred noise
        noise = rng.uniform(-40, 40, size=(size // 8, size // 8, 3)).astype(np.float32)
        img = np.array(Image.fromarray(np.uint8(np.clip(noise + 128, 0, 255))).resize((size, size), Image.BICUBIC), dtype=np.float32) - 128
        img = base + img * 0.6
    elif kind == 1:  # vertical or horizontal bands
        t = (np.arange(size) // rng.randint(4, 16)) % 2
        img = base + (t[:, None, None] if rng.uniform() < 0.5 else t[None, :, None]) * rng.uniform(10, 25)
        img = np.broadcast_to(img, (size, size, 3)).copy()
    else:  # radial gradient
        y, x = np.mgrid[0:size, 0:size]
        d = np.hypot(x - rng.uniform(0, size), y - rng.uniform(0, size)) / size
        img = base + d[..., None] * rng.uniform(-30, 30, size=3)
    img = img + rng.normal(0, 6, size=img.shape)
    return np.clip(img, 0, 120)


def scene(rng, size):
    img = background(rng, size)
    masks, labels = [], []
    for _ in range(rng.randint(1, 6)):
        kind = CLASSES[rng.randint(len(CLASSES))]
        for _try in range(10):
            r = rng.uniform(0.08, 0.2) * size
            cx, cy = rng.uniform(r + 1, size - r - 1), rng.uniform(r + 1, size - r - 1)
            m = shape_mask(kind, size, cx, cy, r, rng.uniform(0, 2 * math.pi))
            trial = masks + [m]
            visible = [t & ~np.any(trial[i + 1:], axis=0) if i + 1 < len(trial) else t for i, t in enumerate(trial)]
            if all(v.sum() >= 0.5 * t.sum() and t.sum() > 0 for v, t in zip(visible, trial)):
                masks, labels = trial, labels + [kind]
                img[m] = rng.uniform(140, 255, size=3) * rng.uniform(0.9, 1.0)
                break
    annotations = []
    for i, (m, kind) in enumerate(zip(masks, labels)):
        v = m & ~np.any(masks[i + 1:], axis=0) if i + 1 < len(masks) else m
        ys, xs = np.nonzero(v)
        x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
        annotations.append((CLASSES.index(kind) + 1, [x0, y0, x1 - x0, y1 - y0]))
    pil = Image.fromarray(np.uint8(np.clip(img, 0, 255).round()))
    if rng.uniform() < 0.3:
        pil = pil.filter(ImageFilter.GaussianBlur(0.6))  # a softer camera
    return pil, annotations


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out')
    parser.add_argument('--count', type=int, default=3000)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    if os.path.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f'{args.out}: exists and is not empty')
    tmp = args.out.rstrip('/') + '.partial'
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, 'images'))
    rng = np.random.RandomState(args.seed)
    images, annotations = [], []
    for i in range(args.count):
        pil, objects = scene(rng, args.size)
        name = f'{i:06d}.png'
        pil.save(os.path.join(tmp, 'images', name))
        images.append({'id': i + 1, 'file_name': name, 'width': args.size, 'height': args.size})
        for category, box in objects:
            annotations.append({'id': len(annotations) + 1, 'image_id': i + 1, 'category_id': category, 'bbox': box,
                                'area': box[2] * box[3], 'iscrowd': 0})
    data = {'images': images, 'annotations': annotations,
            'categories': [{'id': k + 1, 'name': n} for k, n in enumerate(CLASSES)]}
    with open(os.path.join(tmp, 'annotations.json'), 'w') as f:
        json.dump(data, f)
    if os.path.exists(args.out):
        os.rmdir(args.out)
    os.rename(tmp, args.out)
    print(f'wrote {args.count} scenes, {len(annotations)} objects, to {args.out}')


if __name__ == '__main__':
    main()
