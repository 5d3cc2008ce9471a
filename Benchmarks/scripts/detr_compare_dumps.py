"""Compares two DETR dumps tensor by tensor (vit-attend --dump against
detr_transformers_forward.py's file): the largest difference relative to the reference's largest
magnitude, worst over the layers of each kind.

Run: python3 Benchmarks/scripts/detr_compare_dumps.py OURS.safetensors REFERENCE.safetensors
"""
import sys
from safetensors.torch import load_file

ours, reference = load_file(sys.argv[1]), load_file(sys.argv[2])
assert set(ours) == set(reference), sorted(set(ours) ^ set(reference))
worst = {}
for name, expected in reference.items():
    assert ours[name].shape == expected.shape, (name, ours[name].shape, expected.shape)
    error = ((ours[name] - expected).abs().max() / expected.abs().max()).item()
    kind = name.rsplit('.', 1)[0] if name[-1].isdigit() else name
    worst[kind] = max(worst.get(kind, 0.0), error)
print('input', tuple(ours['input'].shape))
for kind, error in worst.items():
    print(f'{kind:22s} {error:.1e}')
