"""Writes the Swin fixtures into Tests/VAModelsTests/Fixtures/{timm_swin,timm_swinv2,hf_swin,hf_swinv2}/,
each in the layout its library saves, run end to end at 224x224 and at 120x200.

Regenerate: python3 Scripts/reference/swin_fixtures.py   (torch 2.15, timm 1.0.31, transformers 5.25.0)

Each folder holds
  model.safetensors, config.json   timm's hub layout (architecture: a real timm name with a tag,
                                   pretrained_cfg, model_args for the shrunken size) or what
                                   save_pretrained writes (transformers 5.25.0)
  input.png, input2.png            224x224 and 120x200 images
  timm_swin_clamped/reference.safetensors  timm_swin's weights at 96x224 (maps 12x28, then 6x14):
                                   timm clamps stage 1's window to 6x7 with a shift across only and
                                   resizes the 13x13 relative position tables to 11x13 as its
                                   checkpoint_filter_fn does when loading; the input is stored as
                                   F16 (the model ran on those values) to keep the file small
  hf_swin_padded/reference.safetensors  hf_swin at 122x203, which transformers pads to 128x208
                                   before the patch embedding (input stored as F16, as above)
  timm_swinv2_clamped/reference.safetensors  the same for timm_swinv2 (a 6x7 window for the
                                   continuous bias, offsets normalised by the pretrained window)
  reference.safetensors            (224x224) and reference2.safetensors (120x200):
                                   input [3, H, W] (the PNG as (x / 255 - mean) / std),
                                   attn.{l} [windows, heads, N, N] post-softmax for every block l
                                   counted through the stages (shift mask included, windows in the
                                   library's order), logits [classes]
The models are shrunken to fit a fixture (< 2 MB): patch 8 (not 4) so a 224 image gives a 28x28
map, embed_dim 16, depths (2, 2), heads (1, 2), window 7, 5 classes. At 120x200 the maps are
15x25 then 8x13: both pad to the window, the first patch merging pads an odd map, and the
shifted blocks' masks cover padded windows. timm runs the second input in a model it rebuilds
with img_size=(120, 200) and loads the same weights into (timm sizes windows and masks from
img_size); transformers runs it in the same model (it pads and masks per forward).
Weights are random (no hub access), scaled so attention is peaky; v2 logit scales stay near
log(10) (at the log(100) clamp float32 itself strays 2e-5 from float64); timm's v2 fixture has
pretrained_window_sizes (6, 4).
"""
import json, os
import numpy as np
import torch
import timm
import timm.layers
import transformers
from PIL import Image
from safetensors.torch import save_file

torch.manual_seed(0)
timm.layers.set_fused_attn(False)
root = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VAModelsTests', 'Fixtures')
SIZES = [('', 224, 224), ('2', 120, 200)]
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
SHRUNK = dict(patch_size=8, embed_dim=16, depths=(2, 2), num_heads=(1, 2), window_size=7, num_classes=5)


def perturb(model):
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if any(k in name for k in ('qkv.weight', 'q_proj', 'k_proj', 'query', 'key')):
                p.mul_(10.0)
            if 'norm' in name and p.dim() == 1:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g) if name.endswith('weight') else 0.2 * torch.randn(p.shape, generator=g))
            if name.endswith('relative_position_bias_table'):
                p.copy_(torch.randn(p.shape, generator=g))
            if 'logit_scale' in name:
                # Near timm's init, log(10): a scale at the clamp (τ = 100) makes float32's own
                # rounding of the cosines differ from float64 by 2e-5 of the peak weight, above the
                # 1e-5 these fixtures are checked at; SwinTests checks the clamp on its own.
                p.copy_(torch.log(torch.tensor(10.0)) + 0.3 * torch.randn(p.shape, generator=g))
            if any(k in name for k in ('q_bias', 'v_bias')):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            if name.endswith('bias') and p.dim() == 1 and 'norm' not in name:
                p.add_(0.05 * torch.randn(p.shape, generator=g))
            if name in ('head.fc.weight', 'classifier.weight'):
                p.copy_(0.3 * torch.randn(p.shape, generator=g))


