"""Statistics of fine-tuned Hugging Face sequence classifiers for `mats merge`.

    python estimate.py task-a task-b task-c

For each model folder NAME, writes NAME.stats.safetensors: input and output-gradient Grams of
every linear layer (RegMean, MaTS K-FAC), input means (bias folding), the diagonal Fisher of
every parameter and Fisher blocks of biases and norms (Fisher merging, MaTS), from up to 1000
examples of the model's own training data. tasks.py is yours: task_batches(NAME, "train")
yields dicts of input_ids, attention_mask and labels tensors (tokenizer and collator output).
"""

import sys

from transformers import AutoModelForSequenceClassification

from mats_statistics import estimate_statistics, write_statistics_file
from tasks import task_batches

for name in sys.argv[1:]:
    model = AutoModelForSequenceClassification.from_pretrained(name)
    statistics = estimate_statistics(
        model,
        task_batches(name, "train"),
        forward=lambda model, batch: model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits,
        labels=lambda batch: batch["labels"],
        token_mask=lambda batch: batch["attention_mask"],  # Grams over real tokens, not padding
        fisher="empirical",
        max_examples=1000,
    )
    write_statistics_file(f"{name}.stats.safetensors", statistics)
    print(f"{name}.stats.safetensors: {len(statistics.tensors)} statistics from {statistics.n_examples} examples")
