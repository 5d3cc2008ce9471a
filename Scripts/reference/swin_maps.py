"""Writes Tests/VitAttendCLITests/Fixtures/swin/{fixture}{suffix}.safetensors: the references for
vit-attend's Swin maps on the Swin fixtures (Tests/VAModelsTests/Fixtures/{timm_swin,timm_swinv2,
hf_swin,hf_swinv2}, written by swin_fixtures.py), at 224x224 (suffix '') and 120x200 ('2',
drawn with --resize none), the query at the image centre (pixel floor(W/2), floor(H/2)).

Regenerate: python3 Scripts/reference/swin_maps.py   (torch 2.15, timm 1.0.31, transformers 5.25.0, numpy)

Each file holds
  rollout [h0, w0]   the query's effective field over the first stage's map, computed with full
                     numpy matrices from the fixture's reference attention (reference*.safetensors,
                     PyTorch's own weights): per block A [N, N] from the head-mean weights (cells
                     found by np.roll and zero-padding an index map, then partitioning it as
                     window_partition does), R = rownorm(A + I); per merging M [N/4, N] with 1/|group|
                     for each 2x2 group; the query's row of R_L ... M ... R_0 (see SwinScene+Rollout.swift
                     for the definition this follows)
  gradcam [h, w]     Grad-CAM of the top class on the final norm's output (timm's `norm`,
                     transformers' `layernorm`), as pytorch-grad-cam computes it with the Swin
                     tutorial's reshape: weights = mean over cells of d score / d A, cam =
                     relu(sum_c w_c A_c), not rescaled; plain torch autograd
  query_cell [1]     (I64) the query's cell in the last stage's map, row-major
  distance.{l} [heads]  mean attention distance of block l in input pixels: per query slot on a
                     real cell, sum over real key cells of weight x distance between the cells
                     (unshifted map, cell = 8 * 2^stage px), averaged over the queries
"""
import json, os
import numpy as np
import torch
import timm
import timm.layers
import transformers
from safetensors.numpy import load_file as load_np, save_file as save_np
from safetensors.torch import load_file

timm.layers.set_fused_attn(False)
here = os.path.dirname(__file__)
fixtures = os.path.join(here, '..', '..', 'Tests', 'VAModelsTests', 'Fixtures')
out = os.path.join(here, '..', '..', 'Tests', 'VitAttendCLITests', 'Fixtures', 'swin')
os.makedirs(out, exist_ok=True)
PATCH, WINDOW, DEPTHS = 8, 7, (2, 2)


