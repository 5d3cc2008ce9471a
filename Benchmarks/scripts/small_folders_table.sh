#!/bin/sh
# Issue 14's same-budget table: on one image folder, with the same time budget for the whole
# run (--budget MINUTES: the schedule is planned from the folder's size and the measured
# speed), this toolkit's default ViT (convolutional stem), timm's plain VisionTransformer
# (Benchmarks/scripts/train_timm.py, the former default recipe: 64 px, patch 8, width 128, depth 4),
# the plain-ViT recipe in this toolkit (--stem patchify), and the CNN and CNN+SAGAN baselines.
# Prints one line per model; each run's metrics are kept under OUT_DIR.
#
# Usage: Benchmarks/scripts/small_folders_table.sh FOLDER BUDGET_MINUTES OUT_DIR [MASKS_DIR]
#   THREADS=n in the environment gives every run n threads (default: all cores).
#   RUNS="ours timm patchify cnn cnn-sagan" chooses the rows (default: ours timm cnn cnn-sagan).
# The folders themselves: Scripts/data/make_small_folders.py (digits, colour-shapes).
set -eu
folder=$1
budget=$2
out=$3
masks=${4:-}
runs=${RUNS:-ours timm cnn cnn-sagan}
cd "$(dirname "$0")/../.."
swift build -c release --product patch-classify >/dev/null
mkdir -p "$out"
summary() {
  python3 -c "
import json
m = json.load(open('$1'))
pg = m.get('pointing_game')
print(f\"$2: val_accuracy {m['val_accuracy']:.4f}, epochs {m['epochs']}, seconds {m.get('train_seconds', 0):.0f}\" + (f', pointing_game {pg:.4f}' if pg is not None else ''))"
}
for run in $runs; do
  rm -rf "${out:?}/$run"
  case $run in
    timm)
      python3 Benchmarks/scripts/train_timm.py train "$folder" --budget "$budget" ${THREADS:+--threads "$THREADS"} \
        --json "$out/timm.json" >"$out/timm.log" 2>&1
      summary "$out/timm.json" "timm plain ViT" ;;
    *)
      case $run in
        ours) args="--model vit" ;;
        patchify) args="--model vit --stem patchify" ;;
        *) args="--model $run" ;;
      esac
      # shellcheck disable=SC2086
      .build/release/patch-classify --data "$folder" $args --budget "$budget" ${masks:+--masks "$masks"} \
        ${THREADS:+--threads "$THREADS"} --run-dir "$out/$run" >"$out/$run.log" 2>&1
      summary "$out/$run/metrics.json" "$run" ;;
  esac
done
