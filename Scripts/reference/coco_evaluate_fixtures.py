"""Writes Tests/PatchDetectTests/Fixtures/evaluate_detr/: what `patch-detect evaluate` must give
for the DETR fixture Tests/VAModelsTests/Fixtures/detr_hf_v5 (random weights, transformers'
ResNet backbone, 5 labels) on a small COCO folder, computed by transformers and pycocotools.

Regenerate: pip install pycocotools; python3 Scripts/reference/coco_evaluate_fixtures.py
  (torch 2.15, transformers 5.25.0, pycocotools 2.0, Pillow)

  preprocessor_config.json  the fixture's, with size {shortest_edge 64, longest_edge 96} so the
                            images stay small; the test puts it beside the fixture's weights
  data/annotations.json, data/images/*.png
                            5 scenes from coco_scenes_other_renderer.py at 64x96 (no resize),
                            96x64, 80x110 and 50x140 (resized: 64x88 and 34x96) and 64x64; ground truth
                            is the model's own 3 best boxes per image, jittered and sometimes
                            relabelled, plus 2 random boxes it misses, so that AP is neither 0 nor 1 with random weights; one
                            crowd region, one image without ground truth
  detections.json           every query's detection (COCO results format, in image then query
                            order): DetrImageProcessor (one image, no padding), the model in eval,
                            post_process_object_detection with the original size
  expected.json             COCOeval (bbox) of the two: ap, ap50, ap75, ar100, per_class (AP by name)
"""
import contextlib, io, json, os, shutil, sys
import numpy as np
import torch
from transformers import DetrForObjectDetection, DetrImageProcessor
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

here = os.path.dirname(__file__)
sys.path.insert(0, here)
import coco_scenes_other_renderer as renderer  # noqa: E402

root = os.path.join(here, '..', '..', 'Tests')
model_dir = os.path.join(root, 'VAModelsTests', 'Fixtures', 'detr_hf_v5')
out = os.path.join(root, 'PatchDetectTests', 'Fixtures', 'evaluate_detr')
SIZES = [(64, 96), (96, 64), (80, 110), (50, 140), (64, 64)]  # (height, width)


def main():
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, 'data', 'images'))
    config = json.load(open(os.path.join(model_dir, 'preprocessor_config.json')))
    config['size'] = {'shortest_edge': 64, 'longest_edge': 96}
    json.dump(config, open(os.path.join(out, 'preprocessor_config.json'), 'w'), indent=2)
    processor = DetrImageProcessor.from_pretrained(out)
    model = DetrForObjectDetection.from_pretrained(model_dir, attn_implementation='eager').eval()
    labels = model.config.id2label
    rng = np.random.RandomState(5)
    images, annotations, detections = [], [], []
    for i, (h, w) in enumerate(SIZES):
        pil, _ = renderer.scene(rng, max(h, w))
        pil = pil.crop((0, 0, w, h))
        name = f'{i:06d}.png'
        pil.save(os.path.join(out, 'data', 'images', name))
        image_id = 10 + 3 * i
        images.append({'id': image_id, 'file_name': name, 'width': w, 'height': h})
        with torch.no_grad():
            inputs = processor(images=pil, return_tensors='pt')
            outputs = model(pixel_values=inputs['pixel_values'], pixel_mask=inputs['pixel_mask'])
        result = processor.post_process_object_detection(outputs, threshold=-1.0, target_sizes=[(h, w)])[0]
        for s, l, b in zip(result['scores'].tolist(), result['labels'].tolist(), result['boxes'].tolist()):
            x0, y0, x1, y1 = b
            detections.append({'image_id': image_id, 'category_id': l + 1, 'bbox': [x0, y0, x1 - x0, y1 - y0], 'score': s})
        if i == 4:
            continue  # an image without ground truth
        best = np.argsort(-result['scores'].numpy(), kind='stable')[:3]
        for q in best:
            x0, y0, x1, y1 = result['boxes'][q].tolist()
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
            if x1 - x0 < 1 or y1 - y0 < 1:
                continue
            bw, bh = x1 - x0, y1 - y0
            jx, jy = rng.uniform(-0.05, 0.05) * bw, rng.uniform(-0.05, 0.05) * bh
            box = [round(min(max(0, x0 + jx), w - 1), 2), round(min(max(0, y0 + jy), h - 1), 2)]
            box += [round(min(bw, w - box[0]), 2), round(min(bh, h - box[1]), 2)]
            label = int(result['labels'][q]) if rng.uniform() < 0.8 else int(rng.randint(len(labels)))
            annotations.append({'id': len(annotations) + 1, 'image_id': image_id, 'category_id': label + 1, 'bbox': box,
                                'area': round(box[2] * box[3], 2), 'iscrowd': 0})
        for _ in range(2):  # objects the model misses
            bw, bh = rng.uniform(8, w / 2), rng.uniform(8, h / 2)
            box = [round(rng.uniform(0, w - bw), 2), round(rng.uniform(0, h - bh), 2), round(bw, 2), round(bh, 2)]
            annotations.append({'id': len(annotations) + 1, 'image_id': image_id, 'category_id': int(rng.randint(len(labels))) + 1,
                                'bbox': box, 'area': round(box[2] * box[3], 2), 'iscrowd': 0})
        if i == 1:
            annotations.append({'id': len(annotations) + 1, 'image_id': image_id, 'category_id': 1,
                                'bbox': [0, 0, float(w), float(h) / 2], 'area': w * h / 2, 'iscrowd': 1})
    gt = {'images': images, 'annotations': annotations,
          'categories': [{'id': k + 1, 'name': labels[k]} for k in range(len(labels))]}
    json.dump(gt, open(os.path.join(out, 'data', 'annotations.json'), 'w'))
    json.dump(detections, open(os.path.join(out, 'detections.json'), 'w'))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(os.path.join(out, 'data', 'annotations.json'))
        e = COCOeval(coco, coco.loadRes(os.path.join(out, 'detections.json')), 'bbox')
        e.evaluate(); e.accumulate(); e.summarize()
    precision = e.eval['precision'][:, :, :, 0, 2]
    per_class = {}
    for k, cat in enumerate(e.params.catIds):
        p = precision[:, :, k]
        per_class[labels[cat - 1]] = float(np.mean(p[p > -1])) if np.any(p > -1) else -1.0
    expected = {'ap': float(e.stats[0]), 'ap50': float(e.stats[1]), 'ap75': float(e.stats[2]), 'ar100': float(e.stats[8]),
                'per_class': per_class}
    json.dump(expected, open(os.path.join(out, 'expected.json'), 'w'), indent=1)
    print(expected)


if __name__ == '__main__':
    main()
