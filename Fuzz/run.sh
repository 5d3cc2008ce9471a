#!/usr/bin/env bash
# Runs the ImageIO fuzzer on one worker, seeded with the test images.
# Usage: bash Fuzz/run.sh [RUNS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/fuzz
mkdir -p "$out/seeds" "$out/corpus"
cp Tests/VAImageIOTests/Fixtures/pngsuite/*.png Tests/VAImageIOTests/Fixtures/jpeg/*.jpg \
  Tests/VAImageIOTests/Fixtures/generated/jpeg/*.jpg "$out/seeds/"
"$out/imageio-fuzzer" -runs="${1:-1000000}" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds"
