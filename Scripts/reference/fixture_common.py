"""What the model-family fixture scripts share (dinov3_fixtures.py, rope_family_fixtures.py,
aimv2_fixtures.py, naflex_fixtures.py, vit_family_fixtures.py): the test-pattern PNG, timm's
normalisation, the attention capture at attn_drop, the weight perturbation and timm's hub
layout. Written against torch 2.15, timm 1.0.31, transformers 5.25.0.

The scripts run as `python3 Scripts/reference/<script>.py`, so this folder is on sys.path and
they import this module by name. Every helper keeps the scripts' outputs byte for byte: each
draws from its own seeded generator (the PNG noise from numpy's default_rng(3), the weights
from torch.Generator seed 1), never from the global streams the scripts seed.
"""
import json, os
import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'Tests', 'VAModelsTests', 'Fixtures')
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
HALF_MEAN, HALF_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)


def png(folder, h, w, name, noise):
    """Writes the test pattern (three smooth waves plus `noise` times Gaussian noise, clipped to
    [0, 1]) as folder/name, an h x w RGB PNG, and returns its pixels as [3, h, w] float32 in [0, 1].
    Smooth pixels keep the PNGs small; more noise gives attention more to tell apart."""
    ys, xs = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing='ij')
    rng = np.random.default_rng(3)
    rgb = np.stack([np.sin(6 * xs + 2 * ys), np.cos(5 * ys - 3 * xs), xs * ys], -1) * 0.4 + 0.5
    rgb = np.clip(rgb + noise * rng.standard_normal((h, w, 3)), 0, 1)
    pixels = (rgb * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(folder, name))
    return torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1)


def normalised(pixels, mean, std):
    """(pixels - mean) / std per channel, as timm's transform normalises: pixels [3, H, W]."""
    return (pixels - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


def perturb(model, qk, scale, norm=0.2, tokens=(), pos_embed=0.0, bias=0.05, extra=None):
    """Random but informative weights, drawn from one generator (seed 1) in parameter order:
    parameters whose name contains one of `qk` scaled by `scale` (peaky attention), 1-D norm
    parameters plus `norm` noise, head.weight redrawn at 0.3, names ending in one of `tokens`
    plus 0.5 noise, position tables (pos_embed, position_embedding.weight) plus `pos_embed`
    noise, then `extra(name, p, g)` for a script's own rules, then 1-D biases outside norms
    plus `bias` noise. Each parameter meets at most one rule that draws, so the rules' order
    does not move the stream."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if any(k in name for k in qk):
                p.mul_(scale)
            if 'norm' in name and p.dim() == 1:
                p.add_(norm * torch.randn(p.shape, generator=g))
            if name == 'head.weight':
                # BEiT and EVA scale their heads' init by 1e-3; logits would be the bias alone.
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            if name.endswith(tokens):
                p.add_(0.5 * torch.randn(p.shape, generator=g))
            if pos_embed and name.endswith(('pos_embed', 'position_embedding.weight')):
                # A smooth but varied table, so resizing it shows.
                p.add_(pos_embed * torch.randn(p.shape, generator=g))
            if extra is not None:
                extra(name, p, g)
            if bias and 'bias' in name and p.dim() == 1 and 'norm' not in name:
                p.add_(bias * torch.randn(p.shape, generator=g))


def timm_run(model, x, tokens=True, pooled=False, pool_reads_prefix=False):
    """One input [3, H, W] through a timm model with fused attention off: input, logits [classes],
    pooled [D] (forward_head's pre-logits, if `pooled`), tokens [T, D] (forward_features, if
    `tokens`), attn.{l} [heads, T, T] (the softmax each block hands attn_drop) and, for a MAP
    head, attn.pool [pool heads, 1, N]: AttentionPoolLatent's weights recomputed from its
    modules (it has no hook point) over the patches. `pool_reads_prefix`: the pool reads every
    token (Eva's), and the patches' columns of its weights are kept."""
    captured = []
    hooks = [block.attn.attn_drop.register_forward_hook(lambda m, i, o: captured.append(i[0][0].detach().clone()))
             for block in model.blocks]
    with torch.no_grad():
        features = model.forward_features(x[None])
        pre_logits = model.forward_head(features, pre_logits=True)[0] if pooled else None
        logits = model.forward_head(features)[0]
    for h in hooks:
        h.remove()
    tensors = {'input': x.contiguous(), 'logits': logits.contiguous()}
    if pooled:
        tensors['pooled'] = pre_logits.clone()
    if tokens:
        tensors['tokens'] = features[0].clone()
    for l, a in enumerate(captured):
        tensors[f'attn.{l}'] = a.contiguous()
    pool = getattr(model, 'attn_pool', None)
    if pool is not None:
        with torch.no_grad():
            keys = features if pool_reads_prefix else features[:, model.num_prefix_tokens:]
            B, N, C = keys.shape
            q = pool.q(pool.latent).reshape(1, 1, pool.num_heads, pool.head_dim).transpose(1, 2)
            k = pool.kv(keys).reshape(B, N, 2, pool.num_heads, pool.head_dim).permute(2, 0, 3, 1, 4)[0]
            weights = ((q * pool.scale) @ k.transpose(-2, -1)).softmax(-1)[0]
            tensors['attn.pool'] = (weights[..., model.num_prefix_tokens:] if pool_reads_prefix else weights).contiguous()
    peak = torch.stack([a.max(-1).values.mean() for a in captured]).mean().item()
    print(f'  T={captured[0].shape[-1]} mean row max {peak:.2f}, logits {logits.abs().max():.2f}')
    return tensors


def save_timm_hub(folder, model, architecture, args, mean, std, side=224):
    """timm's hub layout: model.safetensors (the state dict) and config.json (the architecture
    with a `fixture` tag, num_classes, num_features, global_pool, pretrained_cfg with a
    side x side input, and model_args for the shrunk size)."""
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(folder, 'model.safetensors'))
    config = {'architecture': architecture + '.fixture', 'num_classes': model.num_classes, 'num_features': model.num_features,
              'global_pool': model.global_pool,
              'pretrained_cfg': {'tag': 'fixture', 'input_size': [3, side, side], 'mean': list(mean), 'std': list(std),
                                 'interpolation': 'bicubic', 'crop_pct': 1.0},
              'model_args': args}
    json.dump(config, open(os.path.join(folder, 'config.json'), 'w'), indent=2)
