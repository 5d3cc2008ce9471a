"""Writes one fixture per ViT family into Tests/VAModelsTests/Fixtures/<case>/, in the layout
its hub ships, each run end to end from a PNG.

Regenerate: python3 Scripts/reference/vit_family_fixtures.py   (torch 2.15, timm 1.0.31)

Each case folder holds
  model.safetensors, config.json   timm's hub layout: architecture (a real timm name with a
                                   pretrained tag), num_classes, global_pool, pretrained_cfg
                                   (input_size, mean, std) and model_args for the shrunken size
  input.png                        the image, already a multiple of the patch size
  input2.png, reference2.safetensors  (BEiT) another grid, through a model timm rebuilds at that
                                   size and loads the checkpoint into (checkpoint_filter_fn resizes
                                   the relative position tables)
  reference.safetensors            input [3, H, W] (the PNG normalised as timm's transform does:
                                   (x / 255 - mean) / std), attn.{l} [heads, T, T] of every
                                   layer, logits [classes], attn.pool [heads, 1, N] for MAP heads
Weights are random (no hub access) with q/k scaled so attention is peaky, as in vit_fixtures.py.
"""
import importlib, json, os
import torch
import timm
import timm.layers
from safetensors.torch import save_file
from fixture_common import CLIP_MEAN, CLIP_STD, FIXTURES as root, normalised, perturb, png as pattern_png, save_timm_hub, timm_run

torch.manual_seed(0)
timm.layers.set_fused_attn(False)


def vit_rules(name, p, g):
    if name.endswith('relative_position_bias_table'):
        p.copy_(torch.randn(p.shape, generator=g))
    # Exact names: Hugging Face's DeiT and DINOv2 also hold `embeddings.cls_token`, left as initialised.
    if name in ('cls_token', 'dist_token', 'reg_token', 'attn_pool.latent'):
        p.add_(0.5 * torch.randn(p.shape, generator=g))


def peaky(model, names, scale=14.0):
    perturb(model, names, scale, extra=vit_rules)


def png(folder, h, w, name='input.png'):
    return pattern_png(folder, h, w, name, noise=0.15)


def run(model, x):
    """Every layer's attention, the logits and a MAP head's attention for one input."""
    return timm_run(model, x, tokens=False)


def timm_case(case, architecture, input_hw, mean, std, qk_names=('attn.qkv.weight', 'attn_pool.q.weight'), other_grid=None, **args):
    """other_grid (H, W): a second input for a model timm rebuilds at that size and loads the
    checkpoint into through the architecture's checkpoint_filter_fn (how BEiT changes grids)."""
    print(case)
    folder = os.path.join(root, case)
    os.makedirs(folder, exist_ok=True)
    model = timm.create_model(architecture, pretrained=False, **args).eval()
    peaky(model, qk_names)
    x = normalised(png(folder, *input_hw), mean, std)
    save_file(run(model, x), os.path.join(folder, 'reference.safetensors'))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if other_grid:
        rebuilt = timm.create_model(architecture, pretrained=False, **dict(args, img_size=other_grid)).eval()
        module = importlib.import_module(type(model).__module__)
        rebuilt.load_state_dict(module.checkpoint_filter_fn(dict(state), rebuilt))
        x2 = normalised(png(folder, *other_grid, name='input2.png'), mean, std)
        save_file(run(rebuilt, x2), os.path.join(folder, 'reference2.safetensors'))
    save_timm_hub(folder, model, architecture, args, mean, std, args.get('img_size', 224))


small = dict(img_size=32, patch_size=8, embed_dim=48, depth=2, num_classes=5)
timm_case('timm_clip_quickgelu', 'vit_base_patch16_clip_quickgelu_224', (32, 32), CLIP_MEAN, CLIP_STD, num_heads=2, **small)
timm_case('timm_deit_distilled', 'deit_tiny_distilled_patch16_224', (24, 40), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225),
          num_heads=4, dynamic_img_size=True, **small)
timm_case('timm_siglip', 'vit_base_patch16_siglip_224', (40, 24), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5),
          num_heads=4, dynamic_img_size=True, **small)
