#!/bin/sh
# Training throughput, side by side: this toolkit's ViT (vit-bench train) and timm's
# VisionTransformer of the same shape in PyTorch (train_timm.py throughput): 64x64 input,
# patch 8, width 128, depth 4, 4 heads, batch 64, AdamW, forward + backward + step.
# The two alternate ROUNDS times at the same thread count; compare medians and ratios.
# Usage: Benchmarks/scripts/train_throughput.sh [THREADS] [ROUNDS]
set -eu
threads=${1:-2}
rounds=${2:-3}
cd "$(dirname "$0")/../.."
swift build -c release --product vit-bench >/dev/null
for round in $(seq "$rounds"); do
  echo "round $round"
  .build/release/vit-bench train --threads "$threads" --steps 10
  python3 Benchmarks/scripts/train_timm.py throughput --threads "$threads" --steps 10
done
