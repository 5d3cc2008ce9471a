"""Writes the DINOv3 fixtures into Tests/VAModelsTests/Fixtures/<case>/, each run end to end
from a PNG at 224x224 (reference.safetensors, input.png) and at 96x160 (reference2.safetensors,
input2.png): DINOv3 has no position table, so one model runs every grid.

Regenerate: python3 Scripts/reference/dinov3_fixtures.py   (torch 2.15, timm 1.0.31, transformers 5.25.0)

Cases
  timm_dinov3          timm `vit_small_patch16_dinov3_qkvb` shrunk (Eva, rope_type='dinov3',
                       rotate-half layout, 4 registers, LayerScale, GELU MLP, q/v biases)
  timm_dinov3_swiglu   timm `vit_huge_plus_patch16_dinov3` shrunk (SwiGLU with swiglu_align_to=8:
                       mlp_ratio 1.3 gives 83 hidden features, aligned up to 88)
  hf_dinov3            transformers `DINOv3ViTModel`, plain GELU MLP, saved with save_pretrained
                       (blocks named `layer.{i}`, as hub checkpoints are)
  hf_dinov3_gated      `DINOv3ViTModel` with `use_gated_mlp` (SiLU), saved from state_dict()
                       (blocks named `model.layer.{i}`, transformers 5's in-memory names)
The HF cases also hold target_embedding.safetensors (`text` [64], random) for --target-embedding.
Each reference holds input [3, H, W] (the PNG normalised), attn.{l} [heads, T, T] of every layer,
tokens [T, D] (timm's forward_features / transformers' last_hidden_state, after the final norm),
and logits [5] (timm, average pooling over the patches) or pooled [D] (pooler_output, the class token).
Weights are random (no hub access), q/k scaled so attention is peaky, as in vit_family_fixtures.py.
"""
import json, os
import torch
import timm
import timm.layers
from safetensors.torch import save_file
from fixture_common import FIXTURES as root, IMAGENET_MEAN as MEAN, IMAGENET_STD as STD, normalised, perturb, png, save_timm_hub, timm_run

torch.manual_seed(0)
timm.layers.set_fused_attn(False)
SIZES = {'': (224, 224), '2': (96, 160)}
TOKENS = ('cls_token', 'reg_token', 'register_tokens')


def layer_scales(name, p, g):
    if ('gamma' in name or 'lambda1' in name) and p.dim() == 1:
        # LayerScale starts at 1e-5 in timm: the blocks would vanish from the output.
        p.copy_(0.3 + 0.1 * torch.randn(p.shape, generator=g))


def peaky(model, names):
    perturb(model, names, 10.0, tokens=TOKENS, extra=layer_scales)


def input_png(folder, h, w, name):
    # Little noise: the PNG stays small.
    return normalised(png(folder, h, w, name, noise=0.03), MEAN, STD)


def report(case, variant, tensors):
    attn = [v for k, v in tensors.items() if k.startswith('attn.')]
    peak = torch.stack([a.max(-1).values.mean() for a in attn]).mean().item()
    print(f'  {case}{variant}: T={attn[0].shape[-1]} mean row max {peak:.2f}')


def timm_case(case, architecture, qk_names=('attn.qkv.weight',), **args):
    folder = os.path.join(root, case)
    os.makedirs(folder, exist_ok=True)
    model = timm.create_model(architecture, pretrained=False, **args).eval()
    peaky(model, qk_names)
    for variant, hw in SIZES.items():
        x = input_png(folder, *hw, f'input{variant}.png')
        tensors = timm_run(model, x)
        report(case, variant, tensors)
        save_file(tensors, os.path.join(folder, f'reference{variant}.safetensors'))
    save_timm_hub(folder, model, architecture, args, MEAN, STD)


shrunk = dict(embed_dim=64, depth=2, num_heads=2, num_classes=5)
timm_case('timm_dinov3', 'vit_small_patch16_dinov3_qkvb', mlp_ratio=2.0, **shrunk)
timm_case('timm_dinov3_swiglu', 'vit_huge_plus_patch16_dinov3', mlp_ratio=1.3, **shrunk)

from transformers import DINOv3ViTConfig, DINOv3ViTModel


def hf_case(case, config, hub_names):
    folder = os.path.join(root, case)
    os.makedirs(folder, exist_ok=True)
    model = DINOv3ViTModel(config).eval()
    peaky(model, ('q_proj.weight', 'k_proj.weight'))
    for variant, hw in SIZES.items():
        x = input_png(folder, *hw, f'input{variant}.png')
        with torch.no_grad():
            out = model(pixel_values=x[None], output_attentions=True)
        tensors = {'input': x.contiguous(), 'pooled': out.pooler_output[0].clone(), 'tokens': out.last_hidden_state[0].clone()}
        tensors.update({f'attn.{l}': a[0].contiguous() for l, a in enumerate(out.attentions)})
        report(case, variant, tensors)
        save_file(tensors, os.path.join(folder, f'reference{variant}.safetensors'))
    if hub_names:
        model.save_pretrained(folder, safe_serialization=True)  # writes layer.{i}, the hub's names
    else:
        model.config.save_pretrained(folder)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(folder, 'model.safetensors'))
    # --target-embedding for the gradient maps of an image tower: the shared one has 48 values.
    target = torch.randn(config.hidden_size, generator=torch.Generator().manual_seed(5))
    save_file({'text': target.contiguous()}, os.path.join(folder, 'target_embedding.safetensors'))
    json.dump({'do_normalize': True, 'do_rescale': True, 'rescale_factor': 1 / 255, 'image_mean': list(MEAN), 'image_std': list(STD),
               'size': {'height': 224, 'width': 224}}, open(os.path.join(folder, 'preprocessor_config.json'), 'w'), indent=2)


hf = dict(hidden_size=64, num_attention_heads=2, num_hidden_layers=2, intermediate_size=96, num_register_tokens=4,
          layerscale_value=0.3, attn_implementation='eager')
hf_case('hf_dinov3', DINOv3ViTConfig(**hf), hub_names=True)
hf_case('hf_dinov3_gated', DINOv3ViTConfig(**hf, use_gated_mlp=True, hidden_act='silu', key_bias=True, rope_theta=50.0), hub_names=False)
