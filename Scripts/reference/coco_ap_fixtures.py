"""Writes the AP fixtures into Tests/PatchDetectTests/Fixtures/coco_ap_<case>/: a COCO ground-truth
file (annotations.json, images need not exist), a results file (detections.json, COCO's results
format) and expected.json, what pycocotools' COCOeval (iouType "bbox") computes from the two.

Regenerate: pip install pycocotools; python3 Scripts/reference/coco_ap_fixtures.py   (pycocotools 2.0)

Each case holds several images and classes, drawn at random with designed corners:
  - categories with non-contiguous, unsorted ids (class k is categories[k]; pycocotools sorts ids),
    one category with detections but no ground truth (AP -1 in pycocotools: left out of the mean);
  - an image with neither ground truth nor detections, one with detections only (false positives),
    one with ground truth only (misses);
  - a crowded image: iscrowd regions covering several detections (ignored, not false positives,
    IoU = intersection / detection area), and a crowd region beside ordinary boxes;
  - an image with 130 detections of one class (COCO keeps the 100 best per image and class);
  - scores with ties (rounded to 2 decimals) and boxes rounded to 2 decimals so that JSON carries
    exactly the doubles both sides compute with.
expected.json: ap, ap50, ap75, ar100 (COCOeval.stats[0, 1, 2, 8]) and per class (by name): ap,
ap50, ap_by_iou (the 10 thresholds), recall_by_iou; -1 where pycocotools has no value.
"""
import contextlib, io, json, os
import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

root = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'PatchDetectTests', 'Fixtures')
CATEGORIES = [(7, 'star'), (2, 'circle'), (11, 'ring'), (4, 'square'), (9, 'unseen')]


def r2(x):
    return float(round(float(x), 2))


def random_box(rng, w, h):
    bw, bh = rng.uniform(6, w / 2), rng.uniform(6, h / 2)
    return [r2(rng.uniform(0, w - bw)), r2(rng.uniform(0, h - bh)), r2(bw), r2(bh)]


def jitter(rng, box, amount):
    x, y, w, h = box
    return [r2(x + rng.normal(0, amount * w)), r2(y + rng.normal(0, amount * h)),
            r2(max(1, w * (1 + rng.normal(0, amount)))), r2(max(1, h * (1 + rng.normal(0, amount))))]


def make_case(seed):
    rng = np.random.RandomState(seed)
    ids = [12, 3, 40, 7, 25, 1, 9, 31, 18]  # unsorted: pycocotools visits them sorted
    kinds = ['plain', 'empty', 'fp_only', 'gt_only', 'crowded', 'many', 'plain', 'plain', 'plain']
    images, annotations, detections = [], [], []
    ann_id = 1
    real = [c for c, _ in CATEGORIES if c != 9]
    for image_id, kind in zip(ids, kinds):
        w, h = int(rng.randint(60, 200)), int(rng.randint(60, 200))
        images.append({'id': image_id, 'file_name': f'{image_id:04d}.png', 'width': w, 'height': h})
        gts = []
        if kind in ('plain', 'gt_only', 'crowded', 'many'):
            for _ in range(rng.randint(1, 6)):
                gts.append((int(rng.choice(real)), random_box(rng, w, h), 0))
        if kind == 'crowded':
            gts.append((real[0], [0.0, 0.0, r2(w * 0.6), r2(h * 0.6)], 1))
            gts.append((real[1], [r2(w * 0.3), r2(h * 0.3), r2(w * 0.5), r2(h * 0.5)], 1))
        for c, box, crowd in gts:
            annotations.append({'id': ann_id, 'image_id': image_id, 'category_id': c, 'bbox': box,
                                'area': r2(box[2] * box[3]), 'iscrowd': crowd})
            ann_id += 1
        if kind in ('empty', 'gt_only'):
            continue
        for c, box, crowd in gts:
            if crowd:  # several small detections inside the crowd region
                for _ in range(3):
                    small = [r2(box[0] + rng.uniform(0, box[2] / 2)), r2(box[1] + rng.uniform(0, box[3] / 2)), r2(box[2] / 4), r2(box[3] / 4)]
                    detections.append({'image_id': image_id, 'category_id': c, 'bbox': small, 'score': r2(rng.uniform(0.05, 1))})
                continue
            for _ in range(rng.randint(0, 3)):  # 0 to 2 detections per object: misses and duplicates
                label = c if rng.uniform() < 0.85 else int(rng.choice([cc for cc, _ in CATEGORIES]))
                detections.append({'image_id': image_id, 'category_id': label, 'bbox': jitter(rng, box, rng.uniform(0.02, 0.25)),
                                   'score': r2(rng.uniform(0.05, 1))})
        for _ in range(rng.randint(1, 4)):  # false positives, some of the class without ground truth
            detections.append({'image_id': image_id, 'category_id': int(rng.choice([cc for cc, _ in CATEGORIES])),
                               'bbox': random_box(rng, w, h), 'score': r2(rng.uniform(0.05, 0.9))})
        if kind == 'many':
            target = next(g for g in gts if not g[2])
            for _ in range(130):
                detections.append({'image_id': image_id, 'category_id': target[0], 'bbox': jitter(rng, target[1], 0.3),
                                   'score': r2(rng.uniform(0.01, 1))})
    gt = {'images': images, 'annotations': annotations,
          'categories': [{'id': c, 'name': n} for c, n in CATEGORIES]}
    return gt, detections


def evaluate(gt, detections):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = json.loads(json.dumps(gt))
        coco.createIndex()
        results = coco.loadRes(json.loads(json.dumps(detections)))
        e = COCOeval(coco, results, 'bbox')
        e.evaluate(); e.accumulate(); e.summarize()
    precision = e.eval['precision'][:, :, :, 0, 2]  # [T, R, K], area all, maxDets 100
    recall = e.eval['recall'][:, :, 0, 2]
    per_class = {}
    for k, cat in enumerate(e.params.catIds):
        name = next(n for c, n in CATEGORIES if c == cat)
        p = precision[:, :, k]
        mean = lambda a: float(np.mean(a[a > -1])) if np.any(a > -1) else -1.0
        per_class[name] = {'ap': mean(p), 'ap50': mean(p[0]), 'ap_by_iou': [mean(p[t]) for t in range(10)],
                           'recall_by_iou': [float(x) for x in recall[:, k]]}
    return {'ap': float(e.stats[0]), 'ap50': float(e.stats[1]), 'ap75': float(e.stats[2]), 'ar100': float(e.stats[8]),
            'per_class': per_class}


def main():
    for case, seed in [('a', 0), ('b', 1)]:
        folder = os.path.join(root, f'coco_ap_{case}')
        os.makedirs(folder, exist_ok=True)
        gt, detections = make_case(seed)
        expected = evaluate(gt, detections)
        for name, value in [('annotations.json', gt), ('detections.json', detections), ('expected.json', expected)]:
            with open(os.path.join(folder, name), 'w') as f:
                json.dump(value, f, indent=None if name != 'expected.json' else 1)
        print(case, len(gt['annotations']), 'gt', len(detections), 'detections', {k: expected[k] for k in ('ap', 'ap50', 'ap75')})


if __name__ == '__main__':
    main()
