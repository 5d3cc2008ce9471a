#!/bin/sh
# End to end at 224x224: two vit-attend builds (e.g. main's and a branch's) alternating, the
# same ViT-S/16 weights and image, --map cls with a figure and a dump; wall, user CPU and peak
# memory of each whole process from /usr/bin/time.
# Usage: Benchmarks/scripts/e2e_224_main_vs_branch.sh OLD_VIT_ATTEND NEW_VIT_ATTEND WEIGHTS_DIR IMAGE_224 [ROUNDS]
# (WEIGHTS_DIR from Benchmarks/scripts/timm_forward.py --export DIR: DIR/vit_small_patch16_224.)
OLD=$1 NEW=$2 W=$3 IMG=$4 ROUNDS=${5:-7}
OUT=${TMPDIR:-/tmp}/e2e224-$$
mkdir -p "$OUT"
round=1
while [ $round -le "$ROUNDS" ]; do
  for who in old new; do
    if [ $who = old ]; then BIN=$OLD; else BIN=$NEW; fi
    /usr/bin/time -f "$who round $round: %e s wall, %U s user, %M KiB peak" "$BIN" "$IMG" --weights "$W" --resize none --map cls \
      --out "$OUT/o-$who.png" --dump "$OUT/o-$who.safetensors" 2>&1 | tail -1
  done
  round=$((round + 1))
done
rm -rf "$OUT"
