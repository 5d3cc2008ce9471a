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
import os
import torch
import timm
import timm.layers
from safetensors.torch import save_file
from fixture_common import FIXTURES as root, HALF_MEAN, HALF_STD, IMAGENET_MEAN, IMAGENET_STD, normalised, perturb, png, save_timm_hub, timm_run

torch.manual_seed(0)
timm.layers.set_fused_attn(False)


def rope_rules(name, p, g):
    if name.endswith('gamma_1') or name.endswith('gamma_2'):
        p.copy_(0.5 + 0.2 * torch.randn(p.shape, generator=g))
    if name == 'rope.freqs':
        # init_random_2d_freqs rotates one magnitude ladder per head; scale each entry too.
        p.mul_(1 + 0.5 * torch.randn(p.shape, generator=g))


def randomise(model):
    """Random but informative weights: q/k scaled so attention is peaky, layer scales near 0.5
    (timm's 1e-5 init would hide the blocks), uneven learned RoPE frequencies, a visible table."""
    perturb(model, ('attn.qkv.weight', 'attn_pool.q.weight'), 10.0, tokens=('cls_token', 'reg_token', 'attn_pool.latent'),
            pos_embed=0.5, extra=rope_rules)


def input_gradient(model, x):
    """d logits[top] / d input by autograd, through the rotation (the top class of this input)."""
    leaf = x.clone().requires_grad_(True)
    logits = model(leaf[None])[0]
    logits[logits.argmax()].backward()
    return leaf.grad.contiguous()


def case(name, architecture, mean, std, **args):
    print(name)
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    args = dict(dict(depth=2, embed_dim=64, num_heads=2, mlp_ratio=1.0, num_classes=5, patch_size=16, img_size=224, dynamic_img_size=True), **args)
    model = timm.create_model(architecture, pretrained=False, **args).eval()
    randomise(model)
    for suffix, (h, w) in (('', (224, 224)), ('2', (96, 160))):
        x = normalised(png(folder, h, w, f'input{suffix}.png', noise=0.03), mean, std)
        # Eva's MAP head reads every token, the prefix included.
        tensors = timm_run(model, x, pooled=True, pool_reads_prefix=True)
        if suffix:
            tensors['grad.input'] = input_gradient(model, x)
        save_file(tensors, os.path.join(folder, f'reference{suffix}.safetensors'))
    save_timm_hub(folder, model, architecture, args, mean, std)


IMAGENET = IMAGENET_MEAN, IMAGENET_STD
HALF = HALF_MEAN, HALF_STD
case('timm_rope', 'vit_small_patch16_rope_224', *IMAGENET)
case('timm_rope_ape', 'vit_small_patch16_rope_ape_224', *IMAGENET)
case('timm_rope_mixed', 'vit_small_patch16_rope_mixed_224', *IMAGENET)
case('timm_rope_reg_gap', 'vit_medium_patch16_rope_reg1_gap_256', *IMAGENET)
case('timm_pe_core', 'vit_pe_core_base_patch16_224', *HALF, attn_pool_mlp_ratio=1.0)
case('timm_pe_spatial', 'vit_pe_spatial_tiny_patch16_512', *HALF)
case('timm_pe_lang', 'vit_pe_lang_large_patch14_448', *HALF)
