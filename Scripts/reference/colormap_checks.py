"""Prints the values Tests/VARenderingTests/RenderingTests.swift (ColormapTests) checks.

Run: python3 Scripts/reference/colormap_checks.py   (matplotlib 3.11)

- samples: matplotlib.colormaps[name](x, bytes=True) RGB at x = 0, 0.5, 0.7, 1.
- checksums: sum over the 768 bytes of cmap(np.linspace(0, 1, 256), bytes=True)[:, :3]
  of (k + 1) * byte_k, k the byte's index, so any wrong table entry changes it.
Computed from matplotlib itself, not from Sources/VARendering/ColormapTables.swift.
"""
import numpy as np
import matplotlib

maps = ['viridis', 'inferno', 'magma', 'plasma', 'turbo', 'jet', 'gray']
print('matplotlib', matplotlib.__version__)
for name in maps:
    cmap = matplotlib.colormaps[name]
    samples = [tuple(int(v) for v in cmap(x, bytes=True)[:3]) for x in (0.0, 0.5, 0.7, 1.0)]
    table = cmap(np.linspace(0, 1, 256), bytes=True)[:, :3].astype(np.int64).reshape(-1)
    checksum = int(((np.arange(table.size) + 1) * table).sum())
    print(f'{name}: samples {samples} checksum {checksum}')
