#!/usr/bin/env python3
"""compare_runs.py WHOLE MERGED [WHOLE_FOLDER MERGED_FOLDER]: a merged sharded run must equal
one unsharded run.

Checks, for the output folders of `vit-attend DIR --out-dir WHOLE` and of N shards merged by
`vit-attend --merge MERGED`:
- index.jsonl: the same records in the same order, every key equal. No key is ignored (the
  index holds no timings, hosts or dates); an `error` message names the image by the folder
  given on the command line, so where the two runs were given different folders holding the
  same files, MERGED_FOLDER is read as WHOLE_FOLDER in `error`; numbers compare with a relative tolerance of 1e-9
  rather than exactly, because a shard runs its images in other batches and thread counts.
- summary.json: every key equal, the same way. Its sums add shards in another order than one
  run adds images, which changes the last bits only.
- the same figures (every .png but summary.png) under both folders, and a summary.png in MERGED.
Prints what differs and exits 1, else prints one line and exits 0.
"""
import json
import math
import os
import sys

TOLERANCE = 1e-9


def differences(a, b, where):
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or a is None or b is None:
        return [] if a == b else [f"{where}: {a!r} != {b!r}"]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        ok = math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
        return [] if ok else [f"{where}: {a!r} != {b!r}"]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]")]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a.keys() ^ b.keys())} in one only"]
        return [d for k in a for d in differences(a[k], b[k], f"{where}.{k}")]
    return [f"{where}: {type(a).__name__} != {type(b).__name__}"]


def records(folder):
    with open(os.path.join(folder, "index.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def figures(folder):
    return sorted(
        os.path.relpath(os.path.join(d, n), folder)
        for d, _, names in os.walk(folder)
        for n in names
        if n.endswith(".png") and not (d == folder and n == "summary.png")
    )


def main(whole, merged, whole_folder=None, merged_folder=None):
    problems = []
    a, b = records(whole), records(merged)
    if merged_folder:
        for r in b:
            if "error" in r:
                r["error"] = r["error"].replace(merged_folder.rstrip("/") + "/", whole_folder.rstrip("/") + "/")
    if len(a) != len(b):
        problems.append(f"index.jsonl: {len(a)} records != {len(b)}")
    problems += [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"index.jsonl line {i + 1}")]
    with open(os.path.join(whole, "summary.json")) as f, open(os.path.join(merged, "summary.json")) as g:
        problems += differences(json.load(f), json.load(g), "summary.json")
    if figures(whole) != figures(merged):
        problems.append(f"figures differ: {sorted(set(figures(whole)) ^ set(figures(merged)))}")
    if not os.path.exists(os.path.join(merged, "summary.png")):
        problems.append("no summary.png in the merged folder")
    statuses = [r["status"] for r in a]
    if "ok" not in statuses or "error" not in statuses:
        problems.append(f"the run should hold both finished and failed images, statuses: {sorted(set(statuses))}")
    if problems:
        print(f"{merged} differs from {whole}:", *problems[:40], sep="\n  ")
        return 1
    print(f"{merged} equals {whole}: {len(a)} records ({statuses.count('error')} failed), summary.json, {len(figures(whole))} figures")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