def grids(h, w):
    sizes = [(-(-h // PATCH), -(-w // PATCH))]
    for _ in DEPTHS[1:]:
        sizes.append((-(-sizes[-1][0] // 2), -(-sizes[-1][1] // 2)))
    return sizes


def window_and_shift(h, w, odd, library):
    """(wh, ww, sy, sx) as timm (per axis) or transformers (the smaller side) clamp them."""
    shift = WINDOW // 2 if odd else 0
    if library == 'timm':
        wh, sy = (h, 0) if h <= WINDOW else (WINDOW, shift)
        ww, sx = (w, 0) if w <= WINDOW else (WINDOW, shift)
        return wh, ww, sy, sx
    if min(h, w) <= WINDOW:
        return min(h, w), min(h, w), 0, 0
    return WINDOW, WINDOW, shift, shift


def slots(h, w, wh, ww, sy, sx, library):
    """Cell index (or -1 for padding) of every window slot, [windows, N]."""
    idx = np.arange(h * w).reshape(h, w)
    hp, wp = -(-h // wh) * wh, -(-w // ww) * ww
    pad = lambda a: np.pad(a, ((0, hp - h), (0, wp - w)), constant_values=-1)
    rolled = pad(np.roll(idx, (-sy, -sx), axis=(0, 1))) if library == 'timm' else np.roll(pad(idx), (-sy, -sx), axis=(0, 1))
    return rolled.reshape(hp // wh, wh, wp // ww, ww).transpose(0, 2, 1, 3).reshape(-1, wh * ww)


def rollout(reference, h, w, library, point):
    sizes = grids(h, w)
    matrices = []  # per block R, per stage change M, in forward order
    l = 0
    for stage, depth in enumerate(DEPTHS):
        gh, gw = sizes[stage]
        if stage > 0:
            fh, fw = sizes[stage - 1]
            m = np.zeros((gh * gw, fh * fw))
            for y in range(gh):
                for x in range(gw):
                    members = [(2 * y + dy) * fw + 2 * x + dx for dy in (0, 1) for dx in (0, 1) if 2 * y + dy < fh and 2 * x + dx < fw]
                    m[y * gw + x, members] = 1 / len(members)
            matrices.append(m)
        for i in range(depth):
            wh, ww, sy, sx = window_and_shift(gh, gw, i % 2 == 1, library)
            cells = slots(gh, gw, wh, ww, sy, sx, library)
            attn = reference[f'attn.{l}'].astype(np.float64).mean(axis=1)  # [windows, N, N]
            assert attn.shape == (cells.shape[0], wh * ww, wh * ww), (attn.shape, cells.shape)
            a = np.zeros((gh * gw, gh * gw))
            for win in range(cells.shape[0]):
                real = cells[win] >= 0
                a[np.ix_(cells[win][real], cells[win][real])] = attn[win][np.ix_(real, real)]
            r = a + np.eye(gh * gw)
            matrices.append(r / r.sum(axis=1, keepdims=True))
            l += 1
    product = np.eye(matrices[-1].shape[0])
    for m in reversed(matrices):
        product = product @ m
    gh, gw = sizes[-1]
    cell = PATCH << (len(DEPTHS) - 1)
    q = min(point[1] // cell, gh - 1) * gw + min(point[0] // cell, gw - 1)
    return product[q].reshape(sizes[0]).astype(np.float32), q


def distances(reference, h, w, library):
    out = {}
    l = 0
    for stage, depth in enumerate(DEPTHS):
        gh, gw = grids(h, w)[stage]
        for i in range(depth):
            wh, ww, sy, sx = window_and_shift(gh, gw, i % 2 == 1, library)
            cells = slots(gh, gw, wh, ww, sy, sx, library)
            attn = reference[f'attn.{l}'].astype(np.float64)  # [windows, heads, N, N]
            ys, xs = np.divmod(np.maximum(cells, 0), gw)
            total, queries = np.zeros(attn.shape[1]), 0
            for win in range(cells.shape[0]):
                real = cells[win] >= 0
                d = np.hypot(ys[win][:, None] - ys[win][None, :], xs[win][:, None] - xs[win][None, :]) * (PATCH << stage)
                d = d * real[None, :]  # padding keys count nothing
                total += (attn[win] * d[None])[:, real].sum(axis=(1, 2))
                queries += real.sum()
            out[f'distance.{l}'] = (total / queries).astype(np.float32)
            l += 1
    return out


def gradcam(model, layer, x, expected):
    kept = {}
    hook = layer.register_forward_hook(lambda m, i, o: kept.__setitem__('a', o))
    logits = model(x[None])
    logits = logits.logits if hasattr(logits, 'logits') else logits
    hook.remove()
    assert np.abs(logits[0].detach().numpy() - expected).max() < 1e-4, 'the model does not reproduce the fixture'
    a = kept['a']
    top = int(logits[0].argmax())
    grad, = torch.autograd.grad(logits[0, top], a)
    a, grad = a.detach().reshape(a.shape[0], -1, a.shape[-1])[0], grad.reshape(a.shape[0], -1, a.shape[-1])[0]  # [h*w, C]
    weights = grad.mean(dim=0)
    return torch.relu((a * weights).sum(dim=1)).numpy()


for name in ['timm_swin', 'timm_swinv2', 'hf_swin', 'hf_swinv2']:
    folder = os.path.join(fixtures, name)
    library = 'timm' if name.startswith('timm') else 'hf'
    for suffix in ['', '2']:
        reference = load_np(os.path.join(folder, f'reference{suffix}.safetensors'))
        x = torch.from_numpy(reference['input'].astype(np.float32))
        h, w = x.shape[1:]
        field, q = rollout(reference, h, w, library, (w // 2, h // 2))
        if library == 'timm':
            config = json.load(open(os.path.join(folder, 'config.json')))
            args = {k: tuple(v) if isinstance(v, list) else v for k, v in config['model_args'].items()}
            model = timm.create_model(config['architecture'].split('.')[0], pretrained=False, img_size=(h, w), **args).eval()
            model.load_state_dict(load_file(os.path.join(folder, 'model.safetensors')))
            norm = model.norm
        else:
            cls = transformers.SwinForImageClassification if name == 'hf_swin' else transformers.Swinv2ForImageClassification
            model = cls.from_pretrained(folder, attn_implementation='eager').eval()
            norm = (model.swin if hasattr(model, 'swin') else model.swinv2).layernorm
        cam = gradcam(model, norm, x, reference['logits'])
        last = grids(h, w)[-1]
        tensors = {'rollout': field, 'gradcam': cam.reshape(last).astype(np.float32), 'query_cell': np.array([q], dtype=np.int64)}
        tensors.update(distances(reference, h, w, library))
        save_np(tensors, os.path.join(out, f'{name}{suffix}.safetensors'))
        print(name, suffix, field.shape, 'sum', field.sum(), 'q', q, 'cam max', cam.max())
