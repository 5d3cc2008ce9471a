"""ShapeWorld validation samples with masks, and timm's predictions for them by the shipped
patch-classify model: the fixture `patch-classify evaluate` is checked against.

Regenerate: swift build --product patch-classify && python3 Scripts/reference/patch_classify_fixtures.py
            (torch 2.15, timm 1.0.31, Pillow, safetensors; CPU)

1. Runs `patch-classify --export-shapeworld DIR --export-masks MASKS --val-size 2000` (seed 0,
   64 pixels: the data the shipped run, Examples/patch-classify/model, was validated on; file
   names are the validation offsets i, sample 10^9 + i), and offset 15376 with --val-size 15377.
2. Copies 25 of them into Tests/PatchClassifyTests/Fixtures/shapeworld-val/images/<class>/
   and their masks into .../masks/<class>/: the first 18 (3 per class); validation offset
   15376, the one image of the first 20,000 the shipped model gets wrong (a triangle it
   calls a square: so the test checks which class is predicted, not only that it is the
   right one; `patch-classify evaluate -w Examples/patch-classify/model --data shapeworld
   --val-size 20000` finds it); and, per class, the image of the first 2,000 with the
   smallest logit margin between timm's top two classes (the predictions most sensitive
   to a numerical difference).
3. Builds timm's VisionTransformer with the checkpoint's conv stem (HybridEmbed(ConvStem), as
   pointing_game_check.py's `build`, which asserts the load is complete), runs it on each fixture image (Pillow RGB,
   (x / 255 - mean) / std, no resize: the images are already 64x64) and writes
   .../timm_predictions.json: per image its path below images/, class, timm's predicted
   class and logits, and the accuracy.
"""
import json, os, shutil, subprocess, sys, tempfile
import numpy as np, torch, timm
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pointing_game_check import build  # noqa: E402

root = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..'))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, '.build', 'debug', 'patch-classify')
out = os.path.join(root, 'Tests', 'PatchClassifyTests', 'Fixtures', 'shapeworld-val')
model_dir = os.path.join(root, 'Examples', 'patch-classify', 'model')
classes = ['circle', 'square', 'triangle', 'star', 'cross', 'ring']  # ShapeWorld.classes, index order
# The one validation offset of the first 20,000 the shipped model misclassifies.
wrong = 15376

config = json.load(open(os.path.join(model_dir, 'config.json')))
model = build(model_dir)
mean = np.array(config['pretrained_cfg']['mean'], dtype=np.float32)
std = np.array(config['pretrained_cfg']['std'], dtype=np.float32)


def logits_of(path):
    x = np.asarray(Image.open(path).convert('RGB'), dtype=np.float32) / 255
    x = torch.from_numpy(((x - mean) / std).transpose(2, 0, 1)[None].copy())
    with torch.no_grad():
        return model(x)[0]


def relative(i):
    return os.path.join(classes[(1_000_000_000 + i) % 6], '%06d.png' % i)


with tempfile.TemporaryDirectory() as tmp:
    images, masks = os.path.join(tmp, 'images'), os.path.join(tmp, 'masks')
    subprocess.run([binary, '--export-shapeworld', images, '--export-masks', masks, '--train-size', '64',
                    '--val-size', str(wrong + 1), '--batch-size', '64', '--image-size', '64', '--seed', '0'], check=True)
    assert classes[int(logits_of(os.path.join(images, 'val', relative(wrong))).argmax())] != relative(wrong).split('/')[0]
    closest = {}  # class -> (margin, offset) over the first 2,000, past the first 18
    for i in range(18, 2000):
        top = logits_of(os.path.join(images, 'val', relative(i))).topk(2).values
        name = relative(i).split('/')[0]
        closest[name] = min(closest.get(name, (float('inf'), -1)), (float(top[0] - top[1]), i))
    chosen = list(range(18)) + [wrong] + sorted(i for _, i in closest.values())
    print('smallest margins:', {c: round(m, 3) for c, (m, _) in closest.items()})
    shutil.rmtree(out, ignore_errors=True)
    for i in chosen:
        for kind, source in (('images', images), ('masks', masks)):
            os.makedirs(os.path.join(out, kind, os.path.dirname(relative(i))), exist_ok=True)
            shutil.copy(os.path.join(source, 'val', relative(i)), os.path.join(out, kind, relative(i)))

records = []
for c in sorted(classes):  # ImageFolder order: classes sorted by name, files sorted by name
    for file in sorted(os.listdir(os.path.join(out, 'images', c))):
        logits = logits_of(os.path.join(out, 'images', c, file))
        records.append({'source': f'{c}/{file}', 'label': c, 'predicted': classes[int(logits.argmax())],
                        'logits': [round(float(v), 6) for v in logits]})
accuracy = sum(r['label'] == r['predicted'] for r in records) / len(records)
json.dump({'model': 'Examples/patch-classify/model', 'timm': timm.__version__, 'torch': torch.__version__,
           'class_names': classes, 'accuracy': accuracy, 'images': records},
          open(os.path.join(out, 'timm_predictions.json'), 'w'), indent=1)
print(f'{len(records)} images, timm accuracy {accuracy:.4f}; wrote {out}')
