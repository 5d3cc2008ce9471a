"""numpy (bundled OpenBLAS) GFLOP/s on vit-bench gemm's shapes, 1 thread and all cores.

Run: python3 Benchmarks/scripts/numpy_gemm.py        (spawns one process per thread count, since
OpenBLAS reads OPENBLAS_NUM_THREADS when numpy is imported)
"""
import os, subprocess, sys

SHAPES = [("1024x1024x1024", 1, 1024, 1024, 1024, False), ("197x1152x384", 1, 197, 1152, 384, True),
          ("197x384x384", 1, 197, 384, 384, True), ("197x1536x384", 1, 197, 1536, 384, True),
          ("197x384x1536", 1, 197, 384, 1536, True), ("197x3072x768", 1, 197, 3072, 768, True),
          ("4x197x197x64 batched", 4, 197, 197, 64, True)]

def measure(repetitions=9):
    import time
    import numpy as np
    rng = np.random.default_rng(1)
    out = []
    for label, batch, m, n, k, transpose_b in SHAPES:
        a = rng.standard_normal((batch, m, k), dtype=np.float32)
        b = rng.standard_normal((batch, n, k) if transpose_b else (batch, k, n), dtype=np.float32)
        def run():
            for i in range(batch):
                np.matmul(a[i], b[i].T if transpose_b else b[i])
        for _ in range(2):
            run()
        times = []
        for _ in range(repetitions):
            start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
        times.sort()
        out.append((label, 2 * batch * m * n * k / times[len(times) // 2] / 1e9))
    return out

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        for label, gflops in measure():
            print(f"{label}\t{gflops:.1f}")
        sys.exit(0)
    cores = os.cpu_count()
    columns = {}
    for threads in (1, cores):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        text = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=True).stdout
        columns[threads] = [line.split("\t") for line in text.strip().splitlines()]
    print("numpy/OpenBLAS GFLOP/s, median of 9")
    print(f"{'shape (MxNxK)':24}{'1 thread':12}{cores} threads")
    for (label, one), (_, many) in zip(columns[1], columns[cores]):
        print(f"{label:24}{one:12}{many}")
