"""The PyTorch half of examples/test/torch-statistics.test.ts: the demo's MLP and a batch of data
come from the TypeScript side in one safetensors file (layers.i.weight, layers.i.bias, and
data.inputs [N, features], data.labels [N]); this estimates the empirical statistics in PyTorch
and writes them as a float64 statistics file for the test to compare with the TypeScript ones.

    python agreement.py MODEL_AND_DATA OUT [--dtype float32|float64] [--batch-size B] [--rewrite COPY]

--rewrite writes the input file again with mats_safetensors (same tensors and metadata), so
the test can check that it is byte-identical to what @mats/merge wrote.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from mats_safetensors import read_safetensors, write_safetensors
from mats_statistics import estimate_statistics, write_statistics_file
from models import Mlp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_and_data")
    parser.add_argument("out")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rewrite")
    args = parser.parse_args()

    tensors, metadata = read_safetensors(args.model_and_data)
    if args.rewrite:
        write_safetensors(args.rewrite, tensors, metadata)
    dtype = getattr(torch, args.dtype)
    layers = sum(1 for name in tensors if name.startswith("layers.") and name.endswith(".weight"))
    sizes = [tensors["layers.0.weight"].shape[1]] + [tensors[f"layers.{i}.weight"].shape[0] for i in range(layers)]
    model = Mlp(sizes).to(dtype)
    model.load_state_dict({name: torch.from_numpy(value) for name, value in tensors.items() if name.startswith("layers.")}, strict=True)

    inputs = torch.from_numpy(np.asarray(tensors["data.inputs"])).to(dtype)
    labels = torch.from_numpy(np.asarray(tensors["data.labels"])).long()
    batches = [(inputs[i : i + args.batch_size], labels[i : i + args.batch_size]) for i in range(0, len(labels), args.batch_size)]
    statistics = estimate_statistics(model, batches, forward=lambda m, b: m(b[0]), labels=lambda b: b[1], fisher="empirical")
    write_statistics_file(args.out, statistics, dtype="F64")


if __name__ == "__main__":
    main()
