"""Scores a `patch-detect --synthetic-scenes N --run-dir RUN` run with pycocotools, twice: the
detections patch-detect wrote (RUN/synthetic-validation/predictions.json) and those transformers
gives from the saved checkpoint (DetrForObjectDetection.from_pretrained(RUN/model) with its
DetrImageProcessor, post_process_object_detection at threshold 0.05). Prints both AP50s, AP at
0.5:0.95, and the largest box difference between the two sets of detections.

A measurement, not a fixture. Written against torch 2.15, transformers 5.25, pycocotools 2.0.
Run: python3 Scripts/reference/detect_ap50_check.py RUN
"""
import contextlib, io, json, os, sys
import torch
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from transformers import DetrForObjectDetection, DetrImageProcessor


def score(gt, predictions):
    if not predictions:
        return 0.0, 0.0
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(predictions)
        e = COCOeval(gt, dt, 'bbox')
        e.evaluate(); e.accumulate(); e.summarize()
    return e.stats[1], e.stats[0]


def main(run):
    folder = os.path.join(run, 'synthetic-validation')
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(os.path.join(folder, 'annotations.json'))
    swift = json.load(open(os.path.join(folder, 'predictions.json')))
    model, info = DetrForObjectDetection.from_pretrained(os.path.join(run, 'model'), output_loading_info=True)
    assert not any(info.values()), info
    model.eval()
    processor = DetrImageProcessor.from_pretrained(os.path.join(run, 'model'))
    hf, largest = [], 0.0
    for image_id, entry in gt.imgs.items():
        image = Image.open(os.path.join(folder, entry['file_name'])).convert('RGB')
        with torch.no_grad():
            out = model(**processor(images=image, return_tensors='pt'))
        r = processor.post_process_object_detection(out, threshold=0.05, target_sizes=[(image.height, image.width)])[0]
        mine = [p for p in swift if p['image_id'] == image_id]
        for k, (l, s, b) in enumerate(zip(r['labels'], r['scores'], r['boxes'])):
            x0, y0, x1, y1 = [float(v) for v in b]
            hf.append({'image_id': image_id, 'category_id': int(l) + 1, 'bbox': [x0, y0, x1 - x0, y1 - y0], 'score': float(s)})
            if k < len(mine):
                largest = max(largest, max(abs(a - c) for a, c in zip(mine[k]['bbox'], hf[-1]['bbox'])))
    ap50, ap = score(gt, swift)
    hf50, hfap = score(gt, hf)
    print(f'{len(gt.imgs)} images, {len(gt.anns)} objects')
    print(f'patch-detect: AP50 {ap50:.3f}  AP {ap:.3f}  ({len(swift)} detections)')
    print(f'transformers: AP50 {hf50:.3f}  AP {hfap:.3f}  ({len(hf)} detections), largest box difference {largest:.4f} px')


if __name__ == '__main__':
    main(sys.argv[1])
