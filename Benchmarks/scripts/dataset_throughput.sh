#!/bin/bash
# The data-set benchmark (issue 15): vit-attend on a folder of 1,000 224x224 JPEGs with a
# ViT-S/16 and --map cls, against the Python loop doing the same with timm + Pillow +
# matplotlib (python_folder_loop.py), each a whole process under /usr/bin/time -v.
#   Benchmarks/scripts/dataset_throughput.sh WORK ROUNDS
# WORK gets the JPEGs and the random-weight checkpoint on the first call.
set -u
work=${1:?usage: dataset_throughput.sh WORK ROUNDS}; rounds=${2:-1}
here=$(cd "$(dirname "$0")/../.." && pwd)
[ -d "$work/jpegs" ] || python3 "$here/Benchmarks/scripts/python_folder_loop.py" --make-inputs "$work/jpegs" 1000
[ -d "$work/vits" ] || python3 "$here/Benchmarks/scripts/python_folder_loop.py" --make-checkpoint "$work/vits"
for round in $(seq 1 "$rounds"); do
  rm -rf "$work/ours" "$work/python"
  echo "== round $round vit-attend $(date -u +%T)"
  /usr/bin/time -v "$here/.build/release/vit-attend" "$work/jpegs" --out-dir "$work/ours" -w "$work/vits" -m cls 2>&1 |
    grep -E "images:|Elapsed|Maximum resident"
  echo "== round $round python $(date -u +%T)"
  /usr/bin/time -v python3 "$here/Benchmarks/scripts/python_folder_loop.py" "$work/jpegs" "$work/vits" "$work/python" 2>&1 |
    grep -E "images in|Elapsed|Maximum resident"
done
