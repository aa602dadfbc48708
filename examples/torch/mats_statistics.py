"""Statistics of a PyTorch model for Fisher merging, RegMean and MaTS (`mats merge`).

Needs torch and numpy only, and mats_safetensors.py beside it (which writes the file through the
`safetensors` package when that is installed). Given a model, batches and a per-example log-likelihood, it
records for every parameter, under the model's state_dict names, what @mats/merge reads
(packages/merge/README.md, "Statistics files"; docs/DESIGN.md §3 and §6):

    <W>::input_gram    [in, in]    A = (1/T) sum_t a_t a_t^T        nn.Linear W [out, in]
    <W>::grad_gram     [out, out]  G = (1/T) sum_t g_t g_t^T        (K-FAC: F(W) ~ G (x) A)
    <W>::input_mean    [in]        m = (1/T) sum_t a_t              nn.Linear with a bias (folding)
    <p>::fisher        p's shape   (1/N) sum_n (d log p(y_n|x_n) / dp)^2   every parameter
    <p>::fisher_block  [d, d]      (1/N) sum_n g_n g_n^T            1-D parameters (biases, norms)

a_t are a linear layer's inputs, g_t the gradients of the example's log-likelihood with respect
to its outputs, t runs over tokens (rows) and n over examples. Token-level models: the Grams and
the mean are summed over the tokens the mask keeps and divided by their number T, as the MaTS
reference code does (r-three/mats, save_gram_matrix.py); a Fisher is a mean over examples of
squared per-example gradients, each the sum over the example's tokens. Everything accumulates in
float64.

How each module is handled (exact per-example gradients everywhere; hooks where they suffice):
- nn.Linear: a forward hook records a_t and the gradient at the output; dW_n = sum_t g_t a_t^T.
- nn.Embedding: the gradient at the output is scattered onto the rows the example's ids pick;
  only a diagonal Fisher (its one-hot input Gram has no place in the file: the merge reads
  Grams of [out, in] weights, and an embedding is stored [vocab, dim]).
- nn.LayerNorm: dgamma_n = sum_t g_t * xhat_t, dbeta_n = sum_t g_t.
- Everything else (convolutions, GPT-2's transformers Conv1D whose weight is stored [in, out],
  bare nn.Parameters, nn.MultiheadAttention's in_proj_weight, an embedding called with
  broadcast ids such as BERT's position ids [1, L], weights tied between modules): per-example
  gradients by a batched backward pass (torch.autograd.grad(is_grads_batched=True), one
  backward pass per example where that is not supported): a diagonal Fisher (and a block for
  1-D parameters), no Grams. The merge then merges such tensors by `fisher`, by `mats`'s
  diagonal or block subspace, and averages them under `regmean` and `mats kfac`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mats_safetensors import write_safetensors

__all__ = [
    "Statistics",
    "estimate_statistics",
    "write_statistics_file",
    "categorical_log_likelihood",
    "sample_categorical",
    "IGNORE_INDEX",
]

# Labels equal to this are no target (PyTorch's and Hugging Face's convention).
IGNORE_INDEX = -100

Batch = Any
Targets = torch.Tensor


def categorical_log_likelihood(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log p(y_n | x_n) of a softmax classifier, per example: logits [B, C] with labels [B], or
    [B, L, C] with labels [B, L] (summed over the example's positions). Labels IGNORE_INDEX
    contribute nothing."""
    if logits.dim() < 2 or labels.shape != logits.shape[:-1]:
        raise ValueError(f"categorical_log_likelihood: logits {list(logits.shape)} need labels of shape {list(logits.shape[:-1])}, got {list(labels.shape)}")
    keep = labels != IGNORE_INDEX
    log_p = torch.log_softmax(logits, dim=-1)
    index = torch.where(keep, labels, torch.zeros_like(labels)).long()
    picked = log_p.gather(-1, index.unsqueeze(-1)).squeeze(-1)
    picked = torch.where(keep, picked, torch.zeros_like(picked))
    return picked.reshape(picked.shape[0], -1).sum(dim=1)