timm_case('timm_beit', 'beit_base_patch16_224', (32, 32), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5),
          num_heads=4, other_grid=(24, 40), **small)
timm_case('timm_eva02', 'eva02_base_patch14_224', (24, 40), (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711),
          qk_names=('attn.q_proj.weight', 'attn.k_proj.weight'), num_heads=4, init_values=0.3, dynamic_img_size=True, **small)
timm_case('timm_eva02_packed', 'eva02_tiny_patch14_224', (32, 32), (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711),
          num_heads=4, **small)
timm_case('timm_eva02_clip', 'eva02_base_patch16_clip_224', (32, 32), CLIP_MEAN, CLIP_STD,
          qk_names=('attn.q_proj.weight', 'attn.k_proj.weight'), num_heads=4, **small)
timm_case('timm_dinov2_swiglu', 'vit_giant_patch14_reg4_dinov2', (24, 40), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225),
          num_heads=4, dynamic_img_size=True, **small)


def hf_case(case, model, input_hw, mean, std, image_size, interpolate=False, scale=14.0,
            qk_names=('q_proj.weight', 'k_proj.weight', 'query.weight', 'key.weight', 'in_proj_weight')):
    """A Hugging Face model saved with save_pretrained (config.json, model.safetensors) plus
    preprocessor_config.json; the reference holds the pooled output as `pooled` where the model
    pools, and a SigLIP head's per-head attention as attn.pool."""
    print(case)
    folder = os.path.join(root, case)
    os.makedirs(folder, exist_ok=True)
    model = model.eval()
    peaky(model, qk_names, scale)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(('class_embedding', 'probe', 'distillation_token', 'register_tokens')):
                p.add_(0.5 * torch.randn(p.shape, generator=torch.Generator().manual_seed(4)))
    x = normalised(png(folder, *input_hw), mean, std)
    vision = getattr(model, 'vision_model', model)
    kwargs = {'interpolate_pos_encoding': True} if interpolate else {}
    with torch.no_grad():
        out = vision(pixel_values=x[None], output_attentions=True, **kwargs)
    tensors = {'input': x.contiguous()}
    for l, a in enumerate(out.attentions):
        tensors[f'attn.{l}'] = a[0].contiguous()
    if hasattr(out, 'logits'):
        tensors['logits'] = out.logits[0].contiguous()
    elif getattr(out, 'pooler_output', None) is not None:
        tensors['pooled'] = out.pooler_output[0].contiguous()
    head = getattr(vision, 'head', None)
    if head is not None and hasattr(head, 'probe'):
        with torch.no_grad():
            _, weights = head.attention(head.probe, out.last_hidden_state, out.last_hidden_state, need_weights=True, average_attn_weights=False)
        tensors['attn.pool'] = weights[0].contiguous()
    save_file(tensors, os.path.join(folder, 'reference.safetensors'))
    model.save_pretrained(folder, safe_serialization=True)
    json.dump({'do_normalize': True, 'do_rescale': True, 'rescale_factor': 1 / 255, 'image_mean': list(mean), 'image_std': list(std),
               'size': {'height': image_size, 'width': image_size}}, open(os.path.join(folder, 'preprocessor_config.json'), 'w'), indent=2)
    peak = torch.stack([a[0].max(-1).values.mean() for a in out.attentions]).mean().item()
    print(f'  T={out.attentions[0].shape[-1]} mean row max {peak:.2f}')


from transformers import (CLIPConfig, CLIPModel, DeiTConfig, DeiTForImageClassificationWithTeacher, Dinov2Config, Dinov2Model,
                          Dinov2WithRegistersConfig, Dinov2WithRegistersModel,
                          SiglipConfig, SiglipModel, SiglipVisionConfig, SiglipVisionModel)
torch.manual_seed(0)
vision = dict(hidden_size=48, num_attention_heads=4, num_hidden_layers=2, intermediate_size=96, image_size=32, patch_size=8,
              attn_implementation='eager')
