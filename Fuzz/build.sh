#!/usr/bin/env bash
# Builds the ImageIO fuzzer with libFuzzer and AddressSanitizer (toolchain clang/swiftc).
# Usage: bash Fuzz/build.sh && bash Fuzz/run.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/fuzz
mkdir -p "$out/objects"
for source in Sources/CVAImageCodecs/*.c; do
  clang -c -g -O1 -fsanitize=fuzzer-no-link,address -I Sources/CVAImageCodecs/include \
    "$source" -o "$out/objects/$(basename "$source" .c).o"
done
swiftc -g -O -sanitize=fuzzer,address -parse-as-library -module-name ImageIOFuzz \
  -I Sources/CVAImageCodecs/include Sources/VAImageIO/*.swift Fuzz/ImageIOFuzzer.swift \
  "$out"/objects/*.o -lpng -ljpeg -o "$out/imageio-fuzzer"
echo "built $out/imageio-fuzzer"
