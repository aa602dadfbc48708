"""A stand-in for the `transformers` package in the recipe's test, where it is not installed.

Only what the recipe calls: AutoModelForSequenceClassification.from_pretrained(folder) for a
BERT sequence classifier folder (config.json + model.safetensors), loaded into tiny_bert's
module, which has transformers' tensor names and arithmetic. With the real package installed
and this folder left off PYTHONPATH, the recipe runs unchanged on real models.
"""

from tiny_bert import TinyBertForSequenceClassification


class AutoModelForSequenceClassification:
    @staticmethod
    def from_pretrained(folder: str) -> TinyBertForSequenceClassification:
        return TinyBertForSequenceClassification.from_pretrained(folder)
