"""Writes Tests/VAInspectionTests/Fixtures/attention_reference.json.

Regenerate: python3 Scripts/reference/inspection_fixtures.py   (numpy 2.4)

A random, peaky attention stack (3 layers, 2 heads, class token + 2 registers, a 4x3 patch
grid) with reference values computed independently in numpy:
- rollout: vit-explain's loop (github.com/jacobgil/vit-explain, vit_rollout.py) with head
  fusion "mean", discard ratio 0 and 0.5, but with rows normalised by their own sums (the
  original's `a / a.sum(dim=-1)` broadcasts the sums across columns);
- distance: the probing-vits reproduction of ViT Figure 7 (mean attention distance over
  patch tokens, prefix tokens dropped, weights not renormalised), patch size 16.
"""
import json, os
import numpy as np

rng = np.random.default_rng(0)
layers, heads, prefix, gw, gh, patch = 3, 2, 3, 4, 3, 16
t = prefix + gw * gh
logits = rng.normal(size=(layers, heads, t, t)) * 3.0  # peaky rows
attn = np.exp(logits - logits.max(-1, keepdims=True)); attn /= attn.sum(-1, keepdims=True)

def rollout(attn, discard_ratio):
    result = np.eye(t)
    for a in attn:
        fused = a.mean(0)
        flat = fused.reshape(-1).copy()
        k = int(flat.size * discard_ratio)
        if k:
            idx = np.argsort(flat, kind='stable')[:k]
            idx = idx[idx != 0]
            flat[idx] = 0
        fused = flat.reshape(t, t)
        a = (fused + np.eye(t)) / 2
        a = a / a.sum(-1, keepdims=True)
        result = a @ result
    return result

def distances(attn):
    ys, xs = np.divmod(np.arange(gw * gh), gw)
    centres = np.stack([xs, ys], 1) * patch
    d = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1)
    out = np.zeros((layers, heads))
    for l in range(layers):
        for h in range(heads):
            w = attn[l, h, prefix:, prefix:]
            out[l, h] = (w * d).sum(-1).mean()
    return out

json.dump({
    'layers': layers, 'heads': heads, 'prefix': prefix, 'grid_width': gw, 'grid_height': gh, 'patch': patch,
    'attention': attn.astype(np.float32).reshape(-1).tolist(),
    'rollout_0': rollout(attn, 0).reshape(-1).tolist(),
    'rollout_0_5': rollout(attn, 0.5).reshape(-1).tolist(),
    'distance': distances(attn).reshape(-1).tolist(),
}, open(os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VAInspectionTests', 'Fixtures', 'attention_reference.json'), 'w'))
print('ok')
