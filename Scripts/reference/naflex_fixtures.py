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
import os
import numpy as np
import torch
import timm
import timm.layers
from PIL import Image
from safetensors.torch import save_file
from transformers import Siglip2Config, Siglip2ImageProcessor, Siglip2Model, Siglip2VisionConfig, Siglip2VisionModel
from fixture_common import FIXTURES as root, HALF_MEAN, HALF_STD, normalised, perturb, png, save_timm_hub, timm_run

torch.manual_seed(0)
timm.layers.set_fused_attn(False)
MAX_PATCHES = 64  # 224x224 -> 128x128 (8x8 patches); 100x170 -> 96x160 (6x10), each axis its own scale
NOISE = 0.15


def peaky(model, names, scale):
    perturb(model, names, scale, tokens=('reg_token', 'attn_pool.latent', 'probe'), pos_embed=0.5)


def hf_case(case, model, text=False):
    print(case)
    folder = os.path.join(root, case)
    os.makedirs(folder, exist_ok=True)
    model = model.eval()
    peaky(model, ('q_proj.weight', 'k_proj.weight', 'in_proj_weight'), 2.0)
    vision = model.vision_model if text else model
    processor = Siglip2ImageProcessor(max_num_patches=MAX_PATCHES, patch_size=16)
    for suffix, (h, w) in (('', (224, 224)), ('2', (100, 170))):
        png(folder, h, w, f'input{suffix}.png', NOISE)  # read back through the processor
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
        x = normalised(png(folder, h, w, f'input{suffix}.png', NOISE), HALF_MEAN, HALF_STD)
        save_file(timm_run(model, x), os.path.join(folder, f'reference{suffix}.safetensors'))
    save_timm_hub(folder, model, architecture, args, HALF_MEAN, HALF_STD)


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
