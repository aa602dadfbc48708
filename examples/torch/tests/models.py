"""Small models and data for the estimator's tests."""

from __future__ import annotations

from typing import Dict, List

import torch
from torch import nn


class Mlp(nn.Module):
    """The demo's MLP (examples/src/mlp): linear layers `layers.i` with ReLU between them."""

    def __init__(self, sizes: List[int]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = torch.relu(x)
        return x


class OddLanguageModel(nn.Module):
    """A token-level model with every case the estimator routes away from its hooks or must
    not be fooled by: an output head tied to the embedding, a convolution, a bare parameter,
    a linear layer called twice, an in-place ReLU on a linear layer's output, and
    nn.MultiheadAttention (whose projections it calls through F.multi_head_attention_forward)."""

    def __init__(self, vocab: int = 11, hidden: int = 8) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden, padding_idx=0)
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, hidden))
        self.conv = nn.Conv1d(hidden, hidden, kernel_size=3, padding=1)
        self.shared = nn.Linear(hidden, hidden)
        self.relu = nn.ReLU(inplace=True)
        self.attention = nn.MultiheadAttention(hidden, 2, batch_first=True)
        self.norm = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, vocab, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x = self.embed(input_ids) * self.scale
        x = self.conv(x.transpose(1, 2)).transpose(1, 2)
        x = self.relu(self.shared(x))
        x = self.shared(x)
        x = x + self.attention(x, x, x, key_padding_mask=attention_mask == 0, need_weights=False)[0]
        return self.head(self.norm(x))  # [B, L, vocab]


def token_batches(count: int, batch_size: int, vocab: int, max_length: int, seed: int, classes: int = 0) -> List[Dict[str, torch.Tensor]]:
    """Padded batches of random token sequences of random lengths (id 0 is padding): input_ids,
    attention_mask, and labels: one class per sequence when classes > 0, else next-token-like
    targets per position (-100 on padding and on a random quarter of the positions)."""
    g = torch.Generator().manual_seed(seed)
    batches = []
    for start in range(0, count, batch_size):
        b = min(batch_size, count - start)
        lengths = torch.randint(1, max_length + 1, (b,), generator=g)
        length = int(lengths.max())
        ids = torch.randint(1, vocab, (b, length), generator=g)
        mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
        ids = ids * mask
        if classes > 0:
            labels = torch.randint(0, classes, (b,), generator=g)
        else:
            labels = torch.randint(1, vocab, (b, length), generator=g)
            drop = (mask == 0) | (torch.rand(b, length, generator=g) < 0.25)
            labels[drop] = -100
        batches.append({"input_ids": ids, "attention_mask": mask, "labels": labels})
    return batches


def unpad(batches: List[Dict[str, torch.Tensor]]) -> List[Dict[str, torch.Tensor]]:
    """Each example alone, its padding removed."""
    out = []
    for batch in batches:
        for i in range(batch["input_ids"].shape[0]):
            n = int(batch["attention_mask"][i].sum())
            out.append({k: (v[i : i + 1, :n] if v.dim() == 2 else v[i : i + 1]) for k, v in batch.items()})
    return out
