"""One training step of patch-detect's SmallDETR through PyTorch autograd, as the PyTorch recipe
(Scripts/reference/detect_torch_recipe.py) takes it: Tests/PatchDetectTests/Fixtures/detect_step.

The model is the committed tiny checkpoint (Fixtures/detect_small_detr, SmallDETRTests'
fixtureModel: 2 classes, 5 queries in 2 groups) built by the recipe's `build_model` (trainable
nn.BatchNorm2d, groups × queries query positions), with tensors redrawn and written into the
fixture (`initial.*`) where the export lacks them or a fresh model's values would hide a path:
- the second query group's positions (the export keeps the first group only), N(0, 1);
- the box head's last layer, which a fresh SmallDETR zeroes (every box would be the centre and
  every earlier box-head gradient exactly 0), N(0, 0.3);
- every other rank-1 parameter (norms' γ and β, biases), fresh at 1 or 0 where a norm applied
  twice or a misplaced bias changes nothing, moved by N(0, 0.2) or N(0, 0.1).

The step, in training mode (batch norms on batch statistics, every parameter trainable as
patch-detect trains it): three 64×64 images (the committed image.png with one square,
two_objects.png with a disc and a square, empty.png with nothing) normalised as
DetrImageProcessor, the recipe's `forward` (groups stacked along the batch axis) and `loss_fn`
(SetCriterion at every decoder layer, summed over groups), backward, then the recipe's optimiser
step (global-norm clip 0.1, AdamW at 5e-4 / 2.5e-4 for the backbone, weight decay 1e-4 on
tensors of rank ≥ 2). Computed in float64 from the float32 weights and images (a reference more
exact than either side's float32); `float32_error` records how far torch's own float32 run is
from it.

Written: step.safetensors (`initial.*`, `grad.*`, `running.*` (batch norms' statistics after
the step), `after.*` (parameters after AdamW), `logits` [L, B, G·Q, C+1] and `boxes`
[L, B, G·Q, 4] in SmallDETR's layout, every name transformers 4's export name) and step.json
(targets, loss, per-layer terms and matches, gradient norm, rates).

Written against torch 2.15, transformers 5.25, scipy 1.17.
Run: python3 Scripts/reference/detect_step_fixtures.py
"""
import json, os, sys

import numpy as np
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from detect_loss_fixtures import match, layer_losses  # noqa: E402
from detect_torch_recipe import build_model, forward, loss_fn, batch_tensor  # noqa: E402

FIXTURES = os.path.join(HERE, '..', '..', 'Tests', 'PatchDetectTests', 'Fixtures')
MODEL = os.path.join(FIXTURES, 'detect_small_detr')
OUT = os.path.join(FIXTURES, 'detect_step')
GROUPS, QUERIES, CLASSES = 2, 5, 2
LR, BACKBONE_LR, WEIGHT_DECAY, CLIP = 5e-4, 2.5e-4, 1e-4, 0.1


def export_name(name):
    """transformers 5's module name -> the name patch-detect exports (transformers 4's, as the hub's files)."""
    name = name.replace('model.backbone.model.', 'model.backbone.conv_encoder.model.')
    name = name.replace('.o_proj.', '.out_proj.').replace('.mlp.fc1.', '.fc1.').replace('.mlp.fc2.', '.fc2.')
    return name


def images():
    """The three images [3, 64, 64] uint8 and their targets (labels 0 disc, 1 square; cx, cy, w, h in [0, 1])."""
    committed = np.asarray(Image.open(os.path.join(MODEL, 'image.png')).convert('RGB'))
    rng = np.random.default_rng(9)
    ys, xs = np.meshgrid(np.arange(64), np.arange(64), indexing='ij')
    base = np.stack([np.sin(xs / 9.0 + ys / 13.0), np.cos(ys / 7.0), (xs + ys) / 128.0], -1) * 0.3 + 0.4
    two = base.copy()
    two[(ys - 20) ** 2 + (xs - 44) ** 2 < 100] = [0.2, 0.8, 0.9]  # disc, centre (44, 20), radius 10
    two[40:56, 8:28] = [0.95, 0.9, 0.2]                             # square, rows 40..55, columns 8..27
    empty = base[::-1].copy()
    written = []
    for name, rgb in [('two_objects.png', two), ('empty.png', empty)]:
        pixels = (np.clip(rgb + 0.04 * rng.standard_normal(rgb.shape), 0, 1) * 255).round().astype(np.uint8)
        Image.fromarray(pixels).save(os.path.join(OUT, name))
        written.append(pixels)
    targets = [([1], [[20 / 64, 30 / 64, 20 / 64, 20 / 64]]),
               ([0, 1], [[44 / 64, 20 / 64, 20 / 64, 20 / 64], [18 / 64, 48 / 64, 20 / 64, 16 / 64]]),
               ([], [])]
    return [torch.from_numpy(p.copy()).permute(2, 0, 1) for p in [committed] + written], targets


