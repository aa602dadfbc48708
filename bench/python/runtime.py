"""Which BLAS numpy runs, as numpy.show_runtime() or threadpoolctl would say: the OpenBLAS
core type it picked (e.g. SkylakeX for AVX-512, Haswell for AVX2), its build configuration and
its thread count, read from the loaded library through ctypes (threadpoolctl's method; it is
not installed here). Prints one JSON object.
"""
import ctypes
import json
import os

import numpy as np


def openblas_info():
    np.ones((2, 2)) @ np.ones((2, 2))  # make sure the BLAS is loaded
    libraries = sorted({line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.lower() and line.split()[-1].startswith("/")})
    found = []
    for path in libraries:
        lib = ctypes.CDLL(path)
        # Symbol names differ between builds (scipy-openblas adds a prefix and a 64_ suffix).
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", "64_"), ("openblas_", "")):
            try:
                corename = getattr(lib, f"{prefix}get_corename{suffix}")
                config = getattr(lib, f"{prefix}get_config{suffix}")
                threads = getattr(lib, f"{prefix}get_num_threads{suffix}")
            except AttributeError:
                continue
            corename.restype = ctypes.c_char_p
            config.restype = ctypes.c_char_p
            found.append({
                "library": os.path.basename(path),
                "corename": corename().decode(),
                "config": config().decode().strip(),
                "threads": threads(),
            })
            break
    return found


print(json.dumps({
    "numpy": np.__version__,
    "blas": openblas_info(),
    "environment": {k: os.environ[k] for k in sorted(os.environ) if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))},
}))
