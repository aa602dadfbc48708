"""Brute-force statistics for the tests: one example at a time, plain autograd, no hooks of the
estimator's kind. Per example n (a batch of one): its parameter gradients from .backward() give
the diagonal Fisher and the Fisher blocks; a zero probe added to every nn.Linear's output gives
g_t as the probe's gradient, and a forward hook its inputs a_t, for the Grams and the mean.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Optional

import numpy as np
import torch
from torch import nn

from mats_statistics import categorical_log_likelihood


def split_examples(batch: Dict[str, torch.Tensor]) -> Iterable[Dict[str, torch.Tensor]]:
    """A dict batch (every value [B, ...]) as B batches of one example."""
    size = next(iter(batch.values())).shape[0]
    for i in range(size):
        yield {k: v[i : i + 1] for k, v in batch.items()}


def reference_statistics(
    model: nn.Module,
    batches: Iterable[Dict[str, torch.Tensor]],
    forward: Callable[[nn.Module, Any], torch.Tensor],
    labels: Callable[[Any], torch.Tensor],
    token_mask: Optional[Callable[[Any], torch.Tensor]] = None,
) -> Dict[str, np.ndarray]:
    model.eval()
    sums: Dict[str, torch.Tensor] = {}
    tokens: Dict[str, int] = {}
    examples = 0

    def add(key: str, value: torch.Tensor) -> None:
        sums[key] = sums[key] + value if key in sums else value.clone()

    linears = {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    named = dict(model.named_parameters())
    for batch in batches:
        for example in split_examples(batch):
            records: Dict[str, list] = {name: [] for name in linears}
            handles = []
            for name, module in linears.items():

                def hook(module, inputs, output, name=name):
                    probe = torch.zeros_like(output, requires_grad=True)
                    records[name].append((inputs[0].detach().double(), probe))
                    return output + probe

                handles.append(module.register_forward_hook(hook))
            model.zero_grad(set_to_none=True)
            try:
                log_p = categorical_log_likelihood(forward(model, example), labels(example))
                log_p.sum().backward()
            finally:
                for h in handles:
                    h.remove()
            examples += 1
            for name, p in named.items():
                g = torch.zeros_like(p, dtype=torch.float64) if p.grad is None else p.grad.double()
                add(f"{name}::fisher", g**2)
                if p.dim() == 1:
                    add(f"{name}::fisher_block", torch.outer(g, g))
            mask = None if token_mask is None else token_mask(example)
            for name, module in linears.items():
                if not records[name] or not module.weight.requires_grad:
                    continue
                for a, probe in records[name]:
                    g = probe.grad.double()
                    rows = a.reshape(-1, a.shape[-1])
                    grad_rows = g.reshape(-1, g.shape[-1])
                    if mask is not None and a.dim() == 3:
                        keep = (mask.reshape(-1) != 0)
                        rows, grad_rows = rows[keep], grad_rows[keep]
                    add(f"{name}.weight::input_gram", rows.T @ rows)
                    add(f"{name}.weight::grad_gram", grad_rows.T @ grad_rows)
                    if module.bias is not None:
                        add(f"{name}.weight::input_mean", rows.sum(dim=0))
                    tokens[f"{name}.weight"] = tokens.get(f"{name}.weight", 0) + rows.shape[0]
    out = {}
    for key, total in sums.items():
        parameter, kind = key.rsplit("::", 1)
        out[key] = (total / (tokens[parameter] if kind in ("input_gram", "grad_gram", "input_mean") else examples)).numpy()
    return out
