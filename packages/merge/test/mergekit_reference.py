"""mergekit's merge methods in numpy, written from mergekit's documentation (docs/merge_methods.md)
and its config semantics (config.py: per-model parameters fall back to the global ones, then to
the method's default; a list of numbers is a gradient over the layers, a list of {filter, value}
picks the first entry whose filter is part of the tensor's name).

The reference the mergekit-config tests compare `mats merge` with. Reads JSON on stdin:
  {"config": <the mergekit config>, "tensors": {"<model path>": {"<name>": {"shape": [...], "data": [...]}}}}
and prints {"<name>": [merged values, row-major]} (float64).

Layer positions: a tensor of layer i of L (a name segment layers/layer/h/blocks/block followed
by i) is at t = i / (L - 1) (t = 1 when L = 1); every other tensor at t = 0, as mergekit reads
its pre- and post-layer weights.
"""
import json
import re
import sys

import numpy as np

DEFAULTS = {
    # method: (consensus, sparsification, normalize, rescale)
    "linear": None,
    "task_arithmetic": (False, None, False, False),
    "ties": (True, "magnitude", True, False),
    "dare_ties": (True, "random", False, True),
    "dare_linear": (False, "random", False, True),
    "breadcrumbs": (False, "magnitude_outliers", False, False),
    "breadcrumbs_ties": (True, "magnitude_outliers", False, False),
}


def evaluate(setting, name, t):
    if isinstance(setting, (bool, int, float)):
        return setting
    if isinstance(setting, list):
        if all(isinstance(e, (int, float)) for e in setting):
            scaled = t * (len(setting) - 1)
            i0 = int(scaled)
            i1 = min(len(setting) - 1, i0 + 1)
            frac = scaled - i0
            return (1 - frac) * setting[i0] + frac * setting[i1]
        for cond in setting:
            f = cond.get("filter")
            if f is None or f == "*" or (name and f in name):
                return evaluate(cond["value"], name, t)
    return None


def parameter(config, own, key, name, t, default):
    for source in (own, config.get("parameters") or {}):
        if source and key in source:
            value = evaluate(source[key], name, t)
            if value is not None:
                return value
    return default


def positions(names):
    stacks = {}
    where = {}
    for name in names:
        parts = name.split(".")
        for k in range(1, len(parts)):
            if re.fullmatch(r"\d+", parts[k]) and parts[k - 1] in ("layers", "layer", "h", "blocks", "block"):
                stack = ".".join(parts[:k])
                stacks.setdefault(stack, set()).add(int(parts[k]))
                where[name] = (stack, int(parts[k]))
                break
    out = {}
    for name in names:
        if name not in where:
            out[name] = 0.0
        else:
            stack, i = where[name]
            count = len(stacks[stack])
            out[name] = i / (count - 1) if count > 1 else 1.0
    return out


def descending_order(delta):
    """Indices by |delta| descending, ties by index (the lower index ranks higher)."""
    a = np.abs(delta)
    return np.lexsort((np.arange(a.size), -a))


def magnitude(delta, density):
    if density >= 1:
        return delta.copy()
    k = int(density * delta.size)
    keep = np.zeros(delta.size, dtype=bool)
    keep[descending_order(delta)[:k]] = True
    return np.where(keep, delta, 0.0)


def magnitude_outliers(delta, density, gamma):
    """The docs: drop the gamma fraction of largest |delta|, then the smallest, so density stays."""
    if density >= 1:
        return delta.copy()
    n = delta.size
    keep_n = int(density * n)
    top = int(gamma * n)
    bottom = n - keep_n - top
    if bottom < 0:
        top += bottom
        bottom = 0
    order = descending_order(delta)
    keep = np.zeros(n, dtype=bool)
    keep[order[top : n - bottom]] = True
    return np.where(keep, delta, 0.0)


def l1_rescale(original, masked):
    before = np.abs(original).sum()
    after = np.abs(masked).sum()
    if before < 1e-7 or after < 1e-7:
        return masked
    return masked * (before / after)


def merge(config, tensors):
    method = config["merge_method"]
    base_path = config.get("base_model")
    entries = [m for m in config["models"] if m["model"] != base_path or method == "linear"]
    reference = base_path if base_path is not None else entries[0]["model"]
    names = sorted(tensors[reference].keys())
    ts = positions(names)
    out = {}
    for name in names:
        t = ts[name]
        shape = tensors[reference][name]["shape"]
        value = lambda path: np.array(tensors[path][name]["data"], dtype=np.float64)
        weights = [parameter(config, m.get("parameters"), "weight", name, t, None) for m in entries]
        if method == "linear":
            normalize = parameter(config, None, "normalize", name, t, True)
            total = sum(w * value(m["model"]) for w, m in zip(weights, entries))
            out[name] = (total / sum(weights) if normalize else total).tolist()
            continue
        consensus, sparsify, normalize_default, rescale_default = DEFAULTS[method]
        normalize = parameter(config, None, "normalize", name, t, normalize_default)
        rescale = parameter(config, None, "rescale", name, t, rescale_default)
        lam = parameter(config, None, "lambda", name, t, 1.0)
        base = value(base_path)
        deltas = []
        for m in entries:
            delta = value(m["model"]) - base
            density = parameter(config, m.get("parameters"), "density", name, t, 1.0)
            if sparsify == "magnitude":
                sparse = magnitude(delta, density)
            elif sparsify == "magnitude_outliers":
                gamma = parameter(config, m.get("parameters"), "gamma", name, t, 0.01)
                sparse = magnitude_outliers(delta, density, gamma)
            else:
                sparse = delta
            if sparsify is not None and rescale and density < 1:
                sparse = l1_rescale(delta, sparse)
            deltas.append(sparse)
        w = np.array(weights, dtype=np.float64)[:, None]
        weighted = np.stack(deltas) * w
        if consensus:
            majority = np.where(weighted.sum(axis=0) >= 0, 1.0, -1.0)
            mask = np.sign(weighted) == majority
            mixed = (weighted * mask).sum(axis=0)
            divisor = (w * mask).sum(axis=0)
            divisor[divisor == 0] = 1
        else:
            mixed = weighted.sum(axis=0)
            divisor = w.sum(axis=0)
            divisor[np.abs(divisor) < 1e-8] = 1
        if normalize:
            mixed = mixed / divisor
        out[name] = (base + lam * mixed).tolist()
        assert len(out[name]) == int(np.prod(shape)) if shape else 1
    return out


if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump(merge(request["config"], request["tensors"]), sys.stdout)
