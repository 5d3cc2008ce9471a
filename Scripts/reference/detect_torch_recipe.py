#!/usr/bin/env python3
"""patch-detect's training recipe in PyTorch, for a side-by-side run (issue 28).

Model: transformers' DetrForObjectDetection with Examples/patch-detect/model's config (ResNet
basic backbone 32/64/128, d_model 128, 2 encoder + 3 decoder layers, 4 heads, FFN 256), random
init, num_queries 80 = 4 groups of 20. The backbone's frozen batch norms are swapped for
trainable nn.BatchNorm2d (patch-detect trains them and exports the running statistics), and
every backbone parameter trains. Every decoder layer's output goes to the heads through the
shared final norm, and to the next layer as it is (DETR's auxiliary outputs). One training step
of this recipe matches patch-detect's gradients (Scripts/reference/detect_step_fixtures.py,
Tests/PatchDetectTests/TrainingStepGradientTests.swift). Runs logged before that check
(Examples/patch-detect/docs/logs/detect-train-coco-torch.md) trained with the backbone's
convolutions frozen at their random init and each decoder layer fed the previous one's normed
output.

Group DETR (Chen et al. 2023): the decoder runs once per group on a copy of the encoder memory
(groups stacked along the batch axis), so groups never attend to each other; every group is
matched one-to-one with DETR's Hungarian costs (class 1, L1 5, GIoU 2) and the losses add up.
Loss: DETR's SetCriterion (CE with eos 0.1, 5·L1, 2·GIoU over N boxes in the batch) at every
decoder layer — the matcher and per-layer terms are Scripts/reference/detect_loss_fixtures.py's.
Inference keeps group 0.

Optimiser: AdamW, lr 5e-4 (transformer, heads) / 2.5e-4 (backbone), weight decay 1e-4 on
tensors of rank ≥ 2 only, global-norm clip 0.1, 5 % linear warm-up then cosine to 5 % of the
peak (patch-detect's LearningRateSchedule, linear from 0 at step 0). The first 12 steps ramp
at 1 % of the peak a step from 0; steps 3–12 are timed and the number of whole epochs that fits
the budget is fixed then (as patch-detect plans, without its per-epoch validation pass). Batch 8, images resized so the longer side is 128, random horizontal flips.

Data: a COCO folder split exactly as `patch-detect --val-fraction 0.1 --seed 0` does
(SplitMix64 Fisher–Yates over the file's image order). Evaluation: pycocotools bbox AP on the
validation split and on an optional held-out folder, every query of group 0 kept with its best
real class (DetrImageProcessor.post_process_object_detection without a threshold).

    python3 Scripts/reference/detect_torch_recipe.py --data /work/dw/pillow-3000 \
        --held-out /work/dw/pillow-heldout --budget 20
"""
import argparse, json, math, os, sys, time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from detect_loss_fixtures import match, layer_losses  # noqa: E402

MASK64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def split(n, fraction, seed):
    """COCODataset.split(validationFraction:seed:): indices of (train, validation)."""
    order = list(range(n))
    rng = SplitMix64(seed)
    for i in range(n - 1, 0, -1):
        j = rng.next() % (i + 1)
        order[i], order[j] = order[j], order[i]
    count = min(n - 1, max(1, int(math.floor(fraction * n + 0.5))))
    held = set(order[:count])
    return [i for i in range(n) if i not in held], [i for i in range(n) if i in held]


MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


