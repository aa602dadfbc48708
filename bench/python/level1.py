"""numpy's level-1 operations, the way numpy code writes them: dot (BLAS ddot/sdot, every
thread) and axpy as y += alpha * x (a temporary, then an in-place add). Best of repeated runs.

Usage: python3 level1.py MIN_SECONDS N [N ...]; prints one JSON object.
"""
import json
import sys

import numpy as np

from timing import best_time


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

            results.append({"n": n, "dtype": dtype, "op": "dot", "seconds": best_time(lambda: np.dot(x, y), min_seconds, 5)})
            results.append({"n": n, "dtype": dtype, "op": "axpy", "seconds": best_time(axpy, min_seconds, 5)})
    print(json.dumps({"numpy": np.__version__, "results": results}))


if __name__ == "__main__":
    main()
