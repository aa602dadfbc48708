"""numpy's level-1 operations, the way numpy code writes them: dot (BLAS ddot/sdot, every
thread) and axpy as y += alpha * x (a temporary, then an in-place add). Best of repeated runs.

Usage: python3 level1.py MIN_SECONDS N [N ...]; prints one JSON object.
"""
import json
import sys
import time

import numpy as np


def best_time(fn, min_seconds, min_repetitions=5):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_repetitions or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    min_seconds = float(sys.argv[1])
    rng = np.random.default_rng(1)
    results = []
    for n in (int(s) for s in sys.argv[2:]):
        for dtype in ("float64", "float32"):
            x = rng.uniform(-1, 1, n).astype(dtype)
            y = rng.uniform(-1, 1, n).astype(dtype)
            alpha = dtype == "float64" and 0.5 or np.float32(0.5)

            def axpy():
                y.__iadd__(alpha * x)

            results.append({"n": n, "dtype": dtype, "op": "dot", "seconds": best_time(lambda: np.dot(x, y), min_seconds)})
            results.append({"n": n, "dtype": dtype, "op": "axpy", "seconds": best_time(axpy, min_seconds)})
    print(json.dumps({"numpy": np.__version__, "results": results}))


if __name__ == "__main__":
    main()
