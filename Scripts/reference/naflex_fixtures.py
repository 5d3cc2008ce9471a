"""Writes the NaFlex SigLIP-2 fixtures into Tests/VAModelsTests/Fixtures/<case>/: Hugging Face
Siglip2VisionModel (hf_siglip2_vision) and Siglip2Model (hf_siglip2), and timm's NaFlexVit
(timm_naflex, naflexvit_base_patch16_map shrunk, 5 classes; timm_naflex_par, naflexvit_base_patch16_par_gap,
its aspect-preserving table resize).

Regenerate: python3 Scripts/reference/naflex_fixtures.py   (torch 2.15, timm 1.0.31, transformers 5.25.0)

Each case holds model.safetensors + config.json (+ preprocessor_config.json for Hugging Face),
input.png (224x224) and input2.png (non-square), and reference.safetensors / reference2.safetensors:
  input [3, H, W]        Hugging Face: the processor's pixel_values un-flattened (Siglip2ImageProcessor,
                         the torchvision backend AutoImageProcessor gives: the max_num_patches resize,
                         uint8 antialiased bilinear, rescale, normalise); timm: the PNG normalised
  spatial_shapes [2]     (Hugging Face) the processor's patch grid, rows then columns
  attn.{l} [heads, T, T] every layer, eager attention, the valid (unpadded) tokens only
  tokens [T, D]          last_hidden_state / forward_features (valid tokens)
  pooled [D] or logits   pooler_output (Hugging Face) or logits (timm)
  target_embedding.safetensors  (Hugging Face) a fixed random `text` [64] for the gradient maps' --target-embedding
  attn.pool [heads,1,N]  the MAP head's per-head weights over the valid patches
The models run as their libraries run them: Hugging Face on the processor's padded patch sequence
with its attention mask, so the position table is resized per image by
Siglip2VisionEmbeddings.resize_positional_embeddings (antialiased bilinear, float32); timm on the
image tensor (batch_patchify, pos_embed resized by F.interpolate bicubic, antialias=True).
Weights are random with q/k scaled so attention is peaky, as in vit_family_fixtures.py.
"""
import json, os
import numpy as np
import torch
import timm
import timm.layers
from PIL import Image
from safetensors.torch import save_file
from transformers import Siglip2Config, Siglip2ImageProcessor, Siglip2Model, Siglip2VisionConfig, Siglip2VisionModel

torch.manual_seed(0)
timm.layers.set_fused_attn(False)
root = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VAModelsTests', 'Fixtures')
MAX_PATCHES = 64  # 224x224 -> 128x128 (8x8 patches); 100x170 -> 96x160 (6x10), each axis its own scale


def peaky(model, names, scale):
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if any(k in name for k in names):
                p.mul_(scale)
            if 'norm' in name and p.dim() == 1:
                p.add_(0.2 * torch.randn(p.shape, generator=g))
            if name == 'head.weight':
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            if name.endswith(('reg_token', 'attn_pool.latent', 'probe')):
                p.add_(0.5 * torch.randn(p.shape, generator=g))
            if 'bias' in name and p.dim() == 1 and 'norm' not in name:
                p.add_(0.05 * torch.randn(p.shape, generator=g))
            if name.endswith('pos_embed') or name.endswith('position_embedding.weight'):
                # A smooth but varied table, so resizing it shows.
                p.add_(0.5 * torch.randn(p.shape, generator=g))


def png(folder, h, w, name):
    ys, xs = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing='ij')
    rng = np.random.default_rng(3)
    rgb = np.stack([np.sin(6 * xs + 2 * ys), np.cos(5 * ys - 3 * xs), xs * ys], -1) * 0.4 + 0.5
    rgb = np.clip(rgb + 0.15 * rng.standard_normal((h, w, 3)), 0, 1)
    pixels = (rgb * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(folder, name))
    return pixels


def hf_case(case, model, text=False):
    print(case)
    folder = os.path.join(root, case)
    os.makedirs(folder, exist_ok=True)
    model = model.eval()
    peaky(model, ('q_proj.weight', 'k_proj.weight', 'in_proj_weight'), 2.0)
    vision = model.vision_model if text else model
    processor = Siglip2ImageProcessor(max_num_patches=MAX_PATCHES, patch_size=16)
    for suffix, (h, w) in (('', (224, 224)), ('2', (100, 170))):
        pixels = png(folder, h, w, f'input{suffix}.png')
        batch = processor(images=Image.open(os.path.join(folder, f'input{suffix}.png')), return_tensors='pt')
        rows, cols = batch['spatial_shapes'][0].tolist()
        n = rows * cols
        # (N, P*P*3) patches, channels fastest, back to [3, H, W].
        image = batch['pixel_values'][0, :n].reshape(rows, cols, 16, 16, 3).permute(4, 0, 2, 1, 3).reshape(3, rows * 16, cols * 16)
        with torch.no_grad():
            out = vision(pixel_values=batch['pixel_values'], pixel_attention_mask=batch['pixel_attention_mask'],
                         spatial_shapes=batch['spatial_shapes'], output_attentions=True)
        tensors = {'input': image.contiguous(), 'spatial_shapes': torch.tensor([rows, cols], dtype=torch.float32),
                   'tokens': out.last_hidden_state[0, :n].contiguous(), 'pooled': out.pooler_output[0].contiguous()}
        for l, a in enumerate(out.attentions):
            tensors[f'attn.{l}'] = a[0, :, :n, :n].contiguous()
        head = vision.head
        with torch.no_grad():
            valid = out.last_hidden_state[:, :n]
            _, weights = head.attention(head.probe, valid, valid, need_weights=True, average_attn_weights=False)
            # The head on the valid tokens alone is the head on the padded sequence with its mask.
            alone = head(valid)
        assert (alone[0] - out.pooler_output[0]).abs().max() < 1e-5
        tensors['attn.pool'] = weights[0].contiguous()
        save_file(tensors, os.path.join(folder, f'reference{suffix}.safetensors'))
        peak = torch.stack([a[0, :, :n, :n].max(-1).values.mean() for a in out.attentions]).mean().item()
        print(f'  {h}x{w} -> {rows * 16}x{cols * 16}, T={n} mean row max {peak:.2f}')
    model.save_pretrained(folder, safe_serialization=True)
    processor.save_pretrained(folder)
    # A fixed target for the gradient maps of this 64-wide tower (FamilyMapValueTests).
    save_file({'text': torch.randn(64, generator=torch.Generator().manual_seed(5))}, os.path.join(folder, 'target_embedding.safetensors'))


