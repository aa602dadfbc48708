#!/usr/bin/env python3
"""An independent numpy check of a task-subspace merge written by `mats merge`.

Reads the merged checkpoint's metadata (method, parameters, inputs), recomputes the solution of
the same system from the input checkpoints and statistics files with numpy, written from
docs/METHODS.md alone (no code shared with the TypeScript), and prints, per tensor, the largest
difference relative to the largest entry.

    python3 examples/check/crosscheck.py MERGED_FOLDER_OR_FILE

Covers regmean and mats with subspace gram or kfac (no per-tensor rules), with shrink, the
factor dampings, normalize_grad and bias folding. numpy's answer is the converged solution: a
mats merge stopped early (iterations, reference: true) differs by what CG had left to do.
"""
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    """Every tensor as float64, and the metadata."""
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"]).astype(np.float64)
    return tensors, header.get("__metadata__", {})


def damping_of(d):
    """A config damping: a number is relative; {relative, absolute}."""
    if d is None:
        return 0.0, 0.0
    if isinstance(d, (int, float)):
        return float(d), 0.0
    return float(d.get("relative", 0)), float(d.get("absolute", 0))


def prepare(m, shrink, relative, absolute, normalize=False):
    """Symmetrise, shrink the off-diagonal, normalise to mean eigenvalue 1, damp (METHODS.md)."""
    n = m.shape[0]
    m = (m + m.T) / 2
    m = shrink * m + (1 - shrink) * np.diag(np.diag(m))
    mean = np.trace(m) / n
    if normalize and mean > 0:
        m = m / mean
        mean = 1.0
    return m + (relative * mean + absolute) * np.eye(n)


def pcg(apply, b, precondition, x0, rtol=1e-12, maxiter=20000):
    x = x0.copy()
    r = b - apply(x)
    z = precondition(r)
    p = z.copy()
    rz = np.sum(r * z)
    bn = np.linalg.norm(b)
    for _ in range(maxiter):
        if np.linalg.norm(r) <= rtol * bn:
            break
        q = apply(p)
        alpha = rz / np.sum(p * q)
        x += alpha * p
        r -= alpha * q
        z = precondition(r)
        rz_next = np.sum(r * z)
        p = z + (rz_next / rz) * p
        rz = rz_next
    return x


def main(merged_path):
    merged, metadata = read_safetensors(merged_path)
    described = json.loads(metadata["mats_parameters"])
    method, p = described["method"], described["parameters"]
    inputs = json.loads(metadata["mats_inputs"])
    if method not in ("regmean", "mats"):
        sys.exit(f"{merged_path}: method {method}: only regmean and mats are checked")
    subspace = "gram" if method == "regmean" else p.get("subspace")
    if subspace not in ("gram", "kfac") or p.get("tensors"):
        sys.exit(f"{merged_path}: subspace {subspace}{' with per-tensor rules' if p.get('tensors') else ''}: only gram and kfac are checked")
    models = [read_safetensors(m["path"])[0] for m in inputs["models"]]
    stats = [read_safetensors(m["stats"])[0] for m in inputs["models"]]
    weights = [m["weight"] for m in inputs["models"]]
    shrink = p.get("shrink", 1)
    both = damping_of(p.get("damping"))
    grad = np.add(both, damping_of(p.get("grad_damping")))
    inp = np.add(both, damping_of(p.get("input_damping")))
    fold = p.get("fold_bias", True)
    worst = 0.0
    for name in sorted(merged):
        if not name.endswith(".weight") or f"{name}::input_gram" not in stats[0]:
            continue
        bias = name[: -len("weight")] + "bias"
        folded = fold and bias in merged and all(f"{name}::input_mean" in s for s in stats)
        Ws, As, Gs = [], [], []
        for model, s, w in zip(models, stats, weights):
            W, A = model[name], s[f"{name}::input_gram"]
            if folded:
                m = s[f"{name}::input_mean"]
                A = np.block([[A, m[:, None]], [m[None, :], np.ones((1, 1))]])
                W = np.concatenate([W, model[bias][:, None]], 1)
            A = prepare(A, shrink, *inp)
            if subspace == "gram":
                As.append(w * A)
                Gs.append(np.eye(W.shape[0]))
            else:
                As.append(A)
                Gs.append(w * prepare(s[f"{name}::grad_gram"], shrink, *grad, p.get("normalize_grad", False)))
            Ws.append(W)
        apply = lambda X: sum(G @ X @ A for G, A in zip(Gs, As))
        b = sum(G @ W @ A for G, A, W in zip(Gs, As, Ws))
        if subspace == "gram":
            x = np.linalg.lstsq(sum(As), b.T, rcond=None)[0].T
        else:
            gi, ai = np.linalg.pinv(sum(Gs), hermitian=True), np.linalg.pinv(sum(As), hermitian=True)
            x = pcg(apply, b, lambda R: gi @ R @ ai, np.zeros_like(b))
        ours = np.concatenate([merged[name], merged[bias][:, None]], 1) if folded else merged[name]
        difference = np.max(np.abs(ours - x)) / max(np.max(np.abs(x)), 1e-300)
        worst = max(worst, difference)
        print(f"{name}{' + ' + bias if folded else ''} ({subspace}): max |ours - numpy| / max |numpy| = {difference:.2e}")
    print(f"worst: {worst:.2e}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
