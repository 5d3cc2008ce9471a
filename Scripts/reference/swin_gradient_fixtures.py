"""Writes Tests/PatchClassifyTests/Fixtures/swin-gradients/: a tiny random timm Swin v1, a batch
of two images, and PyTorch autograd's gradients of a random projection of its logits with
respect to every parameter and the input, in float64.

Regenerate: python3 Scripts/reference/swin_gradient_fixtures.py   (torch 2.15, timm 1.0.31)

The model is timm's SwinTransformer built from swin_tiny_patch4_window7_224 with
img_size 48, patch_size 4, embed_dim 8, depths (2, 2), num_heads (1, 2), window_size 4 and 5
classes, so every part of the Swin forward has a backward to check: stage 0 is a 12x12 map in
9 windows of 4x4, its second block shifted by 2 with the shift mask; the patch merging takes it
to 6x6, which timm rolls and then pads to 8x8 (4 windows, the shifted block's mask covering
padded cells); relative position bias tables, LayerNorms, GELU MLPs, the mean pool and the head.
Weights are timm's initialisation, then made informative (seed 1): qkv weights times 8 (peaky
attention), the head's weight redrawn with std 0.3, bias tables redrawn with std 1, LayerNorm gains 1 + 0.3 noise and shifts 0.2 noise,
all other biases 0.1 noise, so no gradient is trivially zero.

Files:
  model.safetensors, config.json   timm's hub layout (as SwinTransformer.save writes it), float32
  reference.safetensors            input [2, 3, 48, 48] (float32), projection [2, 5], logits [2, 5],
                                   grad.input [2, 3, 48, 48], grad.<timm parameter name> for every
                                   parameter: d(sum(logits * projection)) / d(.), computed in float64
                                   from the float32 weights and input (stored as float32)
"""
import json, os
import torch
import timm
import timm.layers
from safetensors.torch import save_file

torch.manual_seed(0)
timm.layers.set_fused_attn(False)
folder = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'PatchClassifyTests', 'Fixtures', 'swin-gradients')
os.makedirs(folder, exist_ok=True)
ARCH = 'swin_tiny_patch4_window7_224'
ARGS = dict(img_size=48, patch_size=4, embed_dim=8, depths=[2, 2], num_heads=[1, 2], window_size=4, num_classes=5)
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

model = timm.create_model(ARCH, pretrained=False, drop_path_rate=0.0, **ARGS).eval()
g = torch.Generator().manual_seed(1)
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.endswith('qkv.weight'):
            p.mul_(8.0)
        elif name == 'head.fc.weight':
            p.copy_(0.3 * torch.randn(p.shape, generator=g))
        elif name.endswith('relative_position_bias_table'):
            p.copy_(torch.randn(p.shape, generator=g))
        elif 'norm' in name and name.endswith('weight'):
            p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
        elif name.endswith('bias'):
            p.copy_((0.2 if 'norm' in name else 0.1) * torch.randn(p.shape, generator=g))
print('windows/shifts:', [(b.window_size, b.shift_size) for layer in model.layers for b in layer.blocks])

state = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
save_file(state, os.path.join(folder, 'model.safetensors'))
config = {'architecture': ARCH, 'num_classes': 5, 'num_features': model.num_features, 'global_pool': 'avg',
          'pretrained_cfg': {'input_size': [3, 48, 48], 'mean': MEAN, 'std': STD, 'interpolation': 'bicubic', 'crop_pct': 1.0},
          'model_args': ARGS}
json.dump(config, open(os.path.join(folder, 'config.json'), 'w'), indent=2)

x = torch.randn(2, 3, 48, 48, generator=g)
projection = torch.randn(2, 5, generator=g)
model = model.double()
xd = x.double().requires_grad_(True)
logits = model(xd)
(logits * projection.double()).sum().backward()
tensors = {'input': x, 'projection': projection, 'logits': logits.detach().float(), 'grad.input': xd.grad.float()}
for name, p in model.named_parameters():
    tensors['grad.' + name] = p.grad.float().contiguous()
save_file(tensors, os.path.join(folder, 'reference.safetensors'))
peaks = [b.attn.relative_position_bias_table.shape for layer in model.layers for b in layer.blocks]
print(f'{sum(p.numel() for p in model.parameters())} parameters, tables {peaks}, logits {logits.detach().numpy().round(3).tolist()}')
