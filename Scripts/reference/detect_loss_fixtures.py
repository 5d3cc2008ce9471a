"""Fixtures for patch-detect's matching and loss tests (Tests/PatchDetectTests/Fixtures):

- detect_hungarian.json: random cost matrices (square and rectangular both ways) with
  scipy.optimize.linear_sum_assignment's assignment and total.
- detect_giou.json: torchvision.ops.generalized_box_iou between (cx, cy, w, h) boxes converted
  as DETR's box_cxcywh_to_xyxy, and the gradient of sum(weights * giou) with respect to the
  predicted boxes by PyTorch autograd (float64).
- detect_criterion.json: DETR's HungarianMatcher + SetCriterion (loss_labels, loss_boxes, with
  auxiliary losses at every decoder layer), transcribed from facebookresearch/detr
  (models/matcher.py, models/detr.py) with the paper's weights (class 1, L1 5, GIoU 2,
  eos_coef 0.1), on random logits and boxes; the weighted total, each layer's terms, the
  matches, and the total's gradient with respect to logits and boxes by autograd (float64).

Written against torch 2.15, torchvision 0.29, scipy 1.17. Run: python3 Scripts/reference/detect_loss_fixtures.py
"""
import json, os
import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torchvision.ops import generalized_box_iou

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'Tests', 'PatchDetectTests', 'Fixtures')


def cxcywh_to_xyxy(b):
    cx, cy, w, h = b.unbind(-1)
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], -1)


def f32(x):
    """Values rounded to float32 (what the Swift side reads), kept as float64 for the reference."""
    return torch.tensor(np.asarray(x, dtype=np.float32), dtype=torch.float64)


def rand_boxes(rng, n):
    """(cx, cy, w, h) boxes inside the unit square, widths 0.05 to 0.5."""
    w, h = rng.uniform(0.05, 0.5, n), rng.uniform(0.05, 0.5, n)
    cx, cy = rng.uniform(w / 2, 1 - w / 2), rng.uniform(h / 2, 1 - h / 2)
    return np.stack([cx, cy, w, h], -1)


def hungarian(rng):
    cases = []
    for rows, cols in [(1, 1), (3, 3), (5, 5), (4, 7), (7, 4), (1, 6), (6, 1), (12, 12), (20, 9), (9, 20), (30, 30)]:
        cost = rng.standard_normal((rows, cols)).astype(np.float32)
        r, c = linear_sum_assignment(cost.astype(np.float64))
        cases.append({'rows': rows, 'cols': cols, 'cost': cost.ravel().tolist(), 'row_ind': r.tolist(), 'col_ind': c.tolist(),
                      'total': float(cost.astype(np.float64)[r, c].sum())})
    # A cost matrix with ties everywhere (integers 0..2): any optimal assignment has scipy's total.
    cost = rng.integers(0, 3, (6, 8)).astype(np.float32)
    r, c = linear_sum_assignment(cost)
    cases.append({'rows': 6, 'cols': 8, 'cost': cost.ravel().tolist(), 'row_ind': r.tolist(), 'col_ind': c.tolist(), 'total': float(cost[r, c].sum()), 'ties': True})
    return cases


def giou(rng):
    src = rand_boxes(rng, 7)
    tgt = rand_boxes(rng, 5)
    tgt[0] = src[0] * [1, 1, 0.5, 0.5]  # contained in src[0]
    tgt[1] = [0.9, 0.9, 0.1, 0.1]       # far from most
    src[1] = [0.1, 0.1, 0.1, 0.1]
    s = f32(src).requires_grad_(True)
    t = f32(tgt)
    weights = f32(rng.standard_normal((7, 5)))
    g = generalized_box_iou(cxcywh_to_xyxy(s), cxcywh_to_xyxy(t))
    (g * weights).sum().backward()
    return {'source': s.detach().float().numpy().ravel().tolist(), 'target': t.float().numpy().ravel().tolist(), 'sources': 7, 'targets': 5,
            'weights': weights.float().numpy().ravel().tolist(), 'giou': g.detach().numpy().ravel().tolist(), 'grad': s.grad.numpy().ravel().tolist()}


