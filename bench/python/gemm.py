"""gemm GFLOP/s of numpy's matmul (its BLAS, all threads), best of repeated runs.

Usage: python3 gemm.py MIN_SECONDS N [N ...]; prints one JSON object on stdout.
"""
import json
import sys

import numpy as np

from timing import best_time


def main():
    min_seconds = float(sys.argv[1])
    sizes = [int(s) for s in sys.argv[2:]]
    rng = np.random.default_rng(1)
    results = []
    for n in sizes:
        for dtype in ("float64", "float32"):
            a = rng.uniform(-1, 1, (n, n)).astype(dtype)
            b = rng.uniform(-1, 1, (n, n)).astype(dtype)
            c = np.empty((n, n), dtype=dtype)
            t = best_time(lambda: np.matmul(a, b, out=c), min_seconds)
            results.append({"n": n, "dtype": dtype, "gflops": 2 * n**3 / t / 1e9})
    print(json.dumps({"numpy": np.__version__, "results": results}))


if __name__ == "__main__":
    main()