vision = dict(hidden_size=64, num_attention_heads=4, num_hidden_layers=2, intermediate_size=128, num_patches=256, patch_size=16,
              attn_implementation='eager')
text = dict(hidden_size=32, num_attention_heads=2, num_hidden_layers=1, intermediate_size=64, vocab_size=64, max_position_embeddings=16,
            bos_token_id=0, eos_token_id=1, pad_token_id=1, projection_size=64)
hf_case('hf_siglip2_vision', Siglip2VisionModel(Siglip2VisionConfig(**vision)))
hf_case('hf_siglip2', Siglip2Model(Siglip2Config(vision_config=vision, text_config=text, attn_implementation='eager')), text=True)


def timm_run(model, x):
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
    pool = model.attn_pool
    if pool is None:
        return tensors
    with torch.no_grad():
        tokens = features[:, model.num_prefix_tokens:]
        B, N, C = tokens.shape
        q = pool.q(pool.latent).reshape(1, 1, pool.num_heads, pool.head_dim).transpose(1, 2)
        k = pool.kv(tokens).reshape(B, N, 2, pool.num_heads, pool.head_dim).permute(2, 0, 3, 1, 4)[0]
        tensors['attn.pool'] = ((q * pool.scale) @ k.transpose(-2, -1)).softmax(-1)[0].contiguous()
    return tensors


def timm_case(case, architecture, **args):
    print(case)
    folder = os.path.join(root, case)
    os.makedirs(folder, exist_ok=True)
    model = timm.create_model(architecture, pretrained=False, **args).eval()
    peaky(model, ('attn.qkv.weight', 'attn_pool.q.weight'), 10.0)
    with torch.no_grad():
        for b in model.blocks:
            b.ls1.gamma.fill_(0.5)
            b.ls2.gamma.fill_(0.5)
    for suffix, (h, w) in (('', (224, 224)), ('2', (96, 160))):
        pixels = png(folder, h, w, f'input{suffix}.png')
        x = (torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1) - 0.5) / 0.5
        save_file(timm_run(model, x), os.path.join(folder, f'reference{suffix}.safetensors'))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(folder, 'model.safetensors'))
    config = {'architecture': architecture + '.fixture', 'num_classes': model.num_classes, 'num_features': model.num_features,
              'global_pool': model.global_pool,
              'pretrained_cfg': {'tag': 'fixture', 'input_size': [3, 224, 224], 'mean': [0.5] * 3, 'std': [0.5] * 3,
                                 'interpolation': 'bicubic', 'crop_pct': 1.0},
              'model_args': args}
    json.dump(config, open(os.path.join(folder, 'config.json'), 'w'), indent=2)


# Two heads: 197 tokens at 224x224 keep the fixture under 1.5 MB.
timm_case('timm_naflex', 'naflexvit_base_patch16_map', embed_dim=64, depth=2, num_heads=2, mlp_ratio=2.0, num_classes=5)
# Aspect-preserving table resize (a 10x10 square cropped to 6x10 for 96x160), 4 registers, average pooling, fc_norm.
timm_case('timm_naflex_par', 'naflexvit_base_patch16_par_gap', embed_dim=64, depth=2, num_heads=2, mlp_ratio=1.0, num_classes=5)


# torchvision's uint8 antialiased resize (what Siglip2ImageProcessor runs), for
# Tests/VAImageIOTests/TorchvisionResizeTests.swift: images/cat.png (451x300) to sizes that
# shrink, grow and mix the two, bilinear and bicubic.
import torchvision.transforms.v2.functional as tvF
resize_out = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VAImageIOTests', 'Fixtures', 'generated', 'torchvision')
os.makedirs(resize_out, exist_ok=True)
cat = torch.from_numpy(np.asarray(Image.open(os.path.join(os.path.dirname(__file__), '..', '..', 'images', 'cat.png')).convert('RGB')).copy()).permute(2, 0, 1)
for mode, name in ((tvF.InterpolationMode.BILINEAR, 'bilinear'), (tvF.InterpolationMode.BICUBIC, 'bicubic')):
    for w, h in ((224, 144), (96, 160), (512, 336), (608, 96)):
        out = tvF.resize(cat, [h, w], interpolation=mode, antialias=True)
        Image.fromarray(out.permute(1, 2, 0).numpy()).save(os.path.join(resize_out, f'cat_{name}_{w}x{h}.png'))

# get_image_size_for_max_num_patches on a few sizes, for Tests/VisionAttentionTests/NaFlexGeometryTests.swift.
from transformers.models.siglip2.image_processing_siglip2 import get_image_size_for_max_num_patches
for h, w, n in ((224, 224, 64), (100, 170, 64), (480, 640, 256), (1000, 50, 256), (7, 9, 256), (300, 451, 1024), (512, 512, 196)):
    print(f'  ({h}, {w}, {n}) -> {get_image_size_for_max_num_patches(h, w, 16, n)}')
