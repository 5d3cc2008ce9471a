"""Writes the AIMv2 fixture (timm `aimv2_*`: RmsNorm everywhere, an RmsNorm on the patch
embedding, unpacked SwiGLU MLP without biases, no class token, average pooling, no fc_norm)
into Tests/VAModelsTests/Fixtures/timm_aimv2/, and timm's `test_vit4` (norm_layer='rmsnorm',
eps 1e-6, RmsNorm fc_norm, a register token) into Fixtures/timm_test_vit4/, and timm's RmsNorm
forward and autograd backward on a small random case into Tests/VALayersTests/RMSNormReference.swift.

Regenerate: python3 Scripts/reference/aimv2_fixtures.py   (torch 2.15, timm 1.0.31)

Each case folder holds
  model.safetensors, config.json   timm's hub layout (timm/aimv2_* ships it; Apple's original
                                   preprocessor.* / trunk.* names are only remapped by timm's
                                   checkpoint_filter_fn): architecture (a real timm name with a
                                   pretrained tag), pretrained_cfg and model_args for the shrunken size
  input.png, reference.safetensors    224x224 (timm_aimv2) or 32x48 (timm_test_vit4)
  input2.png, reference2.safetensors  96x160 through the same model (dynamic_img_size=True
                                   resamples pos_embed), timm_aimv2 only
The references hold input [3, H, W] (the PNG normalised as timm does), attn.{l} [heads, T, T]
of every layer (fused attention off, hooked at attn_drop), logits [5] and tokens [T, D]
(forward_features: after the final norm). Weights are random (no hub access), q/k scaled so
attention is peaky, every norm weight perturbed around 1 so RmsNorm's gain matters.
"""
import json, os
import numpy as np
import torch
import timm
import timm.layers
from PIL import Image
from safetensors.torch import save_file

torch.manual_seed(0)
timm.layers.set_fused_attn(False)
root = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VAModelsTests', 'Fixtures')
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


def perturb(model, scale=14.0):
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('attn.qkv.weight'):
                p.mul_(scale)
            if 'norm' in name and p.dim() == 1:
                p.add_(0.3 * torch.randn(p.shape, generator=g))
            if name == 'head.weight':
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            if name in ('reg_token',):
                p.add_(0.5 * torch.randn(p.shape, generator=g))
            if name == 'pos_embed':
                p.add_(0.3 * torch.randn(p.shape, generator=g))


def png(folder, h, w, name):
    # Smooth pixels (little noise) so the PNGs stay small at 224x224.
    ys, xs = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing='ij')
    rng = np.random.default_rng(3)
    rgb = np.stack([np.sin(6 * xs + 2 * ys), np.cos(5 * ys - 3 * xs), xs * ys], -1) * 0.4 + 0.5
    rgb = np.clip(rgb + 0.02 * rng.standard_normal((h, w, 3)), 0, 1)
    pixels = (rgb * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(folder, name))
    return torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1)


def normalised(pixels, mean, std):
    return (pixels - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


def run(model, x):
    """Every layer's attention, the final tokens and the logits for one input."""
    captured = []
    hooks = [block.attn.attn_drop.register_forward_hook(lambda m, i, o: captured.append(i[0][0].detach().clone()))
             for block in model.blocks]
    with torch.no_grad():
        features = model.forward_features(x[None])
        logits = model.forward_head(features)[0]
    for h in hooks:
        h.remove()
    tensors = {'input': x.contiguous(), 'logits': logits.contiguous(), 'tokens': features[0].contiguous()}
    for l, a in enumerate(captured):
        tensors[f'attn.{l}'] = a.contiguous()
    peak = torch.stack([a.max(-1).values.mean() for a in captured]).mean().item()
    print(f'  T={captured[0].shape[-1]} mean row max {peak:.2f}, logits {logits.abs().max():.2f}')
    return tensors


def case(name, architecture, inputs, side, mean, std, **args):
    print(name)
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    model = timm.create_model(architecture, pretrained=False, **args).eval()
    perturb(model)
    for i, (h, w) in enumerate(inputs):
        suffix = '' if i == 0 else str(i + 1)
        x = normalised(png(folder, h, w, f'input{suffix}.png'), mean, std)
        save_file(run(model, x), os.path.join(folder, f'reference{suffix}.safetensors'))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(folder, 'model.safetensors'))
    config = {'architecture': architecture + '.fixture', 'num_classes': model.num_classes, 'num_features': model.num_features,
              'global_pool': model.global_pool,
              'pretrained_cfg': {'tag': 'fixture', 'input_size': [3, side, side], 'mean': list(mean), 'std': list(std),
                                 'interpolation': 'bicubic', 'crop_pct': 1.0},
              'model_args': args}
    json.dump(config, open(os.path.join(folder, 'config.json'), 'w'), indent=2)


shrunk = dict(patch_size=16, embed_dim=64, depth=2, num_heads=2, num_classes=5, dynamic_img_size=True)
case('timm_aimv2', 'aimv2_large_patch14_224', [(224, 224), (96, 160)], 224, CLIP_MEAN, CLIP_STD, img_size=224, **shrunk)
case('timm_test_vit4', 'test_vit4', [(32, 48)], 32, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), img_size=32, **shrunk)


def rms_norm_reference():
    """timm.layers.RmsNorm(8, eps=1e-5) on x [3, 8] with a perturbed weight; the upstream
    gradient g gives dx and dweight through PyTorch autograd."""
    g = torch.Generator().manual_seed(5)
    norm = timm.layers.RmsNorm(8, eps=1e-5)
    with torch.no_grad():
        norm.weight.copy_(1 + 0.5 * torch.randn(8, generator=g))
    x = (torch.randn(3, 8, generator=g) * 2 + 0.3).requires_grad_(True)
    upstream = torch.randn(3, 8, generator=g)
    y = norm(x)
    y.backward(upstream)
    table = {'x': x, 'weight': norm.weight, 'y': y, 'upstream': upstream, 'dx': x.grad, 'dweight': norm.weight.grad}
    lines = ['// Generated by Scripts/reference/aimv2_fixtures.py (torch 2.15, timm 1.0.31). Do not edit.',
             '// swift-format-ignore-file', '// Regenerate: python3 Scripts/reference/aimv2_fixtures.py', '',
             "/// timm's `RmsNorm(8, eps=1e-5)` forward and PyTorch autograd backward: name -> (shape, row-major float32 values).",
             'let rmsNormReference: [String: (shape: [Int], values: [Float])] = [']
    for name, t in table.items():
        values = ', '.join(repr(float(v)) for v in t.detach().reshape(-1).tolist())
        lines.append(f'  "{name}": ({list(t.shape)}, [{values}]),')
    lines.append(']')
    path = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VALayersTests', 'RMSNormReference.swift')
    open(path, 'w').write('\n'.join(lines) + '\n')


rms_norm_reference()
print('ok')
