#!/usr/bin/env python3
"""PyTorch/timm peer of `patch-classify` and `vit-bench train`.

Two modes:
  throughput: time forward + backward + AdamW steps of timm's VisionTransformer on random
              batches, the shape `vit-bench train` times (64x64, patch 8, width 128, depth 4,
              4 heads, batch 64), and print images per second.
  train:      train the same model on an image folder (e.g. one written by
              `patch-classify --export-shapeworld DIR`) with patch-classify's recipe (AdamW,
              linear warmup then cosine, label smoothing 0.1, clip 1.0, random crop with
              4-pixel reflect padding, flips with --flip) and print accuracy per epoch. The
              split is patch-classify's: DIR/train and DIR/val when both exist, else every
              fifth image of each class (sorted by name) held out. Without --epochs the
              schedule is patch-classify's: epochs = clamp(300,000 / training images, 10,
              150), fewer when --budget minutes (measured on the first steps) allow fewer.
              --json FILE writes the final accuracy, epochs and seconds.

Usage:
  python3 Benchmarks/scripts/train_timm.py throughput --threads 2
  python3 Benchmarks/scripts/train_timm.py train DIR --epochs 10 --threads 2
  python3 Benchmarks/scripts/train_timm.py train DIR --budget 5 --threads 1 --json out.json
"""
import argparse
import json
import math
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from timm.models.vision_transformer import VisionTransformer


def make_model(args, classes):
    return VisionTransformer(img_size=args.image_size, patch_size=args.patch, embed_dim=args.width, depth=args.depth,
                             num_heads=args.heads, num_classes=classes, global_pool="token")


def throughput(args):
    model = make_model(args, args.classes)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    x = torch.randn(args.batch, 3, args.image_size, args.image_size)
    y = torch.arange(args.batch) % args.classes
    times = []
    for i in range(args.steps + 2):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - start)
    t = statistics.median(times)
    print(f"timm ViT w{args.width} d{args.depth} h{args.heads} p{args.patch} {args.image_size}x{args.image_size} "
          f"batch {args.batch} threads={torch.get_num_threads()}: {t * 1000:.1f} ms/step, {args.batch / t:.1f} images/s")


def load_folder(root, size, keep=lambda label, k: True):
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(f for f in os.listdir(os.path.join(root, name))
                       if not f.startswith(".") and f.lower().rsplit(".", 1)[-1] in ("png", "jpg", "jpeg"))
        for k, f in enumerate(files, start=1):
            if not keep(label, k):
                continue
            img = Image.open(os.path.join(root, name, f)).convert("RGB").resize((size, size), Image.BILINEAR)
            images.append(np.asarray(img, dtype=np.float32) / 255)
            labels.append(label)
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return (x - 0.5) / 0.5, torch.tensor(labels), classes


def load_split(folder, size):
    """patch-classify's split: train/ and val/ when both exist, else every fifth image per class held out."""
    if os.path.isdir(os.path.join(folder, "train")) and os.path.isdir(os.path.join(folder, "val")):
        xt, yt, classes = load_folder(os.path.join(folder, "train"), size)
        xv, yv, _ = load_folder(os.path.join(folder, "val"), size)
    else:
        xt, yt, classes = load_folder(folder, size, lambda label, k: k % 5 != 0)
        xv, yv, _ = load_folder(folder, size, lambda label, k: k % 5 == 0)
    return xt, yt, xv, yv, classes


def augment(x, generator, flips):
    b, _, h, w = x.shape
    padded = F.pad(x, (4, 4, 4, 4), mode="reflect")
    out = torch.empty_like(x)
    dx = torch.randint(0, 9, (b,), generator=generator)
    dy = torch.randint(0, 9, (b,), generator=generator)
    flip = (torch.rand(b, generator=generator) < 0.5) & flips
    for i in range(b):
        crop = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out[i] = crop.flip(-1) if flip[i] else crop
    return out


def one_step(model, opt, x, y, args):
    logits = model(x)
    loss = F.cross_entropy(logits, y, label_smoothing=args.label_smoothing)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    return logits, loss


def plan_epochs(args, model, xt, yt, xv):
    """patch-classify's SchedulePlan: the size rule, capped by the budget measured on 3 steps."""
    by_size = int(min(150, max(10, round(300_000 / len(xt)))))
    if args.budget is None:
        return by_size, "data size"
    snapshot = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    x, y = xt[:args.batch], yt[:args.batch]
    one_step(model, opt, x, y, args)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        one_step(model, opt, x, y, args)
        times.append(time.perf_counter() - start)
    model.load_state_dict(snapshot)
    model.zero_grad(set_to_none=True)
    step = sorted(times)[1]
    epoch_seconds = (len(xt) // args.batch) * step * 1.1 + len(xv) * step / args.batch / 3
    left = args.budget * 60 - (time.perf_counter() - args.started) - 10
    by_budget = max(1, int(left // epoch_seconds))
    return min(by_size, by_budget), "budget" if by_budget < by_size else "data size"


def train(args):
    torch.manual_seed(args.seed)
    xt, yt, xv, yv, classes = load_split(args.folder, args.image_size)
    model = make_model(args, len(classes))
    if args.epochs is None:
        args.epochs, reason = plan_epochs(args, model, xt, yt, xv)
        print(f"schedule: {args.epochs} epochs, set by the {reason}", flush=True)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1 and n not in ("pos_embed", "cls_token")]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1 or n in ("pos_embed", "cls_token")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    steps_per_epoch = len(xt) // args.batch
    total = steps_per_epoch * args.epochs
    warmup = int(args.warmup_epochs * steps_per_epoch)
    schedule = lambda s: s / warmup if s < warmup else 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, total - warmup)))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    generator = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(xt), generator=generator)
        seen = correct = 0
        loss_sum = 0.0
        for s in range(steps_per_epoch):
            idx = order[s * args.batch:(s + 1) * args.batch]
            x = augment(xt[idx], generator, args.flip) if args.augment else xt[idx]
            logits, loss = one_step(model, opt, x, yt[idx], args)
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yt[idx]).sum().item()
            seen += len(idx)
        model.eval()
        with torch.inference_mode():
            pred = torch.cat([model(xv[i:i + 256]).argmax(1) for i in range(0, len(xv), 256)])
        accuracy = (pred == yv).float().mean().item()
        print(f"epoch {epoch + 1}: train loss {loss_sum / seen:.3f} acc {correct / seen:.3f}, "
              f"val acc {accuracy:.4f}, {time.perf_counter() - start:.0f} s", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": "timm VisionTransformer", "val_accuracy": accuracy, "epochs": args.epochs,
                       "train_seconds": time.perf_counter() - start, "total_seconds": time.perf_counter() - args.started,
                       "threads": torch.get_num_threads(), "training_images": len(xt), "validation_images": len(xv)}, f, indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["throughput", "train"])
    p.add_argument("folder", nargs="?")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--patch", type=int, default=8)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--classes", type=int, default=6)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--budget", type=float, default=None, help="minutes for the whole run (caps the planned epochs)")
    p.add_argument("--flip", action="store_true", help="mirror half of the training images (patch-classify: off for folders)")
    p.add_argument("--json", help="write the final figures here")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--warmup-epochs", type=float, default=0.5)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--no-augment", dest="augment", action="store_false")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    args.started = time.perf_counter()
    torch.set_num_threads(args.threads)
    throughput(args) if args.mode == "throughput" else train(args)


if __name__ == "__main__":
    main()
