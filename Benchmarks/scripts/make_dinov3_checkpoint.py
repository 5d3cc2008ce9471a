"""Writes a full-size timm DINOv3 checkpoint with random weights (no hub access here) for the
`--map pca` benchmark: model.safetensors + config.json in timm's hub layout.

    python3 Benchmarks/scripts/make_dinov3_checkpoint.py OUT_DIR [architecture]

Default architecture: vit_small_patch16_dinov3 (ViT-S/16, 21.6M parameters, 4 registers,
RoPE). torch 2.15, timm 1.0.31.
"""
import json, os, sys
import torch, timm
from safetensors.torch import save_file

out = sys.argv[1]
architecture = sys.argv[2] if len(sys.argv) > 2 else 'vit_small_patch16_dinov3'
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
model = timm.create_model(architecture, pretrained=False, num_classes=0).eval()
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(out, 'model.safetensors'))
cfg = model.pretrained_cfg
json.dump({'architecture': architecture + '.random', 'num_classes': 0, 'num_features': model.num_features,
           'global_pool': model.global_pool, 'model_args': {},
           'pretrained_cfg': {'input_size': list(cfg['input_size']), 'mean': list(cfg['mean']), 'std': list(cfg['std']),
                              'interpolation': cfg.get('interpolation', 'bicubic'), 'crop_pct': cfg.get('crop_pct', 1.0)}},
          open(os.path.join(out, 'config.json'), 'w'), indent=2)
print(architecture, sum(p.numel() for p in model.parameters()), 'parameters')
