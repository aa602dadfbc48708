"""Makes the recipe's inputs for its test, as a user would have them: a "pretrained" tiny BERT
(an encoder trained on the upstream features of tasks.py, with a fresh 6-way classifier head,
what from_pretrained(..., num_labels=6) gives before fine-tuning) and three copies of it
fine-tuned on task-a, task-b and task-c, each saved as a Hugging Face folder (config.json +
model.safetensors) named after its task.

    python make_recipe_models.py FOLDER
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Dict

import torch
from torch import nn

from tasks import MARKERS, examples, upstream_examples
from tiny_bert import TinyBertForSequenceClassification

UPSTREAM_STEPS, UPSTREAM_LEARNING_RATE = 400, 3e-3
FINE_TUNING_STEPS, FINE_TUNING_LEARNING_RATE = 100, 1e-3


def train(model: nn.Module, data: Dict[str, torch.Tensor], target: str, loss: Callable, steps: int, learning_rate: float, seed: int) -> None:
    """AdamW on shuffled batches of 32, dropout on."""
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    model.train()
    count = data[target].shape[0]
    order = torch.empty(0, dtype=torch.long)
    for _ in range(steps):
        if order.numel() < 32:
            order = torch.cat([order, torch.randperm(count, generator=g)])
        batch, order = order[:32], order[32:]
        logits = model(data["input_ids"][batch], data["attention_mask"][batch]).logits
        value = loss(logits, data[target][batch])
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    model.eval()


def main(folder: str) -> None:
    torch.manual_seed(0)
    model = TinyBertForSequenceClassification({"num_labels": 6})
    train(model, upstream_examples(), "features", nn.functional.binary_cross_entropy_with_logits, UPSTREAM_STEPS, UPSTREAM_LEARNING_RATE, seed=0)
    # A fresh head, as fine-tuning from a pretrained encoder starts with.
    nn.init.normal_(model.classifier.weight, std=model.config["initializer_range"])
    nn.init.zeros_(model.classifier.bias)
    model.save_pretrained(os.path.join(folder, "pretrained"))
    for i, task in enumerate(MARKERS):
        model = TinyBertForSequenceClassification.from_pretrained(os.path.join(folder, "pretrained"))
        train(model, examples(task, "train"), "labels", nn.functional.cross_entropy, FINE_TUNING_STEPS, FINE_TUNING_LEARNING_RATE, seed=i + 1)
        model.save_pretrained(os.path.join(folder, task))


if __name__ == "__main__":
    main(sys.argv[1])