def png(folder, h, w, name):
    ys, xs = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing='ij')
    rgb = np.stack([np.sin(6 * xs + 2 * ys), np.cos(5 * ys - 3 * xs), xs * ys], -1) * 0.4 + 0.5
    rgb = np.clip(rgb, 0, 1)  # smooth: the PNGs compress well, keeping each folder under 2 MB
    pixels = (rgb * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(folder, name), optimize=True)
    x = torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1)
    return ((x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]).contiguous()


def timm_case(folder, architecture, extra):
    os.makedirs(folder, exist_ok=True)
    args = dict(SHRUNK, **extra)
    model = timm.create_model(architecture, pretrained=False, img_size=224, **args).eval()
    perturb(model)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(folder, 'model.safetensors'))
    config = {
        'architecture': architecture + '.fixture', 'num_classes': 5, 'num_features': 32, 'global_pool': 'avg',
        'pretrained_cfg': {'tag': 'fixture', 'input_size': [3, 224, 224], 'mean': MEAN, 'std': STD,
                           'interpolation': 'bicubic', 'crop_pct': 0.9},
        'model_args': {k: list(v) if isinstance(v, tuple) else v for k, v in args.items()},
    }
    json.dump(config, open(os.path.join(folder, 'config.json'), 'w'), indent=2)
    for suffix, h, w in SIZES:
        x = png(folder, h, w, f'input{suffix}.png')
        sized = timm.create_model(architecture, pretrained=False, img_size=(h, w), **args).eval()
        sized.load_state_dict(state)
        captured = []
        hooks = [b.attn.attn_drop.register_forward_hook(lambda m, i, o: captured.append(i[0].detach().clone()))
                 for layer in sized.layers for b in layer.blocks]
        with torch.no_grad():
            logits = sized(x[None])[0]
        for hook in hooks:
            hook.remove()
        tensors = {'input': x, 'logits': logits.contiguous()}
        tensors.update({f'attn.{l}': a.contiguous() for l, a in enumerate(captured)})
        save_file(tensors, os.path.join(folder, f'reference{suffix}.safetensors'))


def hf_case(folder, config_class, model_class, extra):
    os.makedirs(folder, exist_ok=True)
    config = config_class(image_size=224, patch_size=8, embed_dim=16, depths=[2, 2], num_heads=[1, 2], window_size=7,
                          num_labels=5, **extra)
    config._attn_implementation = 'eager'
    model = model_class(config).eval()
    perturb(model)
    model.save_pretrained(folder, safe_serialization=True)
    json.dump({'image_mean': MEAN, 'image_std': STD, 'size': {'height': 224, 'width': 224}, 'do_rescale': True,
               'rescale_factor': 1 / 255, 'do_normalize': True, 'do_resize': True, 'resample': 3},
              open(os.path.join(folder, 'preprocessor_config.json'), 'w'), indent=2)
    for suffix, h, w in SIZES:
        x = png(folder, h, w, f'input{suffix}.png')
        # output_attentions keeps one block per stage in transformers 5; every block's
        # weights come from its attention module's output instead.
        captured = []

        def keep(module, inputs, output):
            captured.append(next(o for o in output if o is not None and o.dim() == 4 and o.shape[-1] == o.shape[-2]).detach().clone())

        backbone = model.swin if hasattr(model, 'swin') else model.swinv2
        hooks = [b.attention.register_forward_hook(keep) for layer in backbone.encoder.layers for b in layer.blocks]
        with torch.no_grad():
            out = model(pixel_values=x[None], output_attentions=True)
        for hook in hooks:
            hook.remove()
        last = [captured[1], captured[3]]
        assert all(torch.equal(a, b) for a, b in zip(last, out.attentions)), 'hooked weights differ from output_attentions'
        tensors = {'input': x, 'logits': out.logits[0].contiguous()}
        tensors.update({f'attn.{l}': a.contiguous() for l, a in enumerate(captured)})
        save_file(tensors, os.path.join(folder, f'reference{suffix}.safetensors'))