# DETR (facebookresearch/detr, models/matcher.py): C = w_box·L1 + w_class·(−p[target class]) + w_giou·(−GIoU).
@torch.no_grad()
def match(logits, boxes, targets, cost_class=1.0, cost_bbox=5.0, cost_giou=2.0):
    bs, nq = logits.shape[:2]
    out_prob = logits.flatten(0, 1).softmax(-1)
    out_bbox = boxes.flatten(0, 1)
    tgt_ids = torch.cat([t['labels'] for t in targets])
    tgt_bbox = torch.cat([t['boxes'] for t in targets])
    c_class = -out_prob[:, tgt_ids]
    c_bbox = torch.cdist(out_bbox, tgt_bbox, p=1)
    c_giou = -generalized_box_iou(cxcywh_to_xyxy(out_bbox), cxcywh_to_xyxy(tgt_bbox))
    cost = (cost_bbox * c_bbox + cost_class * c_class + cost_giou * c_giou).view(bs, nq, -1)
    sizes = [len(t['boxes']) for t in targets]
    indices = [linear_sum_assignment(c[i].numpy()) for i, c in enumerate(cost.split(sizes, -1))]
    return [(torch.as_tensor(i, dtype=torch.int64), torch.as_tensor(j, dtype=torch.int64)) for i, j in indices]


# DETR (models/detr.py SetCriterion): loss_labels (weighted CE, eos_coef on "no object"), loss_boxes (L1 and 1 − GIoU over num_boxes).
def layer_losses(logits, boxes, targets, indices, num_classes, eos_coef, num_boxes):
    empty_weight = torch.ones(num_classes + 1, dtype=logits.dtype)
    empty_weight[-1] = eos_coef
    batch_idx = torch.cat([torch.full_like(src, i) for i, (src, _) in enumerate(indices)])
    src_idx = torch.cat([src for src, _ in indices])
    target_classes_o = torch.cat([t['labels'][J] for t, (_, J) in zip(targets, indices)])
    target_classes = torch.full(logits.shape[:2], num_classes, dtype=torch.int64)
    target_classes[batch_idx, src_idx] = target_classes_o
    loss_ce = F.cross_entropy(logits.transpose(1, 2), target_classes, empty_weight)
    src_boxes = boxes[batch_idx, src_idx]
    target_boxes = torch.cat([t['boxes'][i] for t, (_, i) in zip(targets, indices)], dim=0)
    loss_bbox = F.l1_loss(src_boxes, target_boxes, reduction='none').sum() / num_boxes
    loss_giou = (1 - torch.diag(generalized_box_iou(cxcywh_to_xyxy(src_boxes), cxcywh_to_xyxy(target_boxes)))).sum() / num_boxes
    return loss_ce, loss_bbox, loss_giou


def criterion(rng, layers=3, batch=3, queries=6, classes=3, counts=(3, 0, 2)):
    logits = f32(rng.standard_normal((layers, batch, queries, classes + 1)) * 1.5).requires_grad_(True)
    raw = f32(rng.standard_normal((layers, batch, queries, 4)))
    boxes_in = raw.clone()
    targets = []
    for n in counts:
        targets.append({'labels': torch.as_tensor(rng.integers(0, classes, n), dtype=torch.int64), 'boxes': f32(rand_boxes(rng, n).reshape(n, 4))})
    # Predicted boxes inside (0, 1) as DETR's sigmoid gives them; the gradient is taken with respect to these.
    boxes = f32(torch.sigmoid(boxes_in).numpy()).requires_grad_(True)
    num_boxes = max(float(sum(counts)), 1.0)
    total = 0
    per_layer = []
    for l in range(layers):
        indices = match(logits[l].detach(), boxes[l].detach(), targets)
        ce, l1, gi = layer_losses(logits[l], boxes[l], targets, indices, classes, 0.1, num_boxes)
        total = total + 1.0 * ce + 5.0 * l1 + 2.0 * gi
        per_layer.append({'classification': ce.item(), 'box_l1': l1.item(), 'giou': gi.item(),
                          'matches': [[i.tolist(), j.tolist()] for i, j in indices]})
    total.backward()
    return {'layers': layers, 'batch': batch, 'queries': queries, 'classes': classes,
            'logits': logits.detach().float().numpy().ravel().tolist(), 'boxes': boxes.detach().float().numpy().ravel().tolist(),
            'targets': [{'labels': t['labels'].tolist(), 'boxes': t['boxes'].float().numpy().ravel().tolist()} for t in targets],
            'total': total.item(), 'per_layer': per_layer,
            'grad_logits': logits.grad.numpy().ravel().tolist(), 'grad_boxes': boxes.grad.numpy().ravel().tolist()}


def main():
    rng = np.random.default_rng(28)
    os.makedirs(OUT, exist_ok=True)
    for name, value in [('detect_hungarian.json', hungarian(rng)), ('detect_giou.json', giou(rng)),
                        ('detect_criterion.json', [criterion(rng), criterion(rng, layers=2, batch=2, queries=9, classes=5, counts=(4, 1))])]:
        with open(os.path.join(OUT, name), 'w') as f:
            json.dump(value, f)
        print(name, os.path.getsize(os.path.join(OUT, name)), 'bytes')


if __name__ == '__main__':
    main()