def sample_categorical(logits: torch.Tensor, template: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Labels drawn from the model's own prediction softmax(logits) (the "true" Fisher), one per
    position where `template` is not IGNORE_INDEX; IGNORE_INDEX elsewhere."""
    classes = logits.shape[-1]
    p = torch.softmax(logits.detach().double(), dim=-1).reshape(-1, classes)
    draws = torch.multinomial(p, 1, generator=generator).reshape(template.shape)
    return torch.where(template != IGNORE_INDEX, draws, torch.full_like(draws, IGNORE_INDEX))


@dataclass
class Statistics:
    """A model's statistics: `<param>::<kind>` -> float64 array, and how they were made."""

    tensors: Dict[str, np.ndarray]
    n_examples: int
    fisher: str
    tokens: Dict[str, int] = field(default_factory=dict)

    def metadata(self) -> Dict[str, str]:
        """The file's metadata: n_examples (what the merge reads) and the Fisher's kind."""
        return {"n_examples": str(self.n_examples), "fisher": self.fisher}


def write_statistics_file(path: str, statistics: Statistics, dtype: str = "F32") -> None:
    """Writes the statistics as one safetensors file (F32 by default, F64 for full precision),
    with metadata n_examples. The file appears only when complete (written beside, renamed)."""
    if dtype not in ("F32", "F64"):
        raise ValueError(f"write_statistics_file: dtype must be F32 or F64, got {dtype!r}")
    numpy_dtype = np.float32 if dtype == "F32" else np.float64
    tensors = {key: np.ascontiguousarray(value, dtype=numpy_dtype) for key, value in statistics.tensors.items()}
    write_safetensors(path, tensors, statistics.metadata())


def estimate_statistics(
    model: nn.Module,
    batches: Iterable[Batch],
    forward: Callable[[nn.Module, Batch], torch.Tensor],
    labels: Optional[Callable[[Batch], Targets]] = None,
    *,
    fisher: str = "empirical",
    token_mask: Optional[Callable[[Batch], torch.Tensor]] = None,
    max_examples: Optional[int] = None,
    seed: int = 0,
    log_likelihood: Callable[[torch.Tensor, Targets], torch.Tensor] = categorical_log_likelihood,
    sample: Callable[[torch.Tensor, Targets, torch.Generator], Targets] = sample_categorical,
    max_gram_size: int = 8192,
    max_block_size: int = 4096,
    per_example_gradients: bool = True,
) -> Statistics:
    """Estimates a model's statistics from its data.

    forward(model, batch) -> outputs (logits [B, C] or [B, L, C] for the default categorical
        likelihood); B, the number of examples, is the length of the log-likelihood vector.
    labels(batch) -> targets (gold labels, IGNORE_INDEX where there is none). Needed for the
        empirical Fisher; for the true Fisher they only say which positions have a target.
    fisher: "empirical" (the gold labels) or "true" (labels sampled from the model, seeded).
    token_mask(batch) -> [B, L], nonzero for the tokens that count in Grams (padding: 0).
        Applies to every layer whose input is [B, L, features]; an input [B, features] is one
        row per example. Without it every row counts.
    max_examples: stop after this many examples (the last batch is cut).
    log_likelihood(outputs, targets) -> [B]: log p(y_n | x_n) per example, summed over its tokens.
    sample(outputs, template, generator) -> targets: draws for the true Fisher.
    max_gram_size, max_block_size: Grams and Fisher blocks of larger dimension are skipped (a
        warning names them): a [50000, 50000] gradient Gram of an LM head would not fit.
    per_example_gradients: False skips the parameters that need per-example backward passes
        (those no hook handles: see the module's docstring); a warning names them. Each batch of
        B examples then costs one backward pass instead of about B.

    The model is put in eval mode (dropout off) while estimating and restored afterwards.
    """
    if fisher not in ("empirical", "true"):
        raise ValueError(f"estimate_statistics: fisher must be 'empirical' or 'true', got {fisher!r}")
    if fisher == "empirical" and labels is None:
        raise ValueError("estimate_statistics: the empirical Fisher needs labels(batch) (the gold targets)")
    if max_examples is not None and max_examples <= 0:
        raise ValueError(f"estimate_statistics: max_examples must be positive, got {max_examples}")

    estimator = _Estimator(model, max_gram_size, max_block_size, per_example_gradients)
    generator: Optional[torch.Generator] = None
    examples = 0
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            for batch in batches:
                if max_examples is not None and examples >= max_examples:
                    break
                estimator.start_batch()
                try:
                    outputs = forward(model, batch)
                finally:
                    estimator.stop_recording()
                mask = None if token_mask is None else token_mask(batch)
                if fisher == "empirical":
                    targets = labels(batch)
                else:
                    template = labels(batch) if labels is not None else _template_from_mask(outputs, mask)
                    if generator is None:
                        generator = torch.Generator(device=outputs.device).manual_seed(seed)
                    targets = sample(outputs, template, generator)
                per_example = log_likelihood(outputs, targets)
                if per_example.dim() != 1:
                    raise ValueError(f"estimate_statistics: log_likelihood must return one value per example [B], got shape {list(per_example.shape)}")
                keep = per_example.shape[0] if max_examples is None else min(per_example.shape[0], max_examples - examples)
                estimator.add_batch(per_example, keep, mask)
                examples += keep
    finally:
        estimator.remove_hooks()
        model.train(was_training)
    if examples == 0:
        raise ValueError("estimate_statistics: no examples (the batches were empty)")
    return Statistics(estimator.results(examples), examples, fisher, estimator.token_counts())


def _template_from_mask(outputs: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
    """Targets everywhere (or where the token mask is set): where the true Fisher samples."""
    shape = outputs.shape[:-1]
    template = torch.zeros(shape, dtype=torch.long, device=outputs.device)
    if mask is not None and mask.shape == shape:
        template[mask == 0] = IGNORE_INDEX
    return template


# ---------------------------------------------------------------------------------------------
# Internals: one accumulator per module handled by hooks, one for the rest.


class _Sums:
    """float64 sums keyed by statistic, created on first use."""

    def __init__(self) -> None:
        self.sums: Dict[str, torch.Tensor] = {}

    def add(self, key: str, value: torch.Tensor) -> None:
        value = value.double()
        if key in self.sums:
            self.sums[key] += value
        else:
            self.sums[key] = value.clone()


@dataclass
class _Call:
    inputs: torch.Tensor  # what the module was called on (detached)
    output: torch.Tensor  # its output, a graph node nothing modifies in place


class _Hooked:
    """A module whose statistics come from its inputs and the gradient at its output."""

    def __init__(self, name: str, module: nn.Module, estimator: "_Estimator") -> None:
        self.name = name
        self.module = module
        self.calls: List[_Call] = []
        self.handle = module.register_forward_hook(self._record)
        self.estimator = estimator

    def param_name(self, attr: str) -> str:
        return f"{self.name}.{attr}" if self.name else attr

    def params(self) -> Dict[str, nn.Parameter]:
        return {self.param_name(k): p for k, p in self.module._parameters.items() if p is not None and p.requires_grad}

    def _record(self, module: nn.Module, inputs: Tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
        if not self.estimator.recording or not isinstance(output, torch.Tensor) or not output.requires_grad:
            return output
        if len(inputs) == 0 or not isinstance(inputs[0], torch.Tensor):
            raise ValueError(f"{self.name}: called without a positional input tensor; its statistics need the input the forward hook sees")
        self.calls.append(_Call(inputs[0].detach(), output))
        # Downstream code gets a copy: an in-place operation after the module (a ReLU(inplace=True))
        # then cannot change the node whose gradient we ask for.
        return output.clone()

    def separable(self, batch: int) -> bool:
        """Whether every call saw the batch's examples along its first dimension."""
        return len(self.calls) > 0 and all(c.output.dim() >= 1 and c.output.shape[0] == batch for c in self.calls)


class _Linear(_Hooked):
    def accumulate(self, sums: _Sums, grads: List[torch.Tensor], keep: int, mask: Optional[torch.Tensor], limits: Tuple[int, int]) -> int:
        out_features, in_features = self.module.weight.shape
        weight, bias = self.param_name("weight"), self.param_name("bias")
        rows_a, rows_g, masks = [], [], []
        for call, g in zip(self.calls, grads):
            a = call.inputs[:keep]
            g = g[:keep]
            middle = a.shape[1:-1]
            rows_a.append(a.reshape(keep, -1, in_features).double())
            rows_g.append(g.reshape(keep, -1, out_features).double())
            masks.append(_row_mask(self.name, a.shape, middle, mask, keep).to(a.device))
        a = torch.cat(rows_a, dim=1)  # [N, R, in]: each example's rows from every call
        g = torch.cat(rows_g, dim=1)  # [N, R, out]
        m = torch.cat(masks, dim=1)  # [N, R]

        # Grams and the mean over the rows the mask keeps (tokens); T counts them.
        a_kept, g_kept = a[m], g[m]
        tokens = a_kept.shape[0]
        max_gram = limits[0]
        if tokens > 0:
            if in_features <= max_gram:
                sums.add(f"{weight}::input_gram", a_kept.T @ a_kept)
            if out_features <= max_gram:
                sums.add(f"{weight}::grad_gram", g_kept.T @ g_kept)
            if self.module.bias is not None:
                sums.add(f"{weight}::input_mean", a_kept.sum(dim=0))

        # Exact per-example gradients, all rows (a masked row's gradient is whatever autograd says).
        if self.module.weight.requires_grad:
            if a.shape[1] == 1:
                sums.add(f"{weight}::fisher", (g[:, 0] ** 2).T @ (a[:, 0] ** 2))  # (g .* g)^T (a .* a)
            else:
                sums.add(f"{weight}::fisher", _sum_of_squared_products(g, a))
        if self.module.bias is not None and self.module.bias.requires_grad:
            db = g.sum(dim=1)  # [N, out]
            sums.add(f"{bias}::fisher", (db**2).sum(dim=0))
            if out_features <= limits[1]:
                sums.add(f"{bias}::fisher_block", db.T @ db)
        return tokens


class _Embedding(_Hooked):
    def accumulate(self, sums: _Sums, grads: List[torch.Tensor], keep: int, mask: Optional[torch.Tensor], limits: Tuple[int, int]) -> int:
        vocab, dim = self.module.weight.shape
        ids = torch.cat([c.inputs[:keep].reshape(keep, -1) for c in self.calls], dim=1)  # [N, R]
        g = torch.cat([grad[:keep].reshape(keep, -1, dim) for grad in grads], dim=1).double()  # [N, R, dim]
        example = torch.arange(keep, device=ids.device).unsqueeze(1).expand_as(ids)
        used = torch.ones_like(ids, dtype=torch.bool)
        if self.module.padding_idx is not None:
            used = ids != self.module.padding_idx  # PyTorch gives the padding row no gradient
        # Per (example, row of the table): the sum of the example's gradients that land there.
        pair = example[used] * vocab + ids[used]
        unique, inverse = torch.unique(pair, return_inverse=True)
        per_pair = torch.zeros(unique.shape[0], dim, dtype=torch.float64, device=g.device).index_add_(0, inverse, g[used])
        fisher = torch.zeros(vocab, dim, dtype=torch.float64, device=g.device).index_add_(0, unique % vocab, per_pair**2)
        sums.add(f"{self.param_name('weight')}::fisher", fisher)
        return 0


class _LayerNorm(_Hooked):
    def accumulate(self, sums: _Sums, grads: List[torch.Tensor], keep: int, mask: Optional[torch.Tensor], limits: Tuple[int, int]) -> int:
        shape = tuple(self.module.normalized_shape)
        d_gamma = d_beta = 0  # per-example gradients [N, *shape], summed over tokens and calls
        for call, g in zip(self.calls, grads):
            x = call.inputs[:keep].double()
            g = g[:keep].double()
            x_hat = F.layer_norm(x, shape, eps=self.module.eps)
            tokens = tuple(range(1, x.dim() - len(shape)))  # the axes between examples and features
            d_gamma = d_gamma + _sum_over(g * x_hat, tokens)
            d_beta = d_beta + _sum_over(g, tokens)
        for attr, per_example in (("weight", d_gamma), ("bias", d_beta)):
            parameter = self.module._parameters.get(attr)
            if parameter is None or not parameter.requires_grad:
                continue
            _add_fisher(sums, self.param_name(attr), per_example, limits[1])
        return 0


_HOOKED_TYPES = ((nn.Linear, _Linear), (nn.Embedding, _Embedding), (nn.LayerNorm, _LayerNorm))

# Per-example gradients of the other parameters by one vmapped backward pass; tests switch it
# off to check the one-pass-per-example fallback.
_BATCHED_GRADIENTS = True


class _Estimator:
    def __init__(self, model: nn.Module, max_gram_size: int, max_block_size: int, per_example_gradients: bool) -> None:
        self.limits = (max_gram_size, max_block_size)
        self.per_example_gradients = per_example_gradients
        self.skipped: Dict[str, None] = {}  # parameters left out by per_example_gradients=False
        self.recording = False
        self.sums = _Sums()
        self.tokens: Dict[str, int] = {}
        owners: Dict[int, List[str]] = {}
        for module_name, module in model.named_modules():
            for attr, p in module._parameters.items():
                if p is not None:
                    owners.setdefault(id(p), []).append(f"{module_name}.{attr}" if module_name else attr)
        # Every trainable parameter, under its first name (state_dict's, and the one a checkpoint
        # keeps for tied weights); a parameter of several modules is tied.
        self.parameters: Dict[str, nn.Parameter] = {name: p for name, p in model.named_parameters() if p.requires_grad}
        tied = {id(p) for p in self.parameters.values() if len(owners[id(p)]) > 1}
        self.hooked: List[_Hooked] = []
        for module_name, module in model.named_modules():
            kind = next((k for t, k in _HOOKED_TYPES if isinstance(module, t)), None)
            own = [p for p in module._parameters.values() if p is not None]
            if kind is None or not any(p.requires_grad for p in own) or any(id(p) in tied for p in own):
                continue
            self.hooked.append(kind(module_name, module, self))

    def start_batch(self) -> None:
        for h in self.hooked:
            h.calls = []
        self.recording = True

    def stop_recording(self) -> None:
        self.recording = False

    def remove_hooks(self) -> None:
        for h in self.hooked:
            h.handle.remove()

    def add_batch(self, per_example: torch.Tensor, keep: int, mask: Optional[torch.Tensor]) -> None:
        """Adds the first `keep` examples of a batch whose log-likelihoods are `per_example` [B]."""
        batch = per_example.shape[0]
        per_example = per_example[:keep]
        if mask is not None:
            mask = mask[:keep]
        if keep == 0:
            return
        if not torch.isfinite(per_example).all():
            raise ValueError("estimate_statistics: the log-likelihood of an example is not finite")
        active = []
        for h in self.hooked:
            if h.separable(batch):
                active.append(h)
            elif isinstance(h, _Linear) and h.calls:
                shapes = ", ".join(str(list(c.inputs.shape)) for c in h.calls)
                raise ValueError(f"{h.name}: nn.Linear called on inputs {shapes}, whose first dimension is not the batch's {batch} examples; its per-example statistics cannot be separated")
        claimed = {id(p) for h in active for p in h.params().values()}
        others = {name: p for name, p in self.parameters.items() if id(p) not in claimed}

        total = per_example.sum()
        nodes = [c.output for h in active for c in h.calls]
        grads = torch.autograd.grad(total, nodes, retain_graph=bool(others) and self.per_example_gradients, allow_unused=True) if nodes else ()
        grads = [torch.zeros_like(n) if g is None else g for n, g in zip(nodes, grads)]
        at = 0
        for h in active:
            mine = grads[at : at + len(h.calls)]
            at += len(h.calls)
            tokens = h.accumulate(self.sums, mine, keep, mask, self.limits)
            if isinstance(h, _Linear):
                self.tokens[h.param_name("weight")] = self.tokens.get(h.param_name("weight"), 0) + tokens
            h.calls = []
        if others and not self.per_example_gradients:
            self.skipped.update(dict.fromkeys(others))
        elif others:
            names = list(others)
            for name, g in zip(names, _per_example_gradients(per_example, [others[n] for n in names])):
                _add_fisher(self.sums, name, g, self.limits[1])

    def token_counts(self) -> Dict[str, int]:
        return dict(self.tokens)

    def results(self, examples: int) -> Dict[str, np.ndarray]:
        out: Dict[str, np.ndarray] = {}
        for key, total in self.sums.sums.items():
            parameter, kind = key.rsplit("::", 1)
            if kind in ("input_gram", "grad_gram", "input_mean"):
                tokens = self.tokens.get(parameter, 0)
                value = total / tokens
                if kind != "input_mean":
                    value = (value + value.T) / 2  # exactly symmetric, as the TypeScript accumulators write them
            else:
                value = total / examples
            out[key] = value.cpu().numpy()
        for h in self.hooked:
            if isinstance(h, _Linear):
                weight = h.param_name("weight")
                out_features, in_features = h.module.weight.shape
                if self.tokens.get(weight, 0) == 0:
                    warnings.warn(f"{weight}: no Grams: the layer never saw a token of the batches' examples (it is never called, or called on other inputs)")
                for kind, size in (("input_gram", in_features), ("grad_gram", out_features)):
                    if size > self.limits[0]:
                        warnings.warn(f"{weight}::{kind} skipped: dimension {size} is above max_gram_size {self.limits[0]}")
        if self.skipped:
            warnings.warn(f"no statistics for {', '.join(self.skipped)}: they need per-example backward passes (per_example_gradients=False)")
        for name, p in self.parameters.items():
            if p.dim() == 1 and p.shape[0] > self.limits[1]:
                warnings.warn(f"{name}::fisher_block skipped: dimension {p.shape[0]} is above max_block_size {self.limits[1]}")
        return dict(sorted(out.items()))


def _row_mask(name: str, shape: torch.Size, middle: torch.Size, mask: Optional[torch.Tensor], keep: int) -> torch.Tensor:
    """Which rows of an input [N, *middle, features] count as tokens: [N, prod(middle)]."""
    rows = int(np.prod(middle)) if len(middle) else 1
    if len(middle) == 0 or mask is None:
        return torch.ones(keep, rows, dtype=torch.bool)
    if tuple(mask.shape) != (keep, *middle):
        raise ValueError(
            f"{name}: input of shape {list(shape)} has token axes {list(middle)}, but token_mask is {list(mask.shape)}; "
            f"the mask must be [examples, tokens] for every layer with token axes"
        )
    return (mask != 0).reshape(keep, rows)


def _sum_over(x: torch.Tensor, axes: Tuple[int, ...]) -> torch.Tensor:
    return x.sum(dim=axes) if axes else x


def _sum_of_squared_products(g: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """sum_n (g_n^T a_n)^2 elementwise, g [N, R, out], a [N, R, in], in chunks of examples so
    that the [chunk, out, in] per-example gradients stay near 64 MiB."""
    n, _, out_features = g.shape
    in_features = a.shape[2]
    chunk = max(1, (64 << 20) // (8 * out_features * in_features))
    total = torch.zeros(out_features, in_features, dtype=torch.float64, device=g.device)
    for start in range(0, n, chunk):
        d_w = torch.bmm(g[start : start + chunk].transpose(1, 2), a[start : start + chunk])
        total += (d_w**2).sum(dim=0)
    return total


def _add_fisher(sums: _Sums, name: str, per_example: torch.Tensor, max_block: int) -> None:
    """Diagonal Fisher (and, for a 1-D parameter, its block) of per-example gradients [N, *shape]."""
    per_example = per_example.double()
    sums.add(f"{name}::fisher", (per_example**2).sum(dim=0))
    if per_example.dim() == 2 and per_example.shape[1] <= max_block:
        sums.add(f"{name}::fisher_block", per_example.T @ per_example)


def _per_example_gradients(per_example: torch.Tensor, parameters: List[nn.Parameter]) -> List[torch.Tensor]:
    """d per_example[n] / d p for every n: [N, *p.shape] per parameter (zeros where unused)."""
    n = per_example.shape[0]
    if _BATCHED_GRADIENTS:
        try:
            eye = torch.eye(n, dtype=per_example.dtype, device=per_example.device)
            grads = torch.autograd.grad(per_example, parameters, grad_outputs=eye, is_grads_batched=True, retain_graph=True, allow_unused=True)
            return [torch.zeros(n, *p.shape, dtype=p.dtype, device=p.device) if g is None else g for p, g in zip(parameters, grads)]
        except RuntimeError:
            pass  # an operation without a batching rule: one backward pass per example instead
    rows: List[List[torch.Tensor]] = [[] for _ in parameters]
    for i in range(n):
        grads = torch.autograd.grad(per_example[i], parameters, retain_graph=i + 1 < n, allow_unused=True)
        for row, p, g in zip(rows, parameters, grads):
            row.append(torch.zeros_like(p) if g is None else g)
    return [torch.stack(row) for row in rows]
