"""K-FAC sum matvec and the paper's solver, in numpy, on a problem written by the TS bench.

The problem directory holds meta.json ({"models": M, "n": n}) and raw little-endian float64
files G{i}.bin, A{i}.bin, W{i}.bin, each [n, n] row-major. The operator is
    X -> sum_i G_i X A_i            ((G_i kron A_i) vec_row(X), DESIGN.md section 3)
and the system sum_i G_i X A_i = sum_i G_i W_i A_i is solved from the task-arithmetic start
X0 = mean_i W_i by unpreconditioned conjugate gradients, stopping when
||r|| <= rtol ||b|| (the MaTS reference code runs scipy's cg, which is this loop).

Usage: python3 kfac.py DIR MODE [RTOL] [MIN_SECONDS]; MODE is matvec or solve.
Prints one JSON object on stdout.
"""
import json
import os
import sys
import time

import numpy as np


def load(directory, dtype):
    with open(os.path.join(directory, "meta.json")) as f:
        meta = json.load(f)
    m, n = meta["models"], meta["n"]

    def read(name):
        return np.fromfile(os.path.join(directory, name), dtype="<f8").reshape(n, n).astype(dtype)

    gs = [read(f"G{i}.bin") for i in range(m)]
    as_ = [read(f"A{i}.bin") for i in range(m)]
    ws = [read(f"W{i}.bin") for i in range(m)]
    return gs, as_, ws


def make_matvec(gs, as_):
    def matvec(x):
        y = gs[0] @ x @ as_[0]
        for g, a in zip(gs[1:], as_[1:]):
            y += g @ x @ a
        return y

    return matvec


def cg(matvec, b, x0, rtol, max_iterations):
    x = x0.copy()
    r = b - matvec(x)
    p = r.copy()
    rr = float(np.vdot(r, r))
    stop = rtol * float(np.linalg.norm(b))
    iterations = 0
    while np.sqrt(rr) > stop and iterations < max_iterations:
        ap = matvec(p)
        alpha = rr / float(np.vdot(p, ap))
        x += alpha * p
        r -= alpha * ap
        rr_new = float(np.vdot(r, r))
        p = r + (rr_new / rr) * p
        rr = rr_new
        iterations += 1
    return x, iterations, np.sqrt(rr)


def main():
    directory, mode = sys.argv[1], sys.argv[2]
    if mode == "matvec":
        min_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
        out = {"numpy": np.__version__, "results": []}
        for dtype in ("float64", "float32"):
            gs, as_, ws = load(directory, dtype)
            matvec = make_matvec(gs, as_)
            matvec(ws[0])
            times = []
            start = time.perf_counter()
            while len(times) < 3 or time.perf_counter() - start < min_seconds:
                t0 = time.perf_counter()
                matvec(ws[0])
                times.append(time.perf_counter() - t0)
            out["results"].append({"dtype": dtype, "seconds": min(times)})
        print(json.dumps(out))
    elif mode == "solve":
        rtol = float(sys.argv[3])
        repetitions = int(sys.argv[4]) if len(sys.argv) > 4 else 3
        gs, as_, ws = load(directory, "float64")
        matvec = make_matvec(gs, as_)
        best = None
        for _ in range(repetitions):
            # Timed like the TS rows: the right-hand side and the start, then the iterations.
            t0 = time.perf_counter()
            b = sum(g @ w @ a for g, w, a in zip(gs, ws, as_))
            x0 = sum(ws) / len(ws)
            x, iterations, residual = cg(matvec, b, x0, rtol, 10_000)
            t = time.perf_counter() - t0
            best = t if best is None else min(best, t)
        true_residual = float(np.linalg.norm(b - matvec(x)) / np.linalg.norm(b))
        print(json.dumps({"numpy": np.__version__, "seconds": best, "iterations": iterations, "relativeResidual": true_residual}))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
