"""A small BERT sequence classifier in plain PyTorch, for tests where `transformers` is missing.

Same module tree, tensor names, config.json keys and arithmetic as transformers'
BertForSequenceClassification (post-LayerNorm encoder, erf GELU, tanh pooler on the first
token, additive attention mask), so a checkpoint folder it writes has the layout of one
written by save_pretrained: config.json and model.safetensors with metadata format=pt.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, Optional

import numpy as np
import torch
from torch import nn

from mats_safetensors import read_safetensors, write_safetensors

CONFIG_DEFAULTS: Dict[str, Any] = {
    "architectures": ["BertForSequenceClassification"],
    "model_type": "bert",
    "vocab_size": 64,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "hidden_act": "gelu",
    "max_position_embeddings": 32,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "num_labels": 2,
    "initializer_range": 0.02,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
}


class Embeddings(nn.Module):
    def __init__(self, c: Dict[str, Any]) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        # As in transformers: a non-persistent buffer, sliced to [1, L] and broadcast over the batch.
        self.register_buffer("position_ids", torch.arange(c["max_position_embeddings"]).unsqueeze(0), persistent=False)

    def forward(self, input_ids: torch.Tensor, token_type_ids: Optional[torch.Tensor]) -> torch.Tensor:
        length = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(self.position_ids[:, :length])
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):
    def __init__(self, c: Dict[str, Any]) -> None:
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        b, length, h = x.shape
        d = h // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:  # [B, L, H] -> [B, heads, L, d]
            return t.view(b, length, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive_mask
        context = self.dropout(torch.softmax(scores, dim=-1)) @ v
        return context.transpose(1, 2).reshape(b, length, h)


class DenseNorm(nn.Module):
    """transformers' BertSelfOutput / BertOutput: LayerNorm(dropout(dense(x)) + residual)."""

    def __init__(self, inputs: int, c: Dict[str, Any]) -> None:
        super().__init__()
        self.dense = nn.Linear(inputs, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, c: Dict[str, Any]) -> None:
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseNorm(c["hidden_size"], c)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, additive_mask), x)


class Intermediate(nn.Module):
    def __init__(self, c: Dict[str, Any]) -> None:
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c: Dict[str, Any]) -> None:
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseNorm(c["intermediate_size"], c)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, additive_mask)
        return self.output(self.intermediate(x), x)


class Encoder(nn.Module):
    def __init__(self, c: Dict[str, Any]) -> None:
        super().__init__()
        self.layer = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layer:
            x = layer(x, additive_mask)
        return x


class Pooler(nn.Module):
    def __init__(self, c: Dict[str, Any]) -> None:
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(x[:, 0]))


class Bert(nn.Module):
    def __init__(self, c: Dict[str, Any]) -> None:
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor], token_type_ids: Optional[torch.Tensor]) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        x = self.embeddings(input_ids, token_type_ids)
        # [B, 1, 1, L]: 0 where a key may be attended to, the dtype's minimum where it is padding.
        additive = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        return self.pooler(self.encoder(x, additive))


class Output:
    """What transformers' models return, as far as these tests use it."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits


class TinyBertForSequenceClassification(nn.Module):
    def __init__(self, config: Dict[str, Any]) -> None:
        super().__init__()
        self.config = {**CONFIG_DEFAULTS, **config}
        self.bert = Bert(self.config)
        self.dropout = nn.Dropout(self.config["hidden_dropout_prob"])
        self.classifier = nn.Linear(self.config["hidden_size"], self.config["num_labels"])
        self._initialize(self.config["initializer_range"])

    def _initialize(self, std: float) -> None:
        # transformers' BertPreTrainedModel._init_weights
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=std)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=std)
                if module.padding_idx is not None:
                    module.weight.data[module.padding_idx].zero_()
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None, token_type_ids: Optional[torch.Tensor] = None) -> Output:
        return Output(self.classifier(self.dropout(self.bert(input_ids, attention_mask, token_type_ids))))

    def save_pretrained(self, folder: str) -> None:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(self.config, f, indent=2, sort_keys=True)
        tensors = {name: t.detach().cpu().numpy() for name, t in self.state_dict().items()}
        write_safetensors(os.path.join(folder, "model.safetensors"), tensors, {"format": "pt"})

    @classmethod
    def from_pretrained(cls, folder: str) -> "TinyBertForSequenceClassification":
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
        if config.get("model_type") != "bert" or "BertForSequenceClassification" not in config.get("architectures", []):
            raise ValueError(f"{folder}/config.json: not a BertForSequenceClassification config")
        model = cls(config)
        tensors, _ = read_safetensors(os.path.join(folder, "model.safetensors"))
        state = {name: torch.from_numpy(np.asarray(array, dtype=np.float32)) for name, array in tensors.items()}
        model.load_state_dict(state, strict=True)  # a missing or unexpected tensor is an error
        return model.eval()