timm_case(os.path.join(root, 'timm_swin'), 'swin_tiny_patch4_window7_224', {})


def clamped_case(folder, source, architecture, h, w):
    from safetensors.torch import load_file
    if architecture.startswith('swinv2_'):
        from timm.models.swin_transformer_v2 import checkpoint_filter_fn
    else:
        from timm.models.swin_transformer import checkpoint_filter_fn
    os.makedirs(folder, exist_ok=True)
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in json.load(open(os.path.join(source, 'config.json')))['model_args'].items()}
    model = timm.create_model(architecture, pretrained=False, img_size=(h, w), **args).eval()
    model.load_state_dict(checkpoint_filter_fn(load_file(os.path.join(source, 'model.safetensors')), model))
    x = png(folder, h, w, 'input.png').half()
    os.remove(os.path.join(folder, 'input.png'))
    captured = []
    hooks = [b.attn.attn_drop.register_forward_hook(lambda m, i, o: captured.append(i[0].detach().clone()))
             for layer in model.layers for b in layer.blocks]
    with torch.no_grad():
        logits = model(x.float()[None])[0]
    for hook in hooks:
        hook.remove()
    tensors = {'input': x.contiguous(), 'logits': logits.contiguous()}
    tensors.update({f'attn.{l}': a.contiguous() for l, a in enumerate(captured)})
    save_file(tensors, os.path.join(folder, 'reference.safetensors'))

timm_case(os.path.join(root, 'timm_swinv2'), 'swinv2_tiny_window8_256', {'pretrained_window_sizes': (6, 4)})
hf_case(os.path.join(root, 'hf_swin'), transformers.SwinConfig, transformers.SwinForImageClassification, {})
hf_case(os.path.join(root, 'hf_swinv2'), transformers.Swinv2Config, transformers.Swinv2ForImageClassification, {})
# Last: building its model draws from torch's generator, which the cases above share.
clamped_case(os.path.join(root, 'timm_swin_clamped'), os.path.join(root, 'timm_swin'), 'swin_tiny_patch4_window7_224', 96, 224)
clamped_case(os.path.join(root, 'timm_swinv2_clamped'), os.path.join(root, 'timm_swinv2'), 'swinv2_tiny_window8_256', 96, 224)


def hf_padded_case(folder, source, model_class, h, w):
    """transformers pads an input that is not a multiple of the patch (SwinPatchEmbeddings.maybe_pad)."""
    os.makedirs(folder, exist_ok=True)
    model = model_class.from_pretrained(source, attn_implementation='eager').eval()
    x = png(folder, h, w, 'input.png').half()
    os.remove(os.path.join(folder, 'input.png'))
    captured = []

    def keep(module, inputs, output):
        captured.append(next(o for o in output if o is not None and o.dim() == 4 and o.shape[-1] == o.shape[-2]).detach().clone())

    hooks = [b.attention.register_forward_hook(keep) for layer in model.swin.encoder.layers for b in layer.blocks]
    with torch.no_grad():
        logits = model(pixel_values=x.float()[None]).logits[0]
    for hook in hooks:
        hook.remove()
    tensors = {'input': x.contiguous(), 'logits': logits.contiguous()}
    tensors.update({f'attn.{l}': a.contiguous() for l, a in enumerate(captured)})
    save_file(tensors, os.path.join(folder, 'reference.safetensors'))


hf_padded_case(os.path.join(root, 'hf_swin_padded'), os.path.join(root, 'hf_swin'), transformers.SwinForImageClassification, 122, 203)
