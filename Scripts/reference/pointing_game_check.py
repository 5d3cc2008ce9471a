"""The pointing game of a patch-classify conv-stem checkpoint, recomputed in timm.

Usage: python3 Scripts/reference/pointing_game_check.py RUN/checkpoint FOLDER MASKS [all]

Builds the checkpoint in timm (VisionTransformer with HybridEmbed(ConvStem), as the example's
README shows), takes patch-classify's validation split of FOLDER (every fifth image of each
class, sorted by name; `all`: every image, as `evaluate --split all`; images at their own
size, which must be the model's; classes matched to outputs by config.json's label_names
when it has them, else by sorted order), and scores the
last layer's head-averaged attention maps with Zhang et al.'s pointing game as
patch-classify does (bilinear upsampling to the image, peak within 15/224 of the side of the
mask, 4 pixels at 64): the class token's row ("cls", when the model has one), the patches'
mean row ("meanrow", what patch-classify calls "pool" for an averaged model) and, for a model
with an attention-pooling head (global_pool 'map'), that head's attention over the patches,
heads averaged ("pool", what patch-classify calls "pool" for it). The matching figure
reproduces metrics.json's pointing_game. It also prints the validation accuracy timm's
forward gives, a check that the checkpoint loads as patch-classify ran it.
"""
import glob
import json
import os
import sys
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file
from timm.layers import HybridEmbed
from timm.models.vision_transformer import VisionTransformer
from timm.models.vision_transformer_hybrid import ConvStem


def build(run):
    config = json.load(open(os.path.join(run, "config.json")))
    stem = config["vision_attention"]["conv_stem"]
    backbone = ConvStem(depth=len(stem["channels"]), channels=tuple(stem["channels"]),
                        kernel_size=tuple(stem["kernel_size"]), stride=tuple(stem["stride"]))
    model = VisionTransformer(embed_layer=partial(HybridEmbed, backbone=backbone, proj=False), **config["model_args"]).eval()
    missing, unexpected = model.load_state_dict(load_file(os.path.join(run, "model.safetensors")), strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    return model


def last_attention(model, x):
    h = model._pos_embed(model.patch_embed(x))
    for block in model.blocks[:-1]:
        h = block(h)
    block = model.blocks[-1]
    q = block.norm1(h)
    b, n, c = q.shape
    qkv = block.attn.qkv(q).reshape(b, n, 3, block.attn.num_heads, c // block.attn.num_heads).permute(2, 0, 3, 1, 4)
    return (qkv[0] @ qkv[1].transpose(-2, -1) * block.attn.scale).softmax(-1).mean(1)  # [B, N, N]


def pool_attention(model, x):
    """timm's AttentionPoolLatent weights over the patches, heads averaged: [B, N]."""
    tokens = model.forward_features(x)[:, model.num_prefix_tokens:]
    pool = model.attn_pool
    b, n, c = tokens.shape
    q = pool.q(pool.latent.expand(b, -1, -1)).reshape(b, 1, pool.num_heads, pool.head_dim).transpose(1, 2)
    k = pool.kv(tokens).reshape(b, n, 2, pool.num_heads, pool.head_dim).permute(2, 0, 3, 1, 4)[0]
    return (q @ k.transpose(-2, -1) * pool.scale).softmax(-1).mean(1)[:, 0]


def main():
    run, folder, masks = sys.argv[1:4]
    every = sys.argv[4:] == ["all"]
    model = build(run)
    hits, correct = {}, []
    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    names = json.load(open(os.path.join(run, "config.json"))).get("label_names", classes)
    for name in classes:
        label = names.index(name)
        files = sorted(glob.glob(os.path.join(folder, name, "*.png")))
        val = [f for k, f in enumerate(files, 1) if every or k % 5 == 0]
        x = torch.tensor(np.stack([np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) / 255 for f in val])).permute(0, 3, 1, 2)
        x = (x - 0.5) / 0.5
        objects = [np.asarray(Image.open(os.path.join(masks, name, os.path.basename(f)))) > 127 for f in val]
        side = x.shape[-1]
        tolerance = round(15 * side / 224)
        with torch.no_grad():
            a = last_attention(model, x)
            correct += (model(x).argmax(-1) == label).tolist()
            p = model.num_prefix_tokens
            maps = {"cls": a[:, 0, p:]} if p else {}
            maps["meanrow"] = a[:, p:, p:].mean(1)
            if getattr(model, "attn_pool", None) is not None:
                maps["pool"] = pool_attention(model, x)
        for key, m in maps.items():
            g = int(m.shape[1] ** 0.5)
            up = F.interpolate(m.reshape(-1, 1, g, g), size=(side, side), mode="bilinear", align_corners=False)[:, 0].numpy()
            for i, mask in enumerate(objects):
                py, px = np.unravel_index(up[i].argmax(), up[i].shape)
                ys, xs = np.nonzero(mask)
                hits.setdefault(key, []).append(bool(((ys - py) ** 2 + (xs - px) ** 2).min() <= tolerance ** 2))
    print(run, {k: round(float(np.mean(v)), 4) for k, v in hits.items()}, f"over {len(correct)} images,",
          f"accuracy {np.mean(correct):.4f}")


if __name__ == "__main__":
    main()
