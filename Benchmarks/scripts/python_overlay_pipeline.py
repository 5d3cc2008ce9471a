"""The Python equivalent of `vit-attend IMAGE --weights DIR --map cls --resize none --out OUT`:
decode with Pillow, crop to a multiple of 16, timm ViT-S/16 from a safetensors file with the
position embeddings resampled to the image's grid (dynamic_img_size), attention recorded
(fused attention off, a hook on attn_drop), the class token's last-layer attention averaged
over heads, bicubic upsampling, matplotlib's inferno colormap blended with numpy, PNG saved
with Pillow. Timed as a whole process, interpreter start and imports included:

  python3 Benchmarks/scripts/python_overlay_pipeline.py IMAGE WEIGHTS_DIR OUT.png
"""
import sys
import numpy as np
import torch, timm, timm.layers
import torch.nn.functional as F
from PIL import Image
from matplotlib import colormaps
from safetensors.torch import load_file

image_path, weights, out = sys.argv[1:4]
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else torch.get_num_threads())
timm.layers.set_fused_attn(False)
img = Image.open(image_path).convert('RGB')
w, h = img.width // 16 * 16, img.height // 16 * 16
img = img.crop(((img.width - w) // 2, (img.height - h) // 2, (img.width - w) // 2 + w, (img.height - h) // 2 + h))
x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1)
x = ((x - 0.5) / 0.5)[None]
model = timm.create_model('vit_small_patch16_224', pretrained=False, dynamic_img_size=True).eval()
model.load_state_dict(load_file(f'{weights}/model.safetensors'))
attentions = []
for block in model.blocks:
    block.attn.attn_drop.register_forward_hook(lambda m, i, o: attentions.append(i[0]))
with torch.inference_mode():
    model(x)
cls = attentions[-1][0, :, 0, 1:].mean(0).reshape(1, 1, h // 16, w // 16)
heat = F.interpolate(cls, size=(h, w), mode='bicubic', align_corners=False)[0, 0].numpy()
heat = (heat - heat.min()) / max(heat.max() - heat.min(), 1e-12)
colored = colormaps['inferno'](heat)[..., :3]
blend = 0.4 * np.asarray(img, dtype=np.float32) / 255 + 0.6 * colored
Image.fromarray((blend * 255).round().astype(np.uint8)).save(out)
