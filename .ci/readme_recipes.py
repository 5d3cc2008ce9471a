#!/usr/bin/env python3
"""The README's cluster recipes, read from README.md itself so CI runs what users copy.

  readme_recipes.py slurm README.md ROOT JOB.sh   writes the Slurm job-array script with
      /shared/ replaced by ROOT/shared/, and prints the merge command (the script's
      "# after the array:" line, /shared/ replaced the same way; <job id> left for the caller)
  readme_recipes.py k8s README.md ROOT            checks the Kubernetes Job: the manifest
      parses, its command is the Slurm one's (paths, shard count and threads aside), and
      prints the pod's shell command with /data/ replaced by ROOT/data/, then the merge
      command the README gives after it, one per line

Exits non-zero with a message naming what no longer matches when the README changes shape.
"""
import re
import shlex
import sys


def fenced_blocks(text, language):
    """Bodies of ```language fences, in order."""
    return re.findall(r"^```" + language + r"\n(.*?)^```$", text, flags=re.S | re.M)


def one(blocks, marker, what):
    found = [b for b in blocks if marker in b]
    if len(found) != 1:
        sys.exit(f"README.md: expected one {what} block containing {marker!r}, found {len(found)}")
    return found[0]


def slurm_block(text):
    return one(fenced_blocks(text, "sh"), "#SBATCH --array", "```sh Slurm")


def vit_attend_words(command):
    """The words of the first `vit-attend ...` command in a shell snippet (up to ; or newline)."""
    command = command.replace("\\\n", " ")
    for line in command.splitlines():
        line = line.strip()
        if line.startswith("vit-attend "):
            return shlex.split(line.split(";")[0])
    sys.exit(f"README.md: no vit-attend command in {command!r}")


def slurm(text, root, job_path):
    block = slurm_block(text)
    if "/shared/" not in block:
        sys.exit("README.md: the Slurm script no longer uses /shared/ paths; update .ci/readme_recipes.py")
    script = block.replace("/shared/", root.rstrip("/") + "/shared/")
    with open(job_path, "w") as f:
        f.write(script)
    merge = re.search(r"^# after the array: (.*)$", script, flags=re.M)
    if not merge or "<job id>" not in merge.group(1):
        sys.exit("README.md: the Slurm script's '# after the array: ... <job id> ...' line is gone")
    print(merge.group(1))


def k8s(text, root):
    import yaml

    slurm_text = slurm_block(text)
    manifest = yaml.safe_load(one(fenced_blocks(text, "yaml"), "kind: Job", "```yaml Kubernetes Job"))
    problems = []
    spec = manifest["spec"]
    array = re.search(r"^#SBATCH --array=1-(\d+)$", slurm_text, flags=re.M)
    n = int(array.group(1)) if array else None
    if manifest.get("apiVersion") != "batch/v1" or manifest.get("kind") != "Job":
        problems.append("not a batch/v1 Job")
    if spec.get("completionMode") != "Indexed":
        problems.append("completionMode is not Indexed")
    if not (spec.get("completions") == spec.get("parallelism") == n):
        problems.append(f"completions/parallelism {spec.get('completions')}/{spec.get('parallelism')} != the Slurm array's {n}")
    (container,) = spec["template"]["spec"]["containers"]
    if container["command"] != ["sh", "-c"] or len(container["args"]) != 1:
        problems.append("the container no longer runs one `sh -c` command")
    pod_command = container["args"][0]

    # The same command in both recipes: paths differ by their root (/shared/<x> vs /data/<y>,
    # mapped by role below), the shard and thread values come from each scheduler.
    a, b = vit_attend_words(slurm_text), vit_attend_words(pod_command)
    roles = {"/shared/imagenet/val": "IMAGES", "/shared/attention": "OUT", "/data/images": "IMAGES",
             "/data/attention": "OUT", "/shared/models/dino-vits16": "MODEL", "/data/models/dino-vits16": "MODEL"}

    def normalised(words):
        out, skip = [], None
        for w in words:
            if skip:
                out.append(skip)
                skip = None
                continue
            out.append(roles.get(w, w))
            if w in ("--shard", "--threads"):
                skip = w.upper()
        return out

    if normalised(a) != normalised(b):
        problems.append(f"commands differ:\n  slurm: {normalised(a)}\n  k8s:   {normalised(b)}")
    slurm_shard = a[a.index("--shard") + 1] if "--shard" in a else ""
    if slurm_shard != f"$SLURM_ARRAY_TASK_ID/{n}":
        problems.append(f"the Slurm script's shard {slurm_shard!r} is not $SLURM_ARRAY_TASK_ID/{n}")
    shard = b[b.index("--shard") + 1] if "--shard" in b else ""
    if shard != f"$((JOB_COMPLETION_INDEX + 1))/{n}":
        problems.append(f"the pod's shard {shard!r} is not $((JOB_COMPLETION_INDEX + 1))/{n}")
    after = re.search(r"^Then `(vit-attend --merge [^`]*)`", text, flags=re.M)
    if not after or after.group(1).split()[-1] != "/data/attention":
        problems.append("the merge after the Job ('Then `vit-attend --merge /data/attention`') is gone")
    if problems:
        sys.exit("README.md's Kubernetes recipe:\n- " + "\n- ".join(problems))
    base = root.rstrip("/") + "/data/"
    print(" ".join(pod_command.split()).replace("/data/", base))
    print(after.group(1).replace("/data/", base))


if __name__ == "__main__":
    mode, readme, root = sys.argv[1:4]
    text = open(readme).read()
    if mode == "slurm":
        slurm(text, root, sys.argv[4])
    elif mode == "k8s":
        k8s(text, root)
    else:
        sys.exit(f"unknown mode {mode}")
