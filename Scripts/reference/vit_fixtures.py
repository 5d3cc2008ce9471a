"""Writes the ViT conformance fixtures into Tests/VAModelsTests/Fixtures/<case>/.

Regenerate: python3 Scripts/reference/vit_fixtures.py   (torch 2.15, timm 1.0.31, transformers 5.24)

Each case folder holds the checkpoint as its library saves it (model.safetensors plus
config.json, and preprocessor_config.json for Hugging Face) and reference.safetensors with
  input      [3, H, W]         the normalised image fed to the model
  logits     [classes]         when the model has a head
  attn.{l}   [heads, T, T]     post-softmax attention of every layer (class, registers, patches)
  final      [T, D]            tokens after the final norm
Random weights are scaled so attention is peaky (most rows put over half their weight on
one key), otherwise matching maps would prove little. Attention is captured with timm's
fused attention off (a hook on attn_drop, whose input is the softmax) and with Hugging
Face's eager attention and output_attentions=True.
posembed_resample.safetensors: a learned 4x6 grid (D = 8) resampled to 5x3 and 7x9 by
timm's resample_abs_pos_embed and by Hugging Face's interpolation (F.interpolate bicubic,
align_corners=False, no antialias).
"""
import json, os
import torch
import timm
import timm.layers
from safetensors.torch import save_file
from transformers import ViTConfig, ViTForImageClassification, ViTModel

torch.manual_seed(0)
timm.layers.set_fused_attn(False)
root = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VAModelsTests', 'Fixtures')


def peaky(model, qk_names, scale=12.0):
    """Scales q/k projections up and randomises norms so attention is sharp and non-trivial."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if any(k in name for k in qk_names):
                p.mul_(scale)
            if ('norm' in name or 'layernorm' in name) and p.dim() == 1:
                p.add_(0.2 * torch.randn(p.shape, generator=g))
            if name.endswith('gamma'):
                p.copy_(0.5 + 0.5 * torch.rand(p.shape, generator=g))
            if 'bias' in name and p.dim() == 1 and 'norm' not in name:
                p.add_(0.05 * torch.randn(p.shape, generator=g))


def image(h, w):
    g = torch.Generator().manual_seed(2)
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing='ij')
    smooth = torch.stack([torch.sin(3 * xs + ys), torch.cos(2 * ys - xs), xs * ys])
    return (smooth + 0.3 * torch.randn((3, h, w), generator=g)).float()


def write_reference(folder, x, logits, attns, final):
    tensors = {'input': x.contiguous(), 'final': final.contiguous()}
    if logits is not None:
        tensors['logits'] = logits.contiguous()
    for l, a in enumerate(attns):
        tensors[f'attn.{l}'] = a.contiguous()
    save_file(tensors, os.path.join(folder, 'reference.safetensors'))
    peak = torch.stack([a.max(-1).values.mean() for a in attns]).mean().item()
    print(f'{os.path.basename(folder)}: T={attns[0].shape[-1]} mean row max {peak:.2f}')


def timm_case(name, input_hw, **kwargs):
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    model = timm.models.vision_transformer.VisionTransformer(**kwargs).eval()
    peaky(model, ['attn.qkv.weight'])
    captured = []
    for block in model.blocks:
        block.attn.attn_drop.register_forward_hook(lambda m, i, o: captured.append(i[0][0].detach().clone()))
    x = image(*input_hw)
    with torch.no_grad():
        features = model.forward_features(x[None])
        logits = model.forward_head(features)[0] if model.num_classes else None
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(folder, 'model.safetensors'))
    args = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}
    config = {'architecture': 'vit_custom', 'num_classes': kwargs.get('num_classes', 1000),
              'num_features': kwargs['embed_dim'], 'global_pool': kwargs.get('global_pool', 'token'),
              'pretrained_cfg': {'input_size': [3, kwargs['img_size'], kwargs['img_size']], 'mean': [0.485, 0.456, 0.406],
                                 'std': [0.229, 0.224, 0.225], 'interpolation': 'bicubic'},
              'model_args': args}
    json.dump(config, open(os.path.join(folder, 'config.json'), 'w'), indent=2)
    write_reference(folder, x, logits, captured, features[0])


def hf_case(name, input_hw, with_head, prefix_model, **kwargs):
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    config = ViTConfig(attn_implementation='eager', **kwargs)
    model = (ViTForImageClassification(config) if with_head else ViTModel(config, add_pooling_layer=False)).eval()
    peaky(model, ['attention.query.weight', 'attention.key.weight', 'q_proj.weight', 'k_proj.weight'])
    x = image(*input_hw)
    with torch.no_grad():
        out = model(pixel_values=x[None], output_attentions=True, interpolate_pos_encoding=True, output_hidden_states=True)
    model.save_pretrained(folder, safe_serialization=True)
    json.dump({'image_mean': [0.5, 0.5, 0.5], 'image_std': [0.5, 0.5, 0.5], 'size': {'height': kwargs['image_size'], 'width': kwargs['image_size']}},
              open(os.path.join(folder, 'preprocessor_config.json'), 'w'))
    if with_head:
        with torch.no_grad():
            final = model.vit.layernorm(out.hidden_states[-1])[0]
        logits = out.logits[0]
    else:
        final, logits = out.last_hidden_state[0], None
    write_reference(folder, x, logits, [a[0] for a in out.attentions], final)


timm_case('timm_basic', (64, 64), img_size=64, patch_size=16, embed_dim=96, depth=2, num_heads=3, num_classes=10)
timm_case('timm_registers_nonsquare', (48, 80), img_size=64, patch_size=8, embed_dim=64, depth=3, num_heads=2,
          reg_tokens=4, no_embed_class=True, init_values=0.1, global_pool='avg', fc_norm=True, dynamic_img_size=True, num_classes=7)
timm_case('timm_nonsquare_resample', (40, 24), img_size=32, patch_size=8, embed_dim=48, depth=2, num_heads=4,
          dynamic_img_size=True, num_classes=5)
hf_case('hf_classifier', (24, 40), True, True, hidden_size=64, num_attention_heads=4, num_hidden_layers=2,
        intermediate_size=128, image_size=32, patch_size=8, num_labels=5)
hf_case('hf_backbone', (32, 32), False, False, hidden_size=48, num_attention_heads=3, num_hidden_layers=2,
        intermediate_size=96, image_size=32, patch_size=16)

# Position-embedding resampling alone.
from timm.layers import resample_abs_pos_embed
import torch.nn.functional as F
grid = torch.randn(1, 1 + 4 * 6, 8)
resampled = {'grid': grid[0, 1:].reshape(4, 6, 8).contiguous()}
for h, w in ((5, 3), (7, 9)):
    resampled[f'timm.{h}x{w}'] = resample_abs_pos_embed(grid, new_size=(h, w), old_size=(4, 6), num_prefix_tokens=1)[0, 1:].reshape(h, w, 8).contiguous()
    patch = grid[:, 1:].reshape(1, 4, 6, 8).permute(0, 3, 1, 2)
    resampled[f'hf.{h}x{w}'] = F.interpolate(patch, size=(h, w), mode='bicubic', align_corners=False).permute(0, 2, 3, 1)[0].contiguous()
save_file(resampled, os.path.join(root, 'posembed_resample.safetensors'))
print('ok')
