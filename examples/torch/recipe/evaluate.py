"""Accuracy of each model folder on each task's test split, loaded with from_pretrained.

    python evaluate.py --tasks task-a task-b task-c --models task-a merged-regmean ...

A prediction is the task's most likely label among task_labels(task), the label ids the task
uses (range(num_labels) when each task had the whole head). Prints a table and writes
accuracy.json ({model: {task: accuracy}}).
"""

import argparse
import json

import torch
from transformers import AutoModelForSequenceClassification

from tasks import task_batches, task_labels

parser = argparse.ArgumentParser()
parser.add_argument("--tasks", nargs="+", required=True)
parser.add_argument("--models", nargs="+", required=True)
args = parser.parse_args()

accuracy = {}
for folder in args.models:
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    accuracy[folder] = {}
    for task in args.tasks:
        choices = torch.tensor(task_labels(task))
        right = total = 0
        with torch.no_grad():
            for batch in task_batches(task, "test"):
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                predicted = choices[logits[:, choices].argmax(-1)]
                right += int((predicted == batch["labels"]).sum())
                total += len(batch["labels"])
        accuracy[folder][task] = right / total

print(f"{'model':<20}" + "".join(f"{task:>10}" for task in args.tasks) + f"{'mean':>10}")
for folder, row in accuracy.items():
    print(f"{folder:<20}" + "".join(f"{row[t]:>10.3f}" for t in args.tasks) + f"{sum(row.values()) / len(row):>10.3f}")
with open("accuracy.json", "w") as f:
    json.dump(accuracy, f, indent=2)
