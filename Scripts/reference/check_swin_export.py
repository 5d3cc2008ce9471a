"""Proof that timm loads the Swin `patch-classify --model swin` saves, and computes what this
toolkit computes from it.

Usage: swift build --product patch-classify && python3 Scripts/reference/check_swin_export.py \
           [MODEL_DIR (default Examples/patch-classify/model-swin)] [PATCH_CLASSIFY_BINARY]
       (torch 2.15, timm 1.0.31, Pillow, safetensors; CPU)

1. Builds timm's model from the folder's config.json alone, as a timm hub config is read:
   timm.create_model(architecture, pretrained=False, **model_args), then load_state_dict with
   strict=True from model.safetensors (it fails on any missing, unexpected or misshapen tensor).
2. Runs it on the 25 ShapeWorld validation images of Tests/PatchClassifyTests/Fixtures/
   shapeworld-val (Pillow RGB, (x / 255 - mean) / std with the config's mean and std, no resize)
   and writes Tests/PatchClassifyTests/Fixtures/swin-export/timm_predictions.json (per image:
   path below images/, class, timm's predicted class and logits; the accuracy), which
   SwinExportTests compares with `patch-classify evaluate`'s path (logits within 1e-4).
3. Exports 1,000 ShapeWorld validation images (seed 0, 64 pixels: the shipped run's validation
   data) with `patch-classify --export-shapeworld`, scores them with `patch-classify evaluate
   --split val --out`, and with timm, and prints both accuracies and how many predictions
   agree, so the log shows the agreement at scale.
"""
import json, os, subprocess, sys, tempfile
import numpy as np, torch, timm
from PIL import Image
from safetensors.torch import load_file

root = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..'))
model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, 'Examples', 'patch-classify', 'model-swin')
binary = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, '.build', 'debug', 'patch-classify')
fixture = os.path.join(root, 'Tests', 'PatchClassifyTests', 'Fixtures', 'shapeworld-val')
out = os.path.join(root, 'Tests', 'PatchClassifyTests', 'Fixtures', 'swin-export')

config = json.load(open(os.path.join(model_dir, 'config.json')))
print(f'timm {timm.__version__}, torch {torch.__version__}; {model_dir}')
print(f"architecture {config['architecture']}, model_args {json.dumps(config['model_args'], sort_keys=True)}")
model = timm.create_model(config['architecture'], pretrained=False, **config['model_args']).eval()
state = load_file(os.path.join(model_dir, 'model.safetensors'))
result = model.load_state_dict(state, strict=True)
print(f'load_state_dict(strict=True): {len(state)} tensors, missing {result.missing_keys}, unexpected {result.unexpected_keys}')
print(f'{sum(p.numel() for p in model.parameters())} parameters; windows/shifts '
      f'{[(b.window_size, b.shift_size) for layer in model.layers for b in layer.blocks]}')
mean = np.array(config['pretrained_cfg']['mean'], dtype=np.float32)
std = np.array(config['pretrained_cfg']['std'], dtype=np.float32)
classes = config['label_names']


def logits_of(path):
    x = np.asarray(Image.open(path).convert('RGB'), dtype=np.float32) / 255
    x = torch.from_numpy(((x - mean) / std).transpose(2, 0, 1)[None].copy())
    with torch.no_grad():
        return model(x)[0]


records = []
for c in sorted(classes):  # ImageFolder order: classes sorted by name, files sorted by name
    for file in sorted(os.listdir(os.path.join(fixture, 'images', c))):
        logits = logits_of(os.path.join(fixture, 'images', c, file))
        records.append({'source': f'{c}/{file}', 'label': c, 'predicted': classes[int(logits.argmax())],
                        'logits': [round(float(v), 6) for v in logits]})
accuracy = sum(r['label'] == r['predicted'] for r in records) / len(records)
os.makedirs(out, exist_ok=True)
json.dump({'model': os.path.relpath(model_dir, root), 'timm': timm.__version__, 'torch': torch.__version__,
           'class_names': classes, 'accuracy': accuracy, 'images': records},
          open(os.path.join(out, 'timm_predictions.json'), 'w'), indent=1)
print(f'fixture: {len(records)} images, timm accuracy {accuracy:.4f}; wrote {os.path.relpath(out, root)}/timm_predictions.json')

with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, 'shapeworld')
    subprocess.run([binary, '--export-shapeworld', data, '--train-size', '64', '--val-size', '1000', '--batch-size', '64',
                    '--image-size', str(config['model_args']['img_size']), '--seed', '0'], check=True, stdout=subprocess.DEVNULL)
    scored = os.path.join(tmp, 'evaluate.json')
    subprocess.run([binary, 'evaluate', '--weights', model_dir, '--data', data, '--split', 'val', '--out', scored], check=True,
                   stdout=subprocess.DEVNULL)
    swift = json.load(open(scored))
    agree, timm_correct = 0, 0
    for p in swift['predictions']:
        logits = logits_of(os.path.join(data, p['source']))  # sources are relative to the root: val/<class>/<file>
        predicted = classes[int(logits.argmax())]
        agree += predicted == p['predicted']
        timm_correct += predicted == p['label']
    n = len(swift['predictions'])
    print(f"1,000 ShapeWorld validation images: patch-classify evaluate accuracy {swift['correct'] / n:.4f}, "
          f"timm accuracy {timm_correct / n:.4f}, predictions agree on {agree} of {n}")
