"""transformers' view of the checkpoint patch-detect exports (Tests/PatchDetectTests/Fixtures/detect_small_detr).

Steps: (1) `DETECT_WRITE_FIXTURES=1 swift test --filter SmallDETRTests/exportIsTheCommittedCheckpoint`
writes config.json, preprocessor_config.json and model.safetensors there from SmallDETR's
export (a tiny random model, seed 7); (2) this script writes image.png (a 64x64 test pattern)
and transformers.json: DetrForObjectDetection.from_pretrained on the folder (failing on any
missing or unexpected tensor), DetrImageProcessor on the image, the logits, boxes and
post_process_object_detection at threshold 0.3 with the image's size.

Written against torch 2.15, transformers 5.25. Run: python3 Scripts/reference/detect_model_fixtures.py
"""
import json, os
import numpy as np
import torch
from PIL import Image
from transformers import DetrForObjectDetection, DetrImageProcessor

FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'Tests', 'PatchDetectTests', 'Fixtures', 'detect_small_detr')


def main():
    rng = np.random.default_rng(5)
    ys, xs = np.meshgrid(np.linspace(0, 1, 64), np.linspace(0, 1, 64), indexing='ij')
    rgb = np.stack([np.sin(7 * xs + 3 * ys), np.cos(6 * ys - 2 * xs), xs * ys], -1) * 0.4 + 0.5
    rgb[20:40, 10:30] = [0.95, 0.9, 0.2]  # a bright square for the boxes to find
    pixels = (np.clip(rgb + 0.05 * rng.standard_normal(rgb.shape), 0, 1) * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(FOLDER, 'image.png'))

    model, info = DetrForObjectDetection.from_pretrained(FOLDER, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    assert not problems, problems
    model.eval()
    processor = DetrImageProcessor.from_pretrained(FOLDER)
    image = Image.open(os.path.join(FOLDER, 'image.png')).convert('RGB')
    inputs = processor(images=image, return_tensors='pt')
    assert tuple(inputs['pixel_values'].shape) == (1, 3, 64, 64), inputs['pixel_values'].shape
    with torch.no_grad():
        out = model(**inputs)
    results = processor.post_process_object_detection(out, threshold=0.3, target_sizes=[(64, 64)])[0]
    detections = [{'label': int(l), 'score': float(s), 'box': [float(v) for v in b]}
                  for l, s, b in zip(results['labels'], results['scores'], results['boxes'])]
    with open(os.path.join(FOLDER, 'transformers.json'), 'w') as f:
        json.dump({'logits': out.logits[0].flatten().tolist(), 'boxes': out.pred_boxes[0].flatten().tolist(), 'detections': detections}, f)
    print(len(detections), 'detections;', model.config.backbone_config.layer_type, 'backbone')


if __name__ == '__main__':
    main()