text = dict(hidden_size=32, num_attention_heads=2, num_hidden_layers=1, intermediate_size=64, vocab_size=64,
            bos_token_id=0, eos_token_id=1, pad_token_id=1)
hf_case('hf_clip', CLIPModel(CLIPConfig(vision_config=vision, text_config=text, projection_dim=16, attn_implementation='eager')),
        (32, 32), CLIP_MEAN, CLIP_STD, 32, scale=2.5)
hf_case('hf_siglip', SiglipModel(SiglipConfig(vision_config=vision, text_config=dict(text, max_position_embeddings=16), attn_implementation='eager')),
        (40, 24), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 32, interpolate=True, scale=2.5)
hf_case('hf_siglip_vision', SiglipVisionModel(SiglipVisionConfig(**vision)), (32, 32), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 32, scale=2.5)
hf_case('hf_dinov2', Dinov2Model(Dinov2Config(**dict(vision, intermediate_size=None), mlp_ratio=2, layerscale_value=0.5)),
        (24, 40), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 32)
hf_case('hf_dinov2_registers', Dinov2WithRegistersModel(Dinov2WithRegistersConfig(**dict(vision, intermediate_size=None), mlp_ratio=2,
                                                                               layerscale_value=0.5, num_register_tokens=2)),
        (40, 24), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 32)
hf_case('hf_deit_distilled', DeiTForImageClassificationWithTeacher(DeiTConfig(**vision, num_labels=5)),
        (32, 32), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 32)


def open_clip_case(case, input_hw, quick_gelu):
    """open_clip's own layout, as its push_to_hub writes it: open_clip_model.safetensors (the
    full CLIP state dict, text tower included) and open_clip_config.json (model_cfg,
    preprocess_cfg). Attention comes from each block's own nn.MultiheadAttention asked for
    per-head weights; `pooled` is ln_post's class token (before visual.proj)."""
    import open_clip
    print(case)
    folder = os.path.join(root, case)
    os.makedirs(folder, exist_ok=True)
    model_cfg = {'embed_dim': 16, 'quick_gelu': quick_gelu,
                 'vision_cfg': {'image_size': 32, 'layers': 2, 'width': 48, 'head_width': 12, 'patch_size': 8, 'ls_init_value': 0.5},
                 'text_cfg': {'context_length': 8, 'vocab_size': 64, 'width': 32, 'heads': 2, 'layers': 1}}
    model = open_clip.CLIP(**model_cfg).eval()
    peaky(model, ['attn.in_proj_weight'], 3.0)
    visual = model.visual
    inputs, pooled = [], []
    hooks = [blk.ln_1.register_forward_hook(lambda m, i, o: inputs.append(o.detach())) for blk in visual.transformer.resblocks]
    hooks.append(visual.ln_post.register_forward_hook(lambda m, i, o: pooled.append(o[:, 0].detach())))
    x = normalised(png(folder, *input_hw), CLIP_MEAN, CLIP_STD)
    with torch.no_grad():
        visual(x[None])
        attns = [blk.attn(h, h, h, need_weights=True, average_attn_weights=False)[1][0]
                 for blk, h in zip(visual.transformer.resblocks, inputs)]
    for h in hooks:
        h.remove()
    tensors = {'input': x.contiguous(), 'pooled': pooled[0][0].contiguous()}
    for l, a in enumerate(attns):
        tensors[f'attn.{l}'] = a.contiguous()
    save_file(tensors, os.path.join(folder, 'reference.safetensors'))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(folder, 'open_clip_model.safetensors'))
    json.dump({'model_cfg': model_cfg, 'preprocess_cfg': {'mean': list(CLIP_MEAN), 'std': list(CLIP_STD), 'interpolation': 'bicubic',
                                                           'resize_mode': 'shortest'}},
              open(os.path.join(folder, 'open_clip_config.json'), 'w'), indent=2)
    peak = torch.stack([a.max(-1).values.mean() for a in attns]).mean().item()
    print(f'  T={attns[0].shape[-1]} mean row max {peak:.2f}')


open_clip_case('open_clip_quickgelu', (32, 32), True)
print('ok')
