"""Writes the RoPE ViT and Perception Encoder fixtures (timm's `Eva` class with RoPE) into
Tests/VAModelsTests/Fixtures/<case>/, in timm's hub layout, each run end to end from a PNG.

Regenerate: python3 Scripts/reference/rope_family_fixtures.py   (torch 2.15, timm 1.0.31)

Cases (real architecture names, shrunk to 2 layers, patch 16, D 64, 2 heads, MLP ratio 1, 5 classes):
  timm_rope           vit_small_patch16_rope_224: axial RoPE (attn_type='rope', AttentionRope),
                      grid indexing 'xy', temperature 100, class token, no position table
  timm_rope_ape       vit_small_patch16_rope_ape_224: the same plus an absolute table (no_embed_class)
  timm_rope_mixed     vit_small_patch16_rope_mixed_224: learned mixed frequencies per block and head
                      (rope.freqs, made random and uneven below)
  timm_rope_reg_gap   vit_medium_patch16_rope_reg1_gap_256: EvaAttention, 'ij' RoPE rescaled to
                      ref_feat_shape 16x16, one register, no class token, average pooling + fc_norm
  timm_pe_core        vit_pe_core_base_patch16_224: norm_pre, RoPE with grid offset 1 rescaled to
                      14x14, absolute table with the class row, MAP head (8 heads) over every token
  timm_pe_spatial     vit_pe_spatial_tiny_patch16_512: no final norm, average pooling
  timm_pe_lang        vit_pe_lang_large_patch14_448 (patch 16 here): no final norm, layer scale
Each is built with dynamic_img_size=True, so the one model runs both inputs.

Each case folder holds
  model.safetensors, config.json   timm's hub layout (architecture with a tag, global_pool,
                                   pretrained_cfg, model_args for the shrunk size)
  input.png, reference.safetensors    224x224
  input2.png, reference2.safetensors  96x160 (a 6x10 grid: not square, not the trained grid),
                                   plus grad.input [3, H, W]: d logits[top] / d input by autograd
  reference tensors: input [3, H, W] (the PNG normalised as timm's transform does), attn.{l}
  [heads, T, T] every layer (the softmax timm's attention hands attn_drop, with fused attention
  off), logits [5], pooled [D] (forward_head's pre-logits), tokens [T, D] (forward_features),
  attn.pool [pool heads, 1, N] for MAP heads: AttentionPoolLatent's weights recomputed from its
  modules; Eva's pool reads every token, and the patches' columns are kept (what the map shows).
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


def randomise(model, scale=10.0):
    """Random but informative weights: q/k scaled so attention is peaky, layer scales near 0.5
    (timm's 1e-5 init would hide the blocks), uneven learned RoPE frequencies, a visible table."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('attn.qkv.weight') or name == 'attn_pool.q.weight':
                p.mul_(scale)
            if 'norm' in name and p.dim() == 1:
                p.add_(0.2 * torch.randn(p.shape, generator=g))
            if name == 'head.weight':
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            if name.endswith('gamma_1') or name.endswith('gamma_2'):
                p.copy_(0.5 + 0.2 * torch.randn(p.shape, generator=g))
            if name == 'rope.freqs':
                # init_random_2d_freqs rotates one magnitude ladder per head; scale each entry too.
                p.mul_(1 + 0.5 * torch.randn(p.shape, generator=g))
            if name == 'pos_embed':
                p.add_(0.5 * torch.randn(p.shape, generator=g))
            if name in ('cls_token', 'reg_token', 'attn_pool.latent'):
                p.add_(0.5 * torch.randn(p.shape, generator=g))
            if ('bias' in name) and p.dim() == 1 and 'norm' not in name:
                p.add_(0.05 * torch.randn(p.shape, generator=g))


def png(folder, h, w, name):
    ys, xs = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing='ij')
    rng = np.random.default_rng(3)
    rgb = np.stack([np.sin(6 * xs + 2 * ys), np.cos(5 * ys - 3 * xs), xs * ys], -1) * 0.4 + 0.5
    rgb = np.clip(rgb + 0.03 * rng.standard_normal((h, w, 3)), 0, 1)
    pixels = (rgb * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(folder, name))
    return torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1)


