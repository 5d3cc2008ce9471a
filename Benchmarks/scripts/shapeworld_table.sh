#!/bin/sh
# The example README's comparison: on the same ShapeWorld data and the same budget (epochs
# of the same training set), the ViT with each position-embedding kind against the small
# CNN with and without a SAGAN block. Prints each run's metrics.json summary.
# Usage: Benchmarks/scripts/shapeworld_table.sh [EPOCHS] [TRAIN_SIZE] [OUT_DIR] [RUN ...]
# (RUN: "vit --position learned", "cnn", ...; all five by default; THREADS=n in the
# environment passes --threads n, e.g. to run two lanes side by side on one thread each).
set -eu
epochs=${1:-3}
train=${2:-10000}
out=${3:-runs/table}
shift $(( $# < 3 ? $# : 3 ))
[ $# -gt 0 ] || set -- "vit --position learned" "vit --position sincos" "vit --position none" "cnn" "cnn-sagan"
cd "$(dirname "$0")/../.."
swift build -c release --product patch-classify >/dev/null
for run in "$@"; do
  name=$(echo "$run" | tr ' ' '_' | tr -d '-')
  set -- $run
  model=$1; shift
  rm -rf "$out/$name"
  .build/release/patch-classify --model "$model" "$@" ${THREADS:+--threads "$THREADS"} --epochs "$epochs" --train-size "$train" --val-size 2000 \
    --learning-rate 5e-4 --warmup-epochs 0.5 --run-dir "$out/$name" >/dev/null 2>&1
  python3 -c "
import json, sys
m = json.load(open('$out/$name/metrics.json'))
print(f\"$run: val_accuracy {m['val_accuracy']:.4f}, pointing_game {m['pointing_game']}, train_seconds {m['train_seconds']:.0f}, images_per_second {m['images_per_second']:.1f}\")"
done
