"""PyTorch (oneDNN/MKL or OpenBLAS, as the wheel ships) GFLOP/s on vit-bench gemm's shapes,
1 thread and all cores: the peer of `vit-bench gemm` beside numpy_gemm.py.

Run: python3 Benchmarks/scripts/torch_gemm.py [--threads 1 2] [--repetitions 9]
torch.matmul on float32, B transposed where vit-bench's shape is (a linear layer's weight),
median of the repetitions after two warm-up runs.
"""
import argparse, os, time
import torch

from numpy_gemm import SHAPES

parser = argparse.ArgumentParser()
parser.add_argument('--threads', type=int, nargs='+', default=[1, os.cpu_count()])
parser.add_argument('--repetitions', type=int, default=9)
args = parser.parse_args()

torch.manual_seed(1)
rows = {}
for threads in args.threads:
    torch.set_num_threads(threads)
    for label, batch, m, n, k, transpose_b in SHAPES:
        a = torch.randn(batch, m, k)
        b = torch.randn(batch, n, k) if transpose_b else torch.randn(batch, k, n)
        bt = b.transpose(1, 2) if transpose_b else b
        def run():
            if batch == 1:
                torch.matmul(a[0], bt[0])
            else:
                torch.matmul(a, bt)
        for _ in range(2):
            run()
        times = []
        for _ in range(args.repetitions):
            start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
        times.sort()
        rows.setdefault(label, []).append(2 * batch * m * n * k / times[len(times) // 2] / 1e9)
print(f"torch {torch.__version__} GFLOP/s, median of {args.repetitions}")
print(f"{'shape (MxNxK)':24}" + "".join(f"{f'{t} thread' + ('s' if t > 1 else ''):12}" for t in args.threads))
for label, values in rows.items():
    print(f"{label:24}" + "".join(f"{v:<12.1f}" for v in values))