def load_model():
    """The recipe's model holding the committed checkpoint plus the fixture's two redrawn tensors."""
    model = build_model(MODEL, GROUPS, QUERIES)
    params = dict(model.named_parameters())
    state = model.state_dict()
    by_export = {export_name(k): k for k in state if not k.endswith('num_batches_tracked')}
    g = torch.Generator().manual_seed(17)
    initial = {}
    with safe_open(os.path.join(MODEL, 'model.safetensors'), 'pt') as f, torch.no_grad():
        assert set(f.keys()) == set(by_export), sorted(set(f.keys()) ^ set(by_export))
        for name in f.keys():
            value = f.get_tensor(name)
            if name == 'model.query_position_embeddings.weight':
                value = torch.cat([value, torch.randn(value.shape, generator=g)])
                initial[name] = value
            state[by_export[name]].copy_(value)
        for name in ['bbox_predictor.layers.2.weight', 'bbox_predictor.layers.2.bias']:
            initial[name] = 0.3 * torch.randn(params[name].shape, generator=g)
            params[name].copy_(initial[name])
        # A fresh model's norms sit at γ = 1, β = 0 and its biases at 0, where a norm applied
        # twice or a bias added in the wrong place changes nothing; move them off.
        for name, p in params.items():
            if p.ndim == 1 and export_name(name) not in initial:
                noise = torch.randn(p.shape, generator=g)
                initial[export_name(name)] = p + (0.2 if name.endswith('weight') else 0.1) * noise
                p.copy_(initial[export_name(name)])
    assert all(p.requires_grad for p in model.parameters()), 'the recipe trains every tensor, as patch-detect'
    return model, initial


