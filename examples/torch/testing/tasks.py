"""Synthetic sequence-classification tasks for the recipe's test, in the form the recipe asks
of a user's data module: task_batches(name, split) yields dicts of input_ids, attention_mask
and labels tensors (what a tokenizer and a collator make of real data), and task_labels(name)
lists the label ids of a task.

A sequence is [CLS, TASK, x_1 .. x_n], n from 4 to 12, padded with 0; the task's marker token
says which task it is (as T5's prompts do). The three tasks share one 6-way classifier head,
each with its own pair of labels (the MaTS paper's models score each task's own answer
choices); labels are balanced (drawn first, then a sequence that has them):
- task-a (labels 0, 1): is x_1 in the upper half of the content tokens?
- task-b (labels 2, 3): is x_3 in the upper half?
- task-c (labels 4, 5): is x_2 in the middle half?

upstream_examples() is the "pretraining" data: sequences with a random marker and six binary
features of x_1, x_2, x_3 (the three above and three like them), so that the pretrained model
already computes what the tasks need and fine-tuning moves it a little, as it does a real one.
"""

from __future__ import annotations

import os
from typing import Dict, Iterator, Tuple

import torch

VOCAB = 64
PAD, CLS = 0, 1
MARKERS = {"task-a": 2, "task-b": 3, "task-c": 4}
LABELS = {"task-a": (0, 1), "task-b": (2, 3), "task-c": (4, 5)}
FIRST, LAST = 8, VOCAB - 1  # content tokens
SPAN = LAST + 1 - FIRST
SPLIT_SEEDS = {"train": 0, "test": 1, "upstream": 2}
SIZES = {"train": 512, "test": 512, "upstream": 4096}


def upper_half(t: torch.Tensor) -> torch.Tensor:
    return t >= FIRST + SPAN // 2


def middle_half(t: torch.Tensor) -> torch.Tensor:
    return (t >= FIRST + SPAN // 4) & (t < FIRST + 3 * SPAN // 4)


def first_quarter(t: torch.Tensor) -> torch.Tensor:
    return t < FIRST + SPAN // 4


# Which content position (0-based) and which property each task asks about.
RULES = {"task-a": (0, upper_half), "task-b": (2, upper_half), "task-c": (1, middle_half)}
UPSTREAM_FEATURES = [(0, upper_half), (2, upper_half), (1, middle_half), (0, first_quarter), (2, first_quarter), (1, first_quarter)]


def task_labels(name: str) -> Tuple[int, ...]:
    """The label ids of a task (its answer choices in the shared head)."""
    return LABELS[_task(name)]


def _task(name: str) -> str:
    task = os.path.basename(os.path.normpath(name))
    if task not in MARKERS:
        raise ValueError(f"unknown task {task!r} (known: {', '.join(MARKERS)})")
    return task


def _content(g: torch.Generator, n: int) -> torch.Tensor:
    return torch.randint(FIRST, LAST + 1, (n,), generator=g)


def _padded(rows) -> Dict[str, torch.Tensor]:
    ids = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=PAD)
    return {"input_ids": ids, "attention_mask": (ids != PAD).long()}


def examples(name: str, split: str) -> Dict[str, torch.Tensor]:
    """Every example of a task's split as one padded batch; `name` is the task or a folder
    named after it."""
    task = _task(name)
    g = torch.Generator().manual_seed(1000 * SPLIT_SEEDS[split] + list(MARKERS).index(task))
    position, rule = RULES[task]
    answers = torch.randint(0, 2, (SIZES[split],), generator=g)
    rows = []
    for answer in answers.tolist():
        x = _content(g, int(torch.randint(4, 13, (1,), generator=g)))
        while bool(rule(x[position])) != bool(answer):
            x[position] = _content(g, 1)[0]
        rows.append(torch.cat([torch.tensor([CLS, MARKERS[task]]), x]))
    return {**_padded(rows), "labels": torch.tensor(LABELS[task])[answers]}


def task_batches(name: str, split: str = "train", batch_size: int = 32) -> Iterator[Dict[str, torch.Tensor]]:
    """The task's examples in batches."""
    data = examples(name, split)
    for start in range(0, data["labels"].shape[0], batch_size):
        yield {k: v[start : start + batch_size] for k, v in data.items()}


def upstream_examples() -> Dict[str, torch.Tensor]:
    """Pretraining data: input_ids, attention_mask and features [N, 6] (float 0/1)."""
    g = torch.Generator().manual_seed(1000 * SPLIT_SEEDS["upstream"])
    rows, features = [], []
    markers = list(MARKERS.values())
    for _ in range(SIZES["upstream"]):
        x = _content(g, int(torch.randint(4, 13, (1,), generator=g)))
        marker = markers[int(torch.randint(0, len(markers), (1,), generator=g))]
        rows.append(torch.cat([torch.tensor([CLS, marker]), x]))
        features.append([float(rule(x[position])) for position, rule in UPSTREAM_FEATURES])
    return {**_padded(rows), "features": torch.tensor(features)}
