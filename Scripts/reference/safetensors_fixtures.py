"""Writes Tests/VASafetensorsTests/Fixtures/dtypes.safetensors with the Python safetensors library.

Regenerate: python3 Scripts/reference/safetensors_fixtures.py   (safetensors 0.8, torch 2.15)
Values chosen to exercise conversion: F16 subnormals, infinities and the largest finite
value; BF16 values that need all 8 exponent bits; the integer extremes.
"""
import os
import torch
from safetensors.torch import save_file

values = {
    'f32': torch.tensor([[1.5, -2.25, 3.0e-38], [float('inf'), -0.0, 1e30]], dtype=torch.float32),
    'f16': torch.tensor([6.0e-8, -6.1e-5, 65504.0, float('inf'), -1.0, 0.333], dtype=torch.float16),
    'bf16': torch.tensor([1.0e38, -3.0e-38, 0.5, -7.25], dtype=torch.bfloat16),
    'f64': torch.tensor([1e-300, 2.5], dtype=torch.float64),
    'i64': torch.tensor([-(2**40), 7], dtype=torch.int64),
    'i32': torch.tensor([-(2**31), 2**31 - 1], dtype=torch.int32),
    'i16': torch.tensor([-32768, 32767], dtype=torch.int16),
    'i8': torch.tensor([-128, 127], dtype=torch.int8),
    'u8': torch.tensor([0, 255], dtype=torch.uint8),
    'bool': torch.tensor([True, False, True]),
    'empty': torch.zeros((0, 3), dtype=torch.float32),
    'scalar': torch.tensor(4.0),
}
folder = os.path.join(os.path.dirname(__file__), '..', '..', 'Tests', 'VASafetensorsTests', 'Fixtures')
save_file(values, os.path.join(folder, 'dtypes.safetensors'), metadata={'format': 'pt', 'note': 'fixture'})
for name, tensor in values.items():
    print(name, tensor.float().flatten().tolist())
