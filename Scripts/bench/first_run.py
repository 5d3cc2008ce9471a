#!/usr/bin/env python3
"""First-run latency, side by side: `vit-attend IMG --weights DIR --resize none --dump D
--out O` as a whole process against Scripts/bench/numpy_vit_forward.py (a numpy process that
only decodes, loads the weights and runs the forward). The two alternate ROUNDS times;
medians of the wall times and their ratio are printed, with every run's time.

Usage: python3 Scripts/bench/first_run.py IMG DIR [--rounds N] [--binary PATH]
(DIR: model.safetensors + config.json of a timm ViT; see numpy_vit_forward.py)
"""
import argparse, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
parser = argparse.ArgumentParser()
parser.add_argument("image")
parser.add_argument("weights")
parser.add_argument("--rounds", type=int, default=7)
parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/vit-attend"))
args = parser.parse_args()

with tempfile.TemporaryDirectory() as scratch:
    ours = [args.binary, args.image, "--weights", args.weights, "--resize", "none",
            "--dump", os.path.join(scratch, "d.safetensors"), "--out", os.path.join(scratch, "o.png")]
    peer = [sys.executable, os.path.join(ROOT, "Scripts/bench/numpy_vit_forward.py"), args.image, args.weights]
    times = {"vit-attend": [], "numpy forward": []}
    for command in (ours, peer):  # one untimed run each: page cache, first-import caches
        subprocess.run(command, check=True, capture_output=True)
    for r in range(args.rounds):
        for name, command in (("vit-attend", ours), ("numpy forward", peer)):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
        print(f"round {r + 1}: vit-attend {times['vit-attend'][-1]:.3f} s, numpy forward {times['numpy forward'][-1]:.3f} s", flush=True)
    a, b = statistics.median(times["vit-attend"]), statistics.median(times["numpy forward"])
    ratios = sorted(x / y for x, y in zip(times["vit-attend"], times["numpy forward"]))
    print(f"median vit-attend {a:.3f} s, numpy forward {b:.3f} s: ratio of medians {a / b:.2f} "
          f"(run-by-run ratios {ratios[0]:.2f}..{ratios[-1]:.2f}, median {statistics.median(ratios):.2f}); "
          f"load average {open('/proc/loadavg').read().split()[0]}")
