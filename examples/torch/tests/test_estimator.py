"""The estimator against brute force (one example at a time, plain autograd), and its contract:
batching, padding, the true Fisher, errors, the file."""

from __future__ import annotations

import os
import tempfile
import unittest
import warnings
from typing import Dict

import numpy as np
import torch
from torch import nn

import mats_statistics as ms
from mats_safetensors import read_safetensors
from models import Mlp, OddLanguageModel, token_batches, unpad
from reference import reference_statistics
from tiny_bert import TinyBertForSequenceClassification


def bert_forward(model, batch):
    return model(batch["input_ids"], batch["attention_mask"]).logits


def odd_forward(model, batch):
    return model(batch["input_ids"], batch["attention_mask"])


def labels(batch):
    return batch["labels"]


def attention_mask(batch):
    return batch["attention_mask"]


def mlp_batches(count: int, batch_size: int, features: int, classes: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(count, features, generator=g, dtype=torch.float64)
    y = torch.randint(0, classes, (count,), generator=g)
    return [{"x": x[i : i + batch_size], "labels": y[i : i + batch_size]} for i in range(0, count, batch_size)]


def mlp_forward(model, batch):
    return model(batch["x"])


def estimate(*args, **kwargs) -> Dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ms.estimate_statistics(*args, **kwargs).tensors


class Close(unittest.TestCase):
    def assert_statistics_close(self, actual: Dict[str, np.ndarray], expected: Dict[str, np.ndarray], rtol: float) -> None:
        """Every key of `expected`, to rtol of its largest entry; entries that are zero by
        structure (a key projection's bias: softmax ignores it) are rounding noise, so the
        floor is rtol times the largest entry of any statistic."""
        floor = rtol * max(np.abs(v).max() for v in expected.values())
        for key, value in expected.items():
            self.assertIn(key, actual)
            self.assertEqual(actual[key].shape, value.shape, key)
            error = np.abs(actual[key] - value).max()
            self.assertLessEqual(error, rtol * np.abs(value).max() + floor, f"{key}: max error {error:.3e}, max entry {np.abs(value).max():.3e}")


class AgainstOneExampleAtATime(Close):
    def test_bert_padded_batches_equal_each_example_unpadded(self):
        torch.manual_seed(0)
        model = TinyBertForSequenceClassification({"initializer_range": 0.2}).double()
        batches = token_batches(13, 5, 64, 7, seed=1, classes=2)
        stats = estimate(model, batches, bert_forward, labels, token_mask=attention_mask)
        expected = reference_statistics(model, unpad(batches), bert_forward, labels)
        self.assertEqual(sorted(stats), sorted(expected))
        self.assert_statistics_close(stats, expected, 1e-10)
        # every kind the merge reads is there, under the state_dict's names
        names = set(model.state_dict())
        for key in stats:
            self.assertIn(key.rsplit("::", 1)[0], names)
        for key in ("bert.encoder.layer.0.attention.self.query.weight::grad_gram", "classifier.weight::input_gram",
                    "classifier.weight::input_mean", "bert.pooler.dense.bias::fisher_block",
                    "bert.embeddings.position_embeddings.weight::fisher", "bert.embeddings.LayerNorm.weight::fisher_block"):
            self.assertIn(key, stats)

    def test_one_backward_pass_per_example_when_batched_gradients_are_off(self):
        torch.manual_seed(1)
        model = TinyBertForSequenceClassification({"initializer_range": 0.2}).double()
        batches = token_batches(7, 4, 64, 6, seed=2, classes=2)
        batched = estimate(model, batches, bert_forward, labels, token_mask=attention_mask)
        ms._BATCHED_GRADIENTS = False
        try:
            looped = estimate(model, batches, bert_forward, labels, token_mask=attention_mask)
        finally:
            ms._BATCHED_GRADIENTS = True
        self.assert_statistics_close(looped, batched, 1e-12)

    def test_tied_weights_convolutions_reuse_in_place_ops_and_multihead_attention(self):
        torch.manual_seed(2)
        model = OddLanguageModel().double()
        batches = token_batches(11, 4, 11, 6, seed=3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            stats = ms.estimate_statistics(model, batches, odd_forward, labels, token_mask=attention_mask).tensors
        expected = reference_statistics(model, batches, odd_forward, labels, attention_mask)
        # The head shares the embedding's weight: one exact diagonal Fisher under the first
        # name, no Grams (they would describe only one of its two uses). MultiheadAttention
        # never calls out_proj: no Grams for it either, and a warning says so.
        self.assertEqual(sorted(set(expected) - set(stats)), ["head.weight::grad_gram", "head.weight::input_gram"])
        self.assertEqual(set(stats) - set(expected), set())
        self.assertNotIn("attention.out_proj.weight::input_gram", stats)
        self.assertTrue(any("attention.out_proj.weight: no Grams" in str(w.message) for w in caught))
        del expected["head.weight::grad_gram"], expected["head.weight::input_gram"]
        for key in ("embed.weight::fisher", "conv.weight::fisher", "scale::fisher_block", "attention.in_proj_weight::fisher",
                    "shared.weight::grad_gram", "norm.bias::fisher_block"):
            self.assertIn(key, stats)
        self.assert_statistics_close(stats, expected, 1e-10)

    def test_mlp_with_one_row_per_example(self):
        torch.manual_seed(3)
        model = Mlp([6, 5, 4, 3]).double()
        batches = mlp_batches(23, 8, 6, 3, seed=4)
        stats = estimate(model, batches, mlp_forward, labels)
        expected = reference_statistics(model, batches, mlp_forward, labels)
        self.assertEqual(sorted(stats), sorted(expected))
        self.assert_statistics_close(stats, expected, 1e-10)
        # one row per example: G is the bias's Fisher block, and T = N
        np.testing.assert_allclose(stats["layers.2.weight::grad_gram"], stats["layers.2.bias::fisher_block"], rtol=1e-12)

    def test_float32_model_agrees_to_float32_precision(self):
        torch.manual_seed(4)
        model = TinyBertForSequenceClassification({"initializer_range": 0.2})
        batches = token_batches(9, 4, 64, 6, seed=5, classes=2)
        stats = estimate(model, batches, bert_forward, labels, token_mask=attention_mask)
        expected = reference_statistics(model.double(), unpad(batches), bert_forward, labels)
        self.assert_statistics_close(stats, expected, 1e-4)


class Contract(Close):
    def setUp(self):
        torch.manual_seed(5)
        self.model = TinyBertForSequenceClassification({"initializer_range": 0.2}).double()
        self.batches = token_batches(12, 12, 64, 6, seed=6, classes=2)

    def test_batch_size_does_not_matter(self):
        whole = estimate(self.model, self.batches, bert_forward, labels, token_mask=attention_mask)
        small = estimate(self.model, unpad(self.batches), bert_forward, labels, token_mask=attention_mask)
        self.assert_statistics_close(small, whole, 1e-10)

    def test_max_examples_cuts_the_last_batch(self):
        first_seven = [{k: v[:7] for k, v in self.batches[0].items()}]
        cut = ms.estimate_statistics(self.model, self.batches, bert_forward, labels, token_mask=attention_mask, max_examples=7)
        self.assertEqual(cut.n_examples, 7)
        self.assert_statistics_close(cut.tensors, estimate(self.model, first_seven, bert_forward, labels, token_mask=attention_mask), 1e-10)

    def test_the_model_is_left_as_it_was(self):
        self.model.train()
        ms.estimate_statistics(self.model, self.batches, bert_forward, labels, token_mask=attention_mask)
        self.assertTrue(self.model.training)
        self.assertTrue(all(len(m._forward_hooks) == 0 for m in self.model.modules()))
        self.assertTrue(all(p.grad is None for p in self.model.parameters()))

    def test_frozen_parameters_get_no_statistics(self):
        for p in self.model.bert.embeddings.parameters():
            p.requires_grad_(False)
        stats = estimate(self.model, self.batches, bert_forward, labels, token_mask=attention_mask)
        self.assertFalse(any(k.startswith("bert.embeddings.") for k in stats))
        self.assertIn("classifier.weight::fisher", stats)

    def test_embedding_padding_row_has_no_fisher(self):
        stats = estimate(self.model, self.batches, bert_forward, labels, token_mask=attention_mask)
        fisher = stats["bert.embeddings.word_embeddings.weight::fisher"]
        self.assertEqual(np.abs(fisher[0]).max(), 0.0)
        self.assertGreater(np.abs(fisher[1:]).max(), 0.0)

    def test_without_per_example_gradients_only_the_parameters_that_need_them_are_left_out(self):
        full = estimate(self.model, self.batches, bert_forward, labels, token_mask=attention_mask)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hooked = ms.estimate_statistics(self.model, self.batches, bert_forward, labels, token_mask=attention_mask, per_example_gradients=False).tensors
        # BERT's position embedding sees ids [1, L] broadcast over the batch: no hook separates it.
        self.assertEqual(sorted(set(full) - set(hooked)), ["bert.embeddings.position_embeddings.weight::fisher"])
        self.assertIn("no statistics for bert.embeddings.position_embeddings.weight: they need per-example backward passes", " ".join(str(w.message) for w in caught))
        self.assert_statistics_close(hooked, {k: v for k, v in full.items() if k in hooked}, 1e-12)

    def test_size_limits_skip_large_grams_and_blocks_with_a_warning(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            stats = ms.estimate_statistics(self.model, self.batches, bert_forward, labels, token_mask=attention_mask, max_gram_size=40, max_block_size=40).tensors
        self.assertNotIn("bert.encoder.layer.0.intermediate.dense.weight::grad_gram", stats)  # [64, 64]
        self.assertIn("bert.encoder.layer.0.intermediate.dense.weight::input_gram", stats)  # [32, 32]
        self.assertNotIn("bert.encoder.layer.0.intermediate.dense.bias::fisher_block", stats)
        self.assertIn("bert.encoder.layer.0.intermediate.dense.bias::fisher", stats)
        messages = [str(w.message) for w in caught]
        self.assertIn("bert.encoder.layer.0.intermediate.dense.weight::grad_gram skipped: dimension 64 is above max_gram_size 40", messages)


class TrueFisher(Close):
    def setUp(self):
        torch.manual_seed(6)
        self.model = Mlp([4, 5, 3]).double()
        self.batches = mlp_batches(6, 6, 4, 3, seed=7)

    def true_fisher(self, seed: int, repeats: int = 1):
        return ms.estimate_statistics(self.model, self.batches * repeats, mlp_forward, fisher="true", seed=seed)

    def test_is_the_expectation_over_the_models_own_labels(self):
        """The exact true Fisher sums over every class c with weight p(c | x); the estimator samples
        one label per example. Over R passes the sampled mean of a summary of each statistic (the
        sum of a diagonal Fisher, the trace of a matrix) must lie within 5 standard errors
        (computed exactly from the per-class values) of the exact mean."""
        x = self.batches[0]["x"]
        p = torch.softmax(self.model(x), dim=-1).detach().numpy()  # [6 examples, 3 classes]
        repeats = 400
        sampled = self.true_fisher(seed=11, repeats=repeats)
        self.assertEqual(sampled.n_examples, 6 * repeats)
        self.assertEqual(sampled.metadata(), {"n_examples": str(6 * repeats), "fisher": "true"})
        def summary(value: np.ndarray) -> float:
            return float(np.trace(value) if value.ndim == 2 else value.sum())

        for key in ("layers.0.weight::fisher", "layers.1.bias::fisher_block", "layers.0.weight::grad_gram"):
            # per example n and class c: the summary s_nc of the statistic with label c; its
            # mean over draws has mean sum_c p_nc s_nc and a known variance.
            values = np.array([[summary(reference_statistics(self.model, [{"x": x[n : n + 1], "labels": torch.tensor([c])}], mlp_forward, labels)[key])
                                for c in range(3)] for n in range(6)])
            mean = (p * values).sum(axis=1)
            variance = (p * (values - mean[:, None]) ** 2).sum(axis=1)
            exact = mean.mean()
            standard_error = np.sqrt(variance.sum() / repeats) / 6
            self.assertGreater(standard_error, 0, key)
            self.assertLess(abs(summary(sampled.tensors[key]) - exact), 5 * standard_error, key)
        # the inputs do not depend on the labels: the input Gram is the empirical one exactly
        empirical = estimate(self.model, self.batches, mlp_forward, labels)
        np.testing.assert_allclose(sampled.tensors["layers.0.weight::input_gram"], empirical["layers.0.weight::input_gram"], rtol=1e-12)

    def test_is_reproducible_from_its_seed(self):
        a, b, c = self.true_fisher(3), self.true_fisher(3), self.true_fisher(4)
        for key in a.tensors:
            np.testing.assert_array_equal(a.tensors[key], b.tensors[key])
        self.assertTrue(any(not np.array_equal(a.tensors[k], c.tensors[k]) for k in a.tensors if k.endswith("::fisher")))

    def test_token_level_models_sample_where_there_is_a_target(self):
        torch.manual_seed(7)
        model = OddLanguageModel().double()
        batches = token_batches(6, 3, 11, 5, seed=8)
        # With labels: the sampled targets sit where the gold ones do, so the per-example
        # log-likelihood sums the same number of positions (checked through a spy).
        seen = []

        def spy(outputs, targets):
            seen.append(targets.clone())
            return ms.categorical_log_likelihood(outputs, targets)

        estimate(model, batches, odd_forward, labels, fisher="true", token_mask=attention_mask, log_likelihood=spy)
        for batch, targets in zip(batches, seen):
            torch.testing.assert_close(targets == ms.IGNORE_INDEX, batch["labels"] == ms.IGNORE_INDEX)
        # Without labels: every unpadded position is sampled.
        seen.clear()
        estimate(model, batches, odd_forward, fisher="true", token_mask=attention_mask, log_likelihood=spy)
        for batch, targets in zip(batches, seen):
            torch.testing.assert_close(targets != ms.IGNORE_INDEX, batch["attention_mask"] != 0)


class Errors(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(8)
        self.model = TinyBertForSequenceClassification({})
        self.batches = token_batches(4, 2, 64, 5, seed=9, classes=2)

    def test_empirical_fisher_needs_labels(self):
        with self.assertRaisesRegex(ValueError, "the empirical Fisher needs labels"):
            ms.estimate_statistics(self.model, self.batches, bert_forward)

    def test_a_token_mask_of_the_wrong_shape_names_the_layer(self):
        with self.assertRaisesRegex(ValueError, r"bert\.encoder\.layer\.0\.attention\.self\.query: input of shape \[2, \d, 32\] has token axes \[\d\], but token_mask is \[2, 1\]"):
            ms.estimate_statistics(self.model, self.batches, bert_forward, labels, token_mask=lambda b: b["attention_mask"][:, :1])

    def test_log_likelihood_must_be_per_example(self):
        with self.assertRaisesRegex(ValueError, r"one value per example \[B\], got shape \[\]"):
            ms.estimate_statistics(self.model, self.batches, bert_forward, labels, log_likelihood=lambda o, t: ms.categorical_log_likelihood(o, t).sum())

    def test_no_batches(self):
        with self.assertRaisesRegex(ValueError, "no examples"):
            ms.estimate_statistics(self.model, [], bert_forward, labels)

    def test_non_finite_log_likelihood(self):
        with self.assertRaisesRegex(ValueError, "not finite"):
            ms.estimate_statistics(self.model, self.batches, lambda m, b: bert_forward(m, b) * float("inf"), labels)

    def test_labels_of_the_wrong_shape(self):
        with self.assertRaisesRegex(ValueError, r"logits \[2, 2\] need labels of shape \[2\], got \[2, 1\]"):
            ms.estimate_statistics(self.model, self.batches, bert_forward, lambda b: b["labels"][:, None])

    def test_a_linear_layer_shared_across_the_batch_is_refused(self):
        class Broadcast(nn.Module):
            def __init__(self):
                super().__init__()
                self.bias_net = nn.Linear(3, 2)
                self.table = nn.Parameter(torch.randn(1, 3))

            def forward(self, x):
                return x + self.bias_net(self.table)  # [1, 2] broadcast over the batch

        batches = [{"x": torch.randn(4, 2), "labels": torch.tensor([0, 1, 0, 1])}]
        with self.assertRaisesRegex(ValueError, r"bias_net: nn\.Linear called on inputs \[1, 3\], whose first dimension is not the batch's 4 examples"):
            ms.estimate_statistics(Broadcast(), batches, lambda m, b: m(b["x"]), labels)

    def test_unknown_fisher_kind(self):
        with self.assertRaisesRegex(ValueError, "fisher must be 'empirical' or 'true'"):
            ms.estimate_statistics(self.model, self.batches, bert_forward, labels, fisher="exact")


class StatisticsFile(unittest.TestCase):
    def test_written_in_float32_or_float64_with_its_metadata(self):
        torch.manual_seed(9)
        model = Mlp([3, 4, 2]).double()
        stats = ms.estimate_statistics(model, mlp_batches(5, 2, 3, 2, seed=10), mlp_forward, labels)
        with tempfile.TemporaryDirectory() as folder:
            for dtype, numpy_dtype in (("F32", np.float32), ("F64", np.float64)):
                path = os.path.join(folder, f"{dtype}.stats.safetensors")
                ms.write_statistics_file(path, stats, dtype=dtype)
                tensors, metadata = read_safetensors(path)
                self.assertEqual(metadata, {"n_examples": "5", "fisher": "empirical"})
                self.assertEqual(sorted(tensors), sorted(stats.tensors))
                for key, value in tensors.items():
                    self.assertEqual(value.dtype, numpy_dtype)
                    np.testing.assert_array_equal(value, stats.tensors[key].astype(numpy_dtype))
            with self.assertRaisesRegex(ValueError, "dtype must be F32 or F64"):
                ms.write_statistics_file(os.path.join(folder, "x.safetensors"), stats, dtype="F16")
            self.assertEqual(sorted(os.listdir(folder)), ["F32.stats.safetensors", "F64.stats.safetensors"])


if __name__ == "__main__":
    unittest.main()
