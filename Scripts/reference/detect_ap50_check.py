"""Scores a patch-detect model on a COCO folder with pycocotools, twice: the detections
`patch-detect evaluate` wrote (OUT/detections.json) and those transformers gives from the same
checkpoint (DetrForObjectDetection.from_pretrained(MODEL) with its DetrImageProcessor,
post_process_object_detection at threshold 0.05). Prints both AP50s, AP at 0.5:0.95, and the
largest box difference between the two sets of detections.

A measurement, not a fixture. Written against torch 2.15, transformers 5.25, pycocotools 2.0.
Run, e.g. after `patch-detect --synthetic-scenes 2000 --run-dir RUN` (which writes its scenes
under RUN as COCO folders):
    patch-detect evaluate --weights RUN/model --data RUN/synthetic-validation --output RUN/eval
    python3 Scripts/reference/detect_ap50_check.py RUN/synthetic-validation RUN/eval/detections.json RUN/model
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


def main(folder, detections, weights):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(os.path.join(folder, 'annotations.json'))
    swift = json.load(open(detections))
    model, info = DetrForObjectDetection.from_pretrained(weights, output_loading_info=True)
    assert not any(info.values()), info
    model.eval()
    processor = DetrImageProcessor.from_pretrained(weights)
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
    main(*sys.argv[1:4])
