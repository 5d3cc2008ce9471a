#!/usr/bin/env python3
"""First-run latency, side by side: `vit-attend IMG --weights DIR --resize none --dump D
--out O` as a whole process against Benchmarks/scripts/numpy_vit_forward.py (a numpy process that
only decodes, loads the weights and runs the forward). The two alternate ROUNDS times;
medians of the wall times and their ratio are printed, with every run's time.

Usage: python3 Benchmarks/scripts/first_run.py IMG DIR [--rounds N] [--binary PATH] [--threads N]
(DIR: model.safetensors + config.json of a timm ViT; see numpy_vit_forward.py). --threads
sets VISION_ATTENTION_THREADS and OPENBLAS_NUM_THREADS alike (default: each its own choice,
all cores). CPU time (user + system of the child) is reported beside the wall time: on a
loaded machine it is the steadier of the two.
"""
import argparse, os, resource, statistics, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
parser = argparse.ArgumentParser()
parser.add_argument("image")
parser.add_argument("weights")
parser.add_argument("--rounds", type=int, default=7)
parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/vit-attend"))
parser.add_argument("--threads", type=int)
args = parser.parse_args()
env = dict(os.environ)
if args.threads:
    env.update(VISION_ATTENTION_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))


def timed(command):
    """Wall seconds and child CPU seconds (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


with tempfile.TemporaryDirectory() as scratch:
    ours = [args.binary, args.image, "--weights", args.weights, "--resize", "none",
            "--dump", os.path.join(scratch, "d.safetensors"), "--out", os.path.join(scratch, "o.png")]
    peer = [sys.executable, os.path.join(ROOT, "Benchmarks/scripts/numpy_vit_forward.py"), args.image, args.weights]
    names = ("vit-attend", "numpy forward")
    wall = {n: [] for n in names}
    cpu = {n: [] for n in names}
    for command in (ours, peer):  # one untimed run each: page cache, first-import caches
        subprocess.run(command, check=True, capture_output=True, env=env)
    for r in range(args.rounds):
        for name, command in zip(names, (ours, peer)):
            w, c = timed(command)
            wall[name].append(w)
            cpu[name].append(c)
        print(f"round {r + 1}: vit-attend {wall[names[0]][-1]:.3f} s wall, {cpu[names[0]][-1]:.3f} s CPU; "
              f"numpy forward {wall[names[1]][-1]:.3f} s wall, {cpu[names[1]][-1]:.3f} s CPU", flush=True)
    for label, table in (("wall", wall), ("CPU", cpu)):
        a, b = statistics.median(table[names[0]]), statistics.median(table[names[1]])
        ratios = sorted(x / y for x, y in zip(table[names[0]], table[names[1]]))
        print(f"{label}: median vit-attend {a:.3f} s, numpy forward {b:.3f} s, ratio of medians {a / b:.2f} "
              f"(run-by-run {ratios[0]:.2f}..{ratios[-1]:.2f})")
    print(f"threads {args.threads or 'default'}, load average {open('/proc/loadavg').read().split()[0]}")