def step(dtype, pixels, targets):
    """Loss, logits, boxes, matches, the model after backward and after the optimiser step."""
    model, initial = load_model()
    model.to(dtype).train()
    x, mask = batch_tensor(pixels, [False] * len(pixels))
    tg = [{'labels': torch.tensor(l, dtype=torch.int64), 'boxes': torch.tensor(b, dtype=torch.float32).to(dtype).view(-1, 4)} for l, b in targets]
    logits, boxes = forward(model, x.to(dtype), mask, GROUPS, QUERIES)
    loss, _ = loss_fn(logits, boxes, tg, GROUPS, CLASSES)
    model.zero_grad(set_to_none=True)
    loss.backward()
    # Per-layer terms and matches, as SetCriterion reports them (the recipe's loss_fn sums them).
    layers = []
    num_boxes = max(float(sum(len(t['labels']) for t in tg)), 1.0)
    B = len(tg)
    for l in range(logits.shape[0]):
        indices = match(logits[l].detach(), boxes[l].detach(), tg * GROUPS)
        ce, l1, gi = layer_losses(logits[l].detach(), boxes[l].detach(), tg * GROUPS, indices, CLASSES, 0.1, num_boxes)
        per_image = [[] for _ in range(B)]
        for k, (qs, ts) in enumerate(indices):
            g, i = divmod(k, B)
            per_image[i] += [(g * QUERIES + int(q), int(t)) for q, t in zip(qs, ts)]
        layers.append({'classification': GROUPS * ce.item(), 'box_l1': l1.item(), 'giou': gi.item(),
                       'matches': [sorted(p) for p in per_image]})
    # [L, G·B, Q, ·] (group-major) -> [L, B, G·Q, ·], SmallDETR's layout.
    def swift_layout(t):
        L, _, Q, K = t.shape
        return t.detach().view(L, GROUPS, B, Q, K).permute(0, 2, 1, 3, 4).reshape(L, B, GROUPS * Q, K)
    grads = {export_name(n): p.grad.detach().clone() for n, p in model.named_parameters()}
    running = {export_name(n): b.detach().clone() for n, b in model.named_buffers() if 'running_' in n}
    # The recipe's optimiser: two rates, decay on rank >= 2 only, global-norm clipping.
    backbone = {id(p) for p in model.model.backbone.parameters()}
    groups = {}
    for p in model.parameters():
        groups.setdefault((id(p) in backbone, p.ndim >= 2), []).append(p)
    opt = torch.optim.AdamW([{'params': ps, 'lr': BACKBONE_LR if k[0] else LR, 'weight_decay': WEIGHT_DECAY if k[1] else 0.0}
                             for k, ps in groups.items()], lr=LR)
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
    opt.step()
    after = {export_name(n): p.detach().clone() for n, p in model.named_parameters()}
    return {'loss': loss.item(), 'layers': layers, 'logits': swift_layout(logits), 'boxes': swift_layout(boxes),
            'grads': grads, 'running': running, 'after': after, 'norm': float(norm), 'initial': initial}


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(2)
    pixels, targets = images()
    ref = step(torch.float64, pixels, targets)
    single = step(torch.float32, pixels, targets)
    # How far torch's own float32 step is from the float64 reference, per tensor, relative to the
    # tensor's largest magnitude: the floor any float32 implementation can be held to.
    # Gradients that are zero in exact arithmetic (|·| < 1e-12 in float64) are rounding noise in
    # float32 and are reported apart, as their largest absolute value.
    def worst(a, b, zero=False):
        keys = [k for k in b if (b[k].abs().max() < 1e-12) == zero]
        if zero:
            return max((float(a[k].abs().max()) for k in keys), default=0.0)
        return max(float((a[k].double() - b[k]).abs().max() / b[k].abs().max()) for k in keys)
    float32_error = {'grad': worst(single['grads'], ref['grads']), 'grad_zero_in_exact_arithmetic': worst(single['grads'], ref['grads'], zero=True),
                     'running': worst(single['running'], ref['running']), 'loss': abs(single['loss'] - ref['loss']) / abs(ref['loss'])}
    zero = sorted(k for k, v in ref['grads'].items() if v.abs().max() < 1e-12)
    print('zero in exact arithmetic:', zero)
    print('gradient magnitudes', min(float(v.abs().max()) for k, v in ref['grads'].items() if k not in zero), 'to', max(float(v.abs().max()) for v in ref['grads'].values()))
    assert [l['matches'] for l in single['layers']] == [l['matches'] for l in ref['layers']], 'float32 and float64 match differently'
    tensors = {'logits': ref['logits'], 'boxes': ref['boxes']}
    for prefix in ['initial', 'grads', 'running', 'after']:
        for k, v in ref[prefix].items():
            tensors[{'grads': 'grad'}.get(prefix, prefix) + '.' + k] = v
    save_file({k: v.float().contiguous() for k, v in tensors.items()}, os.path.join(OUT, 'step.safetensors'), metadata={'format': 'pt'})
    with open(os.path.join(OUT, 'step.json'), 'w') as f:
        json.dump({'images': ['../detect_small_detr/image.png', 'two_objects.png', 'empty.png'],
                   'targets': [{'labels': l, 'boxes': [v for b in bs for v in b]} for l, bs in targets],
                   'groups': GROUPS, 'queries': QUERIES, 'classes': CLASSES,
                   'learning_rate': LR, 'backbone_learning_rate': BACKBONE_LR, 'weight_decay': WEIGHT_DECAY, 'clip': CLIP,
                   'loss': ref['loss'], 'layers': ref['layers'], 'gradient_norm': ref['norm'], 'float32_error': float32_error}, f, indent=1)
    print(f"loss {ref['loss']:.6f}, gradient norm {ref['norm']:.4f}, torch float32 vs float64: {float32_error}")
    print(os.path.getsize(os.path.join(OUT, 'step.safetensors')), 'bytes of tensors,', len(tensors), 'tensors')


if __name__ == '__main__':
    main()
