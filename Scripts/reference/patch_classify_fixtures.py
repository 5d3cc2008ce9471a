"""ShapeWorld validation samples with masks, and timm's predictions for them by the shipped
patch-classify model: the fixture `patch-classify evaluate` is checked against.

Regenerate: swift build --product patch-classify && python3 Scripts/reference/patch_classify_fixtures.py
            (torch 2.15, timm 1.0.31, Pillow, safetensors; CPU)

1. Runs `patch-classify --export-shapeworld DIR --export-masks MASKS --val-size 2000` (seed 0,
   64 pixels: the data the shipped run, Examples/patch-classify/model, was validated on; file
   names are the validation offsets i, sample 10^9 + i).
2. Copies 24 of them into Tests/PatchClassifyTests/Fixtures/shapeworld-val/images/<class>/
   and their masks into .../masks/<class>/: the first 18 (3 per class, all classified
   correctly) and, per class, one the shipped model gets wrong with a clear logit margin
   (so the test checks which class is predicted, not only that it is the right one).
3. Builds timm's VisionTransformer from Examples/patch-classify/model/config.json's
   model_args, loads model.safetensors strictly, runs it on each fixture image (Pillow RGB,
   (x / 255 - mean) / std, no resize: the images are already 64x64) and writes
   .../timm_predictions.json: per image its path below images/, class, timm's predicted
   class and logits, and the accuracy.
"""
import json, os, shutil, subprocess, sys, tempfile
import numpy as np, torch, timm
from PIL import Image
from safetensors.torch import load_file

root = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..'))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, '.build', 'debug', 'patch-classify')
out = os.path.join(root, 'Tests', 'PatchClassifyTests', 'Fixtures', 'shapeworld-val')
model_dir = os.path.join(root, 'Examples', 'patch-classify', 'model')
classes = ['circle', 'square', 'triangle', 'star', 'cross', 'ring']  # ShapeWorld.classes, index order
# Validation offsets the shipped model misclassifies (one per class, logit margin > 0.15 in
# timm): circle 416, square 345, triangle 610, star 431, cross 504, ring 1771.
wrong = [416, 345, 610, 431, 504, 1771]
chosen = list(range(18)) + wrong

with tempfile.TemporaryDirectory() as tmp:
    images, masks = os.path.join(tmp, 'images'), os.path.join(tmp, 'masks')
    subprocess.run([binary, '--export-shapeworld', images, '--export-masks', masks, '--train-size', '64',
                    '--val-size', '2000', '--batch-size', '64', '--image-size', '64', '--seed', '0'], check=True)
    shutil.rmtree(out, ignore_errors=True)
    for i in chosen:
        name = (1_000_000_000 + i) % 6
        relative = os.path.join(classes[name], '%06d.png' % i)
        for kind, source in (('images', images), ('masks', masks)):
            os.makedirs(os.path.join(out, kind, classes[name]), exist_ok=True)
            shutil.copy(os.path.join(source, 'val', relative), os.path.join(out, kind, relative))

config = json.load(open(os.path.join(model_dir, 'config.json')))
model = timm.models.vision_transformer.VisionTransformer(**config['model_args']).eval()
model.load_state_dict(load_file(os.path.join(model_dir, 'model.safetensors')), strict=True)
mean = np.array(config['pretrained_cfg']['mean'], dtype=np.float32)
std = np.array(config['pretrained_cfg']['std'], dtype=np.float32)

records = []
for c in sorted(classes):  # ImageFolder order: classes sorted by name, files sorted by name
    for file in sorted(os.listdir(os.path.join(out, 'images', c))):
        x = np.asarray(Image.open(os.path.join(out, 'images', c, file)).convert('RGB'), dtype=np.float32) / 255
        x = torch.from_numpy(((x - mean) / std).transpose(2, 0, 1)[None].copy())
        with torch.no_grad():
            logits = model(x)[0]
        records.append({'source': f'{c}/{file}', 'label': c, 'predicted': classes[int(logits.argmax())],
                        'logits': [round(float(v), 6) for v in logits]})
accuracy = sum(r['label'] == r['predicted'] for r in records) / len(records)
json.dump({'model': 'Examples/patch-classify/model', 'timm': timm.__version__, 'torch': torch.__version__,
           'class_names': classes, 'accuracy': accuracy, 'images': records},
          open(os.path.join(out, 'timm_predictions.json'), 'w'), indent=1)
print(f'{len(records)} images, timm accuracy {accuracy:.4f}; wrote {out}')
