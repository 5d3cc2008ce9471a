"""Writes a full-size Swin checkpoint with random weights (no hub access needed) in timm's hub
layout, for trying vit-attend's Swin figures at real size (56x56 first map, 12 blocks):

    python3 Scripts/reference/swin_random_checkpoint.py OUT_DIR [ARCH]

ARCH is a timm name (default swin_tiny_patch4_window7_224; swinv2_tiny_window8_256 works too).
OUT_DIR gets model.safetensors and config.json (architecture, num_classes, pretrained_cfg with
input_size, mean, std). Untrained: its attention is near uniform inside each window, so its
figures show Swin's geometry (windows, shifts, merging), not what a trained model looks at.
torch 2.15, timm 1.0.31; seed 0.
"""
import json, os, sys
import timm
import torch
from safetensors.torch import save_file

out = sys.argv[1]
arch = sys.argv[2] if len(sys.argv) > 2 else 'swin_tiny_patch4_window7_224'
torch.manual_seed(0)
model = timm.create_model(arch, pretrained=False).eval()
os.makedirs(out, exist_ok=True)
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(out, 'model.safetensors'))
cfg = model.pretrained_cfg
json.dump({'architecture': arch, 'num_classes': model.num_classes, 'num_features': model.num_features, 'global_pool': 'avg',
           'pretrained_cfg': {k: cfg[k] for k in ('input_size', 'mean', 'std', 'interpolation', 'crop_pct')}},
          open(os.path.join(out, 'config.json'), 'w'), indent=2)
print('wrote', out)
