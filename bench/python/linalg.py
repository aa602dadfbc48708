"""numpy.linalg.eigh and numpy.linalg.cholesky (LAPACK dsyevd / dpotrf through OpenBLAS, all
threads) on the same matrices as the TS rows: R R^T / n + 0.1 I with R uniform in [-1, 1),
written by the bench as raw float64 files. Best of repeated calls after a warm-up.

Usage: python3 linalg.py OPERATION MIN_SECONDS DIR N [N ...]  (OPERATION: eigh or cholesky;
DIR holds spd-N.bin). Prints one JSON object on stdout.
"""
import json
import os
import sys

import numpy as np

from timing import best_time


def main():
    operation, min_seconds, directory = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    fn = {"eigh": np.linalg.eigh, "cholesky": np.linalg.cholesky}[operation]
    results = []
    for n in (int(s) for s in sys.argv[4:]):
        a = np.fromfile(os.path.join(directory, f"spd-{n}.bin"), dtype="<f8").reshape(n, n)
        for dtype in ("float64", "float32"):
            x = np.ascontiguousarray(a.astype(dtype))
            results.append({"n": n, "dtype": dtype, "seconds": best_time(lambda: fn(x), min_seconds)})
    print(json.dumps({"numpy": np.__version__, "results": results}))


if __name__ == "__main__":
    main()