def run(model, x):
    """Every layer's attention, logits, pre-logits, final tokens and a MAP head's attention."""
    captured = []
    hooks = [block.attn.attn_drop.register_forward_hook(lambda m, i, o: captured.append(i[0][0].detach().clone()))
             for block in model.blocks]
    with torch.no_grad():
        features = model.forward_features(x[None])
        pooled = model.forward_head(features, pre_logits=True)[0]
        logits = model.forward_head(features)[0]
    for h in hooks:
        h.remove()
    tensors = {'input': x.contiguous(), 'logits': logits.contiguous(), 'pooled': pooled.clone(),
               'tokens': features[0].clone()}
    for l, a in enumerate(captured):
        tensors[f'attn.{l}'] = a.contiguous()
    pool = getattr(model, 'attn_pool', None)
    if pool is not None:
        with torch.no_grad():
            # Eva.pool hands attn_pool every token (prefix included); AttentionPoolLatent has no hook point.
            B, N, C = features.shape
            q = pool.q(pool.latent).reshape(1, 1, pool.num_heads, pool.head_dim).transpose(1, 2)
            k = pool.kv(features).reshape(B, N, 2, pool.num_heads, pool.head_dim).permute(2, 0, 3, 1, 4)[0]
            weights = ((q * pool.scale) @ k.transpose(-2, -1)).softmax(-1)[0]
            tensors['attn.pool'] = weights[..., model.num_prefix_tokens:].contiguous()
    peak = torch.stack([a.max(-1).values.mean() for a in captured]).mean().item()
    print(f'  T={captured[0].shape[-1]} mean row max {peak:.2f}, logits {logits.abs().max():.2f}')
    return tensors


def input_gradient(model, x):
    """d logits[top] / d input by autograd, through the rotation (the top class of this input)."""
    leaf = x.clone().requires_grad_(True)
    logits = model(leaf[None])[0]
    logits[logits.argmax()].backward()
    return leaf.grad.contiguous()


def normalised(pixels, mean, std):
    return (pixels - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


def case(name, architecture, mean, std, **args):
    print(name)
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    args = dict(dict(depth=2, embed_dim=64, num_heads=2, mlp_ratio=1.0, num_classes=5, patch_size=16, img_size=224, dynamic_img_size=True), **args)
    model = timm.create_model(architecture, pretrained=False, **args).eval()
    randomise(model)
    for suffix, (h, w) in (('', (224, 224)), ('2', (96, 160))):
        x = normalised(png(folder, h, w, f'input{suffix}.png'), mean, std)
        tensors = run(model, x)
        if suffix:
            tensors['grad.input'] = input_gradient(model, x)
        save_file(tensors, os.path.join(folder, f'reference{suffix}.safetensors'))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(folder, 'model.safetensors'))
    config = {'architecture': architecture + '.fixture', 'num_classes': model.num_classes, 'num_features': model.num_features,
              'global_pool': model.global_pool,
              'pretrained_cfg': {'tag': 'fixture', 'input_size': [3, 224, 224], 'mean': list(mean), 'std': list(std),
                                 'interpolation': 'bicubic', 'crop_pct': 1.0},
              'model_args': args}
    json.dump(config, open(os.path.join(folder, 'config.json'), 'w'), indent=2)


IMAGENET = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
case('timm_rope', 'vit_small_patch16_rope_224', *IMAGENET)
case('timm_rope_ape', 'vit_small_patch16_rope_ape_224', *IMAGENET)
case('timm_rope_mixed', 'vit_small_patch16_rope_mixed_224', *IMAGENET)
case('timm_rope_reg_gap', 'vit_medium_patch16_rope_reg1_gap_256', *IMAGENET)
case('timm_pe_core', 'vit_pe_core_base_patch16_224', *HALF, attn_pool_mlp_ratio=1.0)
case('timm_pe_spatial', 'vit_pe_spatial_tiny_patch16_512', *HALF)
case('timm_pe_lang', 'vit_pe_lang_large_patch14_448', *HALF)
