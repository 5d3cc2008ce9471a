#!/bin/sh
# Issue 29's benchmarks in one command, this toolkit beside its peers in the same run:
#   1. the CPU, its caches and its measured fp32 FMA peak (vit-bench gemm prints them);
#   2. SGEMM GFLOP/s on ViT shapes, 1 and all threads, as fractions of that peak, beside
#      PyTorch (torch_gemm.py) and numpy/OpenBLAS (numpy_gemm.py);
#   3. ViT-Ti/S/B/16 forward latency at 224x224, batch 1 and 8, 1 and 2 threads, beside timm;
#   4. training throughput (vit-bench train vs train_timm.py, 2 threads).
# Each pair alternates ROUNDS times so drift on a shared machine hits both alike; quote medians.
# Usage: Benchmarks/scripts/issue29_suite.sh [ROUNDS] [BUILD]   (BUILD: scratch path of a
# release build, default .build-release; the script builds it). BASELINE=path/to/vit-bench of an
# earlier commit adds its gemm, vit and train runs to each round, for a before/after in the same run.
# Needs python3 with torch, timm and numpy for the peers (the toolkit's numbers need none).
set -eu
rounds=${1:-3}
build=${2:-.build-release}
cd "$(dirname "$0")/../.."
swift build -c release --scratch-path "$build" --product vit-bench >/dev/null
bench="$build/release/vit-bench"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
for round in $(seq "$rounds"); do
  echo "## round $round: GEMM"
  "$bench" gemm
  if [ -n "${BASELINE:-}" ]; then echo "# baseline: $BASELINE"; "$BASELINE" gemm; fi
  python3 Benchmarks/scripts/torch_gemm.py --threads 1 2
  python3 Benchmarks/scripts/numpy_gemm.py
done
for round in $(seq "$rounds"); do
  echo "## round $round: ViT forward, batch 1 (load $(cut -d' ' -f1 /proc/loadavg))"
  "$bench" vit --threads 1,2 --repetitions 10
  "$bench" vit --threads 1,2 --repetitions 10 --no-record
  if [ -n "${BASELINE:-}" ]; then echo "# baseline: $BASELINE"; "$BASELINE" vit --threads 1,2 --repetitions 10; fi
  python3 Benchmarks/scripts/timm_forward.py --threads 1 2 --repetitions 10
  echo "## round $round: ViT forward, batch 8"
  "$bench" vit --threads 1,2 --repetitions 5 --batch 8 --no-record
  python3 Benchmarks/scripts/timm_forward.py --threads 1 2 --repetitions 5 --batch 8
done
for round in $(seq "$rounds"); do
  echo "## round $round: training throughput, 2 threads"
  "$bench" train --threads 2 --steps 10
  if [ -n "${BASELINE:-}" ]; then echo "# baseline: $BASELINE"; "$BASELINE" train --threads 2 --steps 10; fi
  python3 Benchmarks/scripts/train_timm.py throughput --threads 2 --steps 10
done