def load_folder(folder, size):
    """Images (uint8, longer side `size`), their targets (labels 0..C-1, normalized cxcywh) and the COCO dict."""
    coco = json.load(open(os.path.join(folder, 'annotations.json')))
    cats = [c['id'] for c in coco['categories']]
    by_image = {}
    for a in coco['annotations']:
        by_image.setdefault(a['image_id'], []).append(a)
    images, targets = [], []
    for im in coco['images']:
        img = Image.open(os.path.join(folder, 'images', im['file_name'])).convert('RGB')
        w, h = img.size
        s = size / max(w, h)
        if s != 1:
            img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)
        images.append(torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1))
        anns = by_image.get(im['id'], [])
        boxes = [[(x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h] for x, y, bw, bh in (a['bbox'] for a in anns)]
        targets.append({'labels': torch.tensor([cats.index(a['category_id']) for a in anns], dtype=torch.int64),
                        'boxes': torch.tensor(boxes, dtype=torch.float32).view(-1, 4)})
    return images, targets, coco


def batch_tensor(images, flips):
    """Normalized batch padded bottom-right, and its pixel mask."""
    H = max(i.shape[1] for i in images)
    W = max(i.shape[2] for i in images)
    x = torch.zeros(len(images), 3, H, W)
    mask = torch.zeros(len(images), H, W, dtype=torch.int64)
    for k, (im, f) in enumerate(zip(images, flips)):
        t = (im.float() / 255 - MEAN) / STD
        if f:
            t = t.flip(-1)
        x[k, :, :t.shape[1], :t.shape[2]] = t
        mask[k, :t.shape[1], :t.shape[2]] = 1
    return x, mask


def trainable_batch_norms(module):
    from transformers.models.detr.modeling_detr import DetrFrozenBatchNorm2d
    for name, child in module.named_children():
        if isinstance(child, DetrFrozenBatchNorm2d):
            setattr(module, name, nn.BatchNorm2d(child.weight.shape[0]))
        else:
            trainable_batch_norms(child)


def build_model(model_dir, groups, queries, init='patch-detect'):
    from transformers import DetrConfig, DetrForObjectDetection
    config = DetrConfig.from_pretrained(model_dir)
    config.num_queries = groups * queries
    # Off: with auxiliary_loss transformers' DetrDecoder feeds each layer the shared final norm of
    # the previous layer's output; DETR (and patch-detect's SmallDETR, and this model's export)
    # norms the outputs for the heads only. `forward` takes every layer's output itself.
    config.auxiliary_loss = False
    model = DetrForObjectDetection(config)
    trainable_batch_norms(model.model.backbone)
    # DetrConvEncoder freezes a ResNet backbone's parameters whose names lack "stage.1" to
    # "stage.3" (a timm-era filter); transformers' ResNet names them "stages.1" …, so every
    # convolution would stay at its initial weights. patch-detect trains the whole backbone.
    model.requires_grad_(True)
    if init == 'patch-detect':
        # patch-detect's SmallDETR init (DETR's): Xavier transformer projections and heads, query
        # positions N(0, 1) (nn.Embedding's default), the box head's last layer at zero. transformers'
        # _init_weights instead draws every Linear and the query embedding from N(0, 0.02).
        for mod in list(model.model.encoder.modules()) + list(model.model.decoder.modules()) + [model.class_labels_classifier] + list(model.bbox_predictor.layers[:-1]):
            if isinstance(mod, nn.Linear):
                nn.init.xavier_uniform_(mod.weight)
                nn.init.zeros_(mod.bias)
        nn.init.normal_(model.model.query_position_embeddings.weight, 0.0, 1.0)
        model.model.input_projection.reset_parameters()
        nn.init.zeros_(model.bbox_predictor.layers[-1].weight)
        nn.init.zeros_(model.bbox_predictor.layers[-1].bias)
    return model


def forward(model, pixels, mask, groups, queries):
    """Every decoder layer's logits and sigmoid boxes, [layers, groups·B, queries, ·] (group-major)."""
    m = model.model
    B = pixels.shape[0]
    feature_map, fmask = m.backbone(pixels, mask)[-1]
    projected = m.input_projection(feature_map).flatten(2).transpose(1, 2)
    pos = m.position_embedding(shape=feature_map.shape, device=pixels.device, dtype=pixels.dtype, mask=fmask).flatten(2).transpose(1, 2)
    flat_mask = fmask.flatten(1)
    memory = m.encoder(inputs_embeds=projected, attention_mask=flat_mask, spatial_position_embeddings=pos).last_hidden_state
    qpos = m.query_position_embeddings.weight[:groups * queries].view(groups, 1, queries, -1).expand(groups, B, queries, -1).reshape(groups * B, queries, -1)
    # Each decoder layer's output as the next layer receives it (DETR's intermediate outputs).
    outputs = []
    hooks = [layer.register_forward_hook(lambda module, args, output: outputs.append(output)) for layer in m.decoder.layers]
    try:
        m.decoder(inputs_embeds=torch.zeros_like(qpos), attention_mask=None,
                  spatial_position_embeddings=pos.repeat(groups, 1, 1), object_queries_position_embeddings=qpos,
                  encoder_hidden_states=memory.repeat(groups, 1, 1), encoder_attention_mask=flat_mask.repeat(groups, 1))
    finally:
        for hook in hooks:
            hook.remove()
    hidden = m.decoder.layernorm(torch.stack(outputs))  # [layers, groups·B, queries, d]
    return model.class_labels_classifier(hidden), model.bbox_predictor(hidden).sigmoid()


def loss_fn(logits, boxes, targets, groups, classes):
    """Σ over layers and groups of CE + 5·L1 + 2·GIoU (DETR SetCriterion; N = boxes in the batch)."""
    all_targets = targets * groups  # group-major, as the batch is stacked
    num_boxes = max(float(sum(len(t['labels']) for t in targets)), 1.0)
    total, last = 0, None
    for l in range(logits.shape[0]):
        indices = match(logits[l].detach(), boxes[l].detach(), all_targets)
        ce, l1, gi = layer_losses(logits[l], boxes[l], all_targets, indices, classes, 0.1, num_boxes)
        # Every group has the same matched targets, so the weighted-mean CE over all groups is the
        # per-group mean; ×groups makes it the sum over groups, as in patch-detect's SetCriterion.
        total = total + groups * ce + 5.0 * l1 + 2.0 * gi
        last = (ce.item() * groups, l1.item(), gi.item())
    return total, last


def lr_factor(step, total, warmup, min_frac):
    """patch-detect's plan (DetectionTraining.plan, LearningRateSchedule): linear from 0 at step 0
    over `warmup` steps, then half a cosine to `min_frac` at `total`. Step 12, where the plan takes
    over from the probe's ramp (at 0.11), gets 12 / warmup, as in patch-detect."""
    if step < warmup:
        return step / warmup
    t = 1.0 if total == warmup else min(1.0, (step - warmup) / (total - warmup))
    return min_frac + (1 - min_frac) * 0.5 * (1 + math.cos(math.pi * t))


@torch.no_grad()
def detect(model, images, queries, batch=50):
    model.eval()
    results = []
    for s in range(0, len(images), batch):
        ims = images[s:s + batch]
        x, mask = batch_tensor(ims, [False] * len(ims))
        logits, boxes = forward(model, x, mask, 1, queries)
        prob = logits[-1].softmax(-1)[..., :-1]
        scores, labels = prob.max(-1)
        for k in range(len(ims)):
            # Boxes are relative to the image's unpadded size (DETR's convention, as the targets).
            b = boxes[-1, k]
            cx, cy, bw, bh = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
            results.append((scores[k], labels[k], torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)))
    return results


