#!/usr/bin/env python3
"""The peer of `vit-attend IMG --weights DIR --resize none --dump D --out O` for first-run
latency: a fresh numpy process that decodes the image (Pillow), loads a timm ViT's
safetensors weights (safetensors.numpy) and runs the forward pass with every layer's
attention computed, and nothing else (no figure, no dump). Float32, numpy's OpenBLAS.

Usage: python3 Benchmarks/scripts/numpy_vit_forward.py IMG DIR   (DIR holds model.safetensors and
config.json with model_args embed_dim/depth/num_heads/patch_size and pretrained_cfg mean/std)
"""
import json, os, sys
import numpy as np
from PIL import Image
from safetensors.numpy import load_file
from scipy.special import erf

image_path, folder = sys.argv[1:3]
config = json.load(open(os.path.join(folder, "config.json")))
args, pre = config["model_args"], config["pretrained_cfg"]
p, d, depth, heads = args["patch_size"], args["embed_dim"], args["depth"], args["num_heads"]
w = load_file(os.path.join(folder, "model.safetensors"))

image = Image.open(image_path).convert("RGB")
gw, gh = image.width // p, image.height // p
x = np.asarray(image, dtype=np.float32)[: gh * p, : gw * p] / 255
x = (x - np.array(pre["mean"], np.float32)) / np.array(pre["std"], np.float32)

def layer_norm(t, prefix):
    mean = t.mean(-1, keepdims=True)
    var = ((t - mean) ** 2).mean(-1, keepdims=True)
    return (t - mean) / np.sqrt(var + 1e-6) * w[prefix + ".weight"] + w[prefix + ".bias"]

def linear(t, prefix):
    return t @ w[prefix + ".weight"].T + w[prefix + ".bias"]

# Patch embedding as a matmul over flattened (C, p, p) patches, the conv's weight layout.
patches = x.reshape(gh, p, gw, p, 3).transpose(0, 2, 4, 1, 3).reshape(gh * gw, 3 * p * p)
tokens = patches @ w["patch_embed.proj.weight"].reshape(d, -1).T + w["patch_embed.proj.bias"]
assert gw * gh + 1 == w["pos_embed"].shape[1], "this peer does not resample position embeddings"
tokens = np.concatenate([w["cls_token"][0], tokens]) + w["pos_embed"][0]
t, hd = tokens.shape[0], d // heads
attentions = []
for i in range(depth):
    b = f"blocks.{i}"
    qkv = linear(layer_norm(tokens, b + ".norm1"), b + ".attn.qkv").reshape(t, 3, heads, hd).transpose(1, 2, 0, 3)
    q, k, v = qkv[0], qkv[1], qkv[2]
    logits = (q * hd ** -0.5) @ k.transpose(0, 2, 1)
    logits -= logits.max(-1, keepdims=True)
    a = np.exp(logits); a /= a.sum(-1, keepdims=True)
    attentions.append(a)
    tokens = tokens + linear((a @ v).transpose(1, 0, 2).reshape(t, d), b + ".attn.proj")
    h = linear(layer_norm(tokens, b + ".norm2"), b + ".mlp.fc1")
    h = 0.5 * h * (1 + erf(h / np.sqrt(2, dtype=np.float32)))
    tokens = tokens + linear(h.astype(np.float32), b + ".mlp.fc2")
logits = linear(layer_norm(tokens, "norm")[0], "head")
print(f"{len(attentions)} layers of attention {attentions[0].shape}, top class {int(logits.argmax())}")
