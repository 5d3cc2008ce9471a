"""The Python peer of `vit-attend FOLDER --out-dir OUT -w DIR -m cls` for the data-set
benchmark: one process, a loop over a folder's JPEGs, each decoded with Pillow, fitted to
224 (they already are) and normalised, timm's ViT-S/16 (weights from DIR/model.safetensors)
with its attention recorded through hooks (fused attention off), the class token's
last-layer attention averaged over heads, and a matplotlib figure like vit-attend's (the
input, the map over it with a colour bar, a title) saved as PNG, plus a JSON line per image
(top class, probability). Threads: torch's, set by --threads.

  python3 Benchmarks/scripts/python_folder_loop.py FOLDER WEIGHTS_DIR OUT_DIR [--threads N]
  python3 Benchmarks/scripts/python_folder_loop.py --make-inputs FOLDER COUNT      # 224x224 JPEGs
  python3 Benchmarks/scripts/python_folder_loop.py --make-checkpoint DIR           # random ViT-S/16
"""
import json, os, sys, time

if sys.argv[1] == '--make-inputs':
    # Deterministic 224x224 crops of the sample photos, saved as JPEG quality 90.
    import random
    from PIL import Image
    folder, count = sys.argv[2], int(sys.argv[3])
    here = os.path.join(os.path.dirname(__file__), '..', '..', 'images')
    photos = [Image.open(os.path.join(here, n)).convert('RGB') for n in ('cat.png', 'coffee.png', 'astronaut.png', 'rocket.jpg')]
    rng = random.Random(0)
    for i in range(count):
        p = photos[i % len(photos)]
        side = rng.randint(min(p.size) // 2, min(p.size))
        x, y = rng.randint(0, p.width - side), rng.randint(0, p.height - side)
        sub = os.path.join(folder, f'class{i % 10}')
        os.makedirs(sub, exist_ok=True)
        p.crop((x, y, x + side, y + side)).resize((224, 224), Image.BICUBIC).save(os.path.join(sub, f'{i:05d}.jpg'), quality=90)
    sys.exit(0)

import torch, timm, timm.layers
if sys.argv[1] == '--make-checkpoint':
    from safetensors.torch import save_file
    torch.manual_seed(0)
    model = timm.create_model('vit_small_patch16_224', pretrained=False)
    os.makedirs(sys.argv[2], exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(sys.argv[2], 'model.safetensors'))
    json.dump({'architecture': 'vit_small_patch16_224', 'num_classes': 1000,
               'model_args': {'patch_size': 16, 'embed_dim': 384, 'depth': 12, 'num_heads': 6},
               'pretrained_cfg': {'mean': [0.5, 0.5, 0.5], 'std': [0.5, 0.5, 0.5], 'input_size': [3, 224, 224]}},
              open(os.path.join(sys.argv[2], 'config.json'), 'w'))
    sys.exit(0)

import numpy as np
import torch.nn.functional as F
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from PIL import Image
from safetensors.torch import load_file

folder, weights, out = sys.argv[1:4]
if '--threads' in sys.argv:
    torch.set_num_threads(int(sys.argv[sys.argv.index('--threads') + 1]))
timm.layers.set_fused_attn(False)
model = timm.create_model('vit_small_patch16_224', pretrained=False).eval()
model.load_state_dict(load_file(os.path.join(weights, 'model.safetensors')))
attentions = []
for block in model.blocks:
    block.attn.attn_drop.register_forward_hook(lambda m, i, o: attentions.append(i[0]))

files = sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs
               if f.lower().endswith(('.jpg', '.jpeg', '.png')))
os.makedirs(out, exist_ok=True)
start = time.time()
with open(os.path.join(out, 'index.jsonl'), 'w') as index:
    for i, rel in enumerate(files):
        img = Image.open(os.path.join(folder, rel)).convert('RGB')
        if img.size != (224, 224):
            img = img.resize((224, 224), Image.BICUBIC)
        x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1)
        x = ((x - 0.5) / 0.5)[None]
        attentions.clear()
        with torch.inference_mode():
            logits = model(x)
        p = logits.softmax(-1)[0]
        cls = attentions[-1][0, :, 0, 1:].mean(0).reshape(1, 1, 14, 14)
        heat = F.interpolate(cls, size=(224, 224), mode='bicubic', align_corners=False)[0, 0].numpy()
        fig, (a, b) = plt.subplots(1, 2, figsize=(6.4, 3.4), dpi=100)
        a.imshow(img); a.set_title('input 224x224'); a.axis('off')
        b.imshow(img); m = b.imshow(heat, cmap='inferno', alpha=0.6); b.axis('off')
        b.set_title('class-token attention, layer 11'); fig.colorbar(m, ax=b, fraction=0.046)
        fig.suptitle('vit_small_patch16_224')
        target = os.path.join(out, os.path.splitext(rel)[0] + '.png')
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fig.savefig(target); plt.close(fig)
        index.write(json.dumps({'input': rel, 'top_index': int(p.argmax()), 'top_probability': float(p.max())}) + '\n')
elapsed = time.time() - start
print(f'{len(files)} images in {elapsed:.1f} s: {len(files) / elapsed:.2f} images/s', file=sys.stderr)