def evaluate(model, images, coco, indices, queries, name):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    import contextlib, io
    cats = [c['id'] for c in coco['categories']]
    names = [c['name'] for c in coco['categories']]
    dets = []
    subset = [images[i] for i in indices]
    for i, (scores, labels, xyxy) in zip(indices, detect(model, subset, queries)):
        im = coco['images'][i]
        W, H = im['width'], im['height']
        for sc, lb, (x0, y0, x1, y1) in zip(scores.tolist(), labels.tolist(), xyxy.tolist()):
            x0, x1, y0, y1 = x0 * W, x1 * W, y0 * H, y1 * H
            dets.append({'image_id': im['id'], 'category_id': cats[lb], 'bbox': [x0, y0, x1 - x0, y1 - y0], 'score': sc})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = coco
        gt.createIndex()
        dt = gt.loadRes(dets)
        E = COCOeval(gt, dt, 'bbox')
        E.params.imgIds = [coco['images'][i]['id'] for i in indices]
        E.evaluate()
        E.accumulate()
        E.summarize()
    p = E.eval['precision']  # [T, R, K, A, M]
    per_class = {}
    for k, n in enumerate(names):
        a = p[:, :, k, 0, 2]
        a50 = p[0, :, k, 0, 2]
        per_class[n] = (float(a[a > -1].mean()), float(a50[a50 > -1].mean()))
    out = {'images': len(indices), 'AP': float(E.stats[0]), 'AP50': float(E.stats[1]), 'AP75': float(E.stats[2]),
           'AR100': float(E.stats[8]), 'per_class': per_class}
    print(f"[{name}] {len(indices)} images: AP {out['AP']:.3f}  AP50 {out['AP50']:.3f}  AP75 {out['AP75']:.3f}  AR100 {out['AR100']:.3f}")
    for n, (a, a50) in per_class.items():
        print(f"[{name}]   {n:9s} AP {a:.3f} (AP50 {a50:.3f})")
    sys.stdout.flush()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True)
    ap.add_argument('--held-out')
    ap.add_argument('--model-dir', default='Examples/patch-detect/model')
    ap.add_argument('--budget', type=float, default=20.0, help='training budget in minutes')
    ap.add_argument('--epochs', type=int, help='train this many epochs instead of planning from --budget (the plan then ignores the probe timing, so a loaded machine changes the wall time only)')
    ap.add_argument('--val-fraction', type=float, default=0.1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--batch-size', type=int, default=8)
    ap.add_argument('--groups', type=int, default=4)
    ap.add_argument('--queries', type=int, default=20)
    ap.add_argument('--lr', type=float, default=5e-4)
    ap.add_argument('--backbone-lr', type=float, default=2.5e-4)
    ap.add_argument('--weight-decay', type=float, default=1e-4)
    ap.add_argument('--clip', type=float, default=0.1)
    ap.add_argument('--image-size', type=int, default=128)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--log-every', type=int, default=50)
    ap.add_argument('--init', choices=['patch-detect', 'transformers'], default='patch-detect', help="weights' init (transformers: N(0, 0.02) everywhere, queries included)")
    ap.add_argument('--probe-steps', type=int, default=12, help='steps 3..N are timed to plan the schedule (patch-detect: 12)')
    ap.add_argument('--output', help='write metrics JSON here')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()
    images, targets, coco = load_folder(args.data, args.image_size)
    train_idx, val_idx = split(len(images), args.val_fraction, args.seed)
    classes = len(coco['categories'])
    print(f"data: {len(images)} images, {len(train_idx)} training / {len(val_idx)} validation, loaded in {time.time() - t0:.1f} s")

    model = build_model(args.model_dir, args.groups, args.queries, args.init)
    print(f"model: {sum(p.numel() for p in model.parameters()):,} parameters, {args.groups} groups of {args.queries} queries")
    backbone = {id(p) for p in model.model.backbone.parameters()}
    groups_ = {}
    for p in model.parameters():
        key = ('backbone' if id(p) in backbone else 'transformer', p.ndim >= 2)
        groups_.setdefault(key, []).append(p)
    param_groups = [{'params': ps, 'lr': args.backbone_lr if k[0] == 'backbone' else args.lr, 'base_lr': args.backbone_lr if k[0] == 'backbone' else args.lr,
                     'weight_decay': args.weight_decay if k[1] else 0.0} for k, ps in groups_.items()]
    opt = torch.optim.AdamW(param_groups, lr=args.lr)

    budget = args.budget * 60
    steps_per_epoch = math.ceil(len(train_idx) / args.batch_size)
    probe, untimed = args.probe_steps, 2
    total_steps, epochs = None, None
    gen = torch.Generator().manual_seed(args.seed)
    step, epoch = 0, 0
    start = time.time()
    probe_start = None
    model.train()
    while epochs is None or epoch < epochs:
        order = [train_idx[i] for i in torch.randperm(len(train_idx), generator=gen).tolist()]
        for s in range(0, len(order), args.batch_size):
            idx = order[s:s + args.batch_size]
            flips = (torch.rand(len(idx), generator=gen) < 0.5).tolist()
            x, mask = batch_tensor([images[i] for i in idx], flips)
            tg = []
            for i, f in zip(idx, flips):
                b = targets[i]['boxes'].clone()
                if f:
                    b[:, 0] = 1 - b[:, 0]
                tg.append({'labels': targets[i]['labels'], 'boxes': b})
            if total_steps is None:
                factor = 0.01 * step  # patch-detect's probe ramp: rate · step / 100, 0 at the first step
            else:
                factor = lr_factor(step, total_steps, warmup, 0.05)
            for g in opt.param_groups:
                g['lr'] = g['base_lr'] * factor
            logits, boxes = forward(model, x, mask, args.groups, args.queries)
            loss, (ce, l1, gi) = loss_fn(logits, boxes, tg, args.groups, classes)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            step += 1
            seconds = time.time() - start
            if step == untimed:
                probe_start = seconds
            if total_steps is None and step == probe:
                per_step = (seconds - probe_start) / (probe - untimed)
                epochs = args.epochs or max(1, int((budget - seconds + per_step * step) / (per_step * steps_per_epoch)))
                total_steps = epochs * steps_per_epoch
                warmup = min(max(probe, max(1, int(total_steps * 0.05))), total_steps)
                print(f"plan: {epochs} epochs of {steps_per_epoch} steps = {total_steps} steps, " + (f"fixed by --epochs ({per_step:.3f} s a step, steps 3-{probe})" if args.epochs else f"set by the {args.budget:g}-minute budget ({per_step:.3f} s a step, steps 3-{probe})") + f", warm-up {warmup}")
            if step % args.log_every == 0 or step == 1:
                print(f"step {step} epoch {epoch + 1} {seconds:.0f} s lr×{factor:.3f} loss {loss.item():.3f} (last layer: CE {ce:.3f} L1 {l1:.3f} GIoU {gi:.3f})")
                sys.stdout.flush()
            if total_steps is not None and args.epochs is None and seconds > 1.1 * budget:
                print(f"stopped at step {step} of {total_steps}, over the budget")
                epochs = epoch  # ends the outer loop
                break
            if total_steps is not None and step >= total_steps:
                break
        epoch += 1
        print(f"epoch {epoch} ended at {time.time() - start:.0f} s, step {step}")
        sys.stdout.flush()
    train_seconds = time.time() - start
    print(f"training: {step} steps, {train_seconds:.0f} s")

    results = {'steps': step, 'epochs': epoch, 'train_seconds': train_seconds}
    results['validation'] = evaluate(model, images, coco, val_idx, args.queries, 'validation')
    if args.held_out:
        h_images, _, h_coco = load_folder(args.held_out, args.image_size)
        assert [c['id'] for c in h_coco['categories']] == [c['id'] for c in coco['categories']]
        results['held_out'] = evaluate(model, h_images, h_coco, list(range(len(h_images))), args.queries, 'held-out')
    print(f"total wall {time.time() - t0:.0f} s")
    if args.output:
        json.dump(results, open(args.output, 'w'), indent=1)


if __name__ == '__main__':
    main()
