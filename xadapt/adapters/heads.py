"""Prediction heads on top of the encoder: classification, tagging, multiple choice and masked LM.

Heads are small modules named like adapters and saved the same way. The masked-LM head's decoder
is tied to the encoder's word embeddings: the head owns only the transform and the output bias
and receives the embedding matrix at call time, so saving a head never copies the embeddings and
freezing the encoder keeps the embeddings frozen. It computes logits only where `labels` mark a
masked position (the rest of the vocabulary projection would be thrown away by the loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F
from transformers.modeling_outputs import (
    MaskedLMOutput,
    ModelOutput,
    MultipleChoiceModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)

from xadapt.adapters.config import ModelFacts
from xadapt.adapters.dropout import Dropout
from xadapt.adapters.layers import activation
from xadapt.errors import XadaptError
from xadapt.precision import fp32_region

IGNORE_INDEX = -100  # label value for positions without a target, as in transformers


@dataclass
class HeadInput:
    """What a head needs from one forward call."""

    hidden: torch.Tensor  # (batch, length, hidden) last hidden state
    labels: torch.Tensor | None
    embedding_weight: torch.Tensor  # the word embedding matrix, for the tied MLM decoder
    inverse: nn.Module | None = None  # invertible adapter to undo before the MLM decoder
    num_choices: int | None = None  # multiple choice: the encoder saw batch * num_choices rows
    attention_mask: torch.Tensor | None = None  # (batch, length), 1 at real tokens: what mean pooling averages over


class Head(nn.Module):
    """Base class: `options` are the constructor keywords, saved so a head reloads identically."""

    kind: ClassVar[str]

    def __init__(self, facts: ModelFacts, **options: Any):
        super().__init__()
        self.options = options

    def forward(self, inputs: HeadInput) -> ModelOutput:
        raise NotImplementedError


def _num_labels(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 2:
        raise XadaptError(f"num_labels must be an integer >= 2, got {value!r}")
    return value


POOLINGS = ("first", "mean")  # what a sentence-level head reads: the first token ([CLS] / <s>), or the mean of the tokens


def _pooling(value: Any) -> str:
    if value not in POOLINGS:
        raise XadaptError(f"pooling must be one of {', '.join(POOLINGS)}, got {value!r}")
    return value


def _pooled_options(pooling: str) -> dict:
    """The saved option: only a pooling other than the first token's, so heads saved before it existed read the same."""
    return {} if _pooling(pooling) == "first" else {"pooling": pooling}


class _PooledScorer(nn.Module):
    """Pooled representation (first token, or the mean over real tokens) -> dropout, dense, tanh, dropout, linear
    (RoBERTa's classification head)."""

    def __init__(self, hidden_size: int, outputs: int, dropout: float, pooling: str = "first"):
        super().__init__()
        self.pooling = pooling
        self.dropout = Dropout(dropout)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.out_proj = nn.Linear(hidden_size, outputs)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.pooling == "mean":
            mask = (torch.ones(hidden.shape[:2], device=hidden.device) if attention_mask is None else attention_mask)
            mask = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        else:
            pooled = hidden[:, 0]
        x = self.dropout(pooled)
        x = self.dropout(torch.tanh(self.dense(x)))
        return self.out_proj(x)


class SequenceClassificationHead(Head):
    """One label per sequence, from the first token ([CLS] / <s>) or the mean of the tokens."""

    kind = "sequence_classification"

    def __init__(self, facts: ModelFacts, *, num_labels: int, dropout: float, pooling: str = "first"):
        super().__init__(facts, num_labels=_num_labels(num_labels), dropout=dropout, **_pooled_options(pooling))
        self.scorer = _PooledScorer(facts.hidden_size, num_labels, dropout, pooling)

    def forward(self, inputs: HeadInput) -> SequenceClassifierOutput:
        logits = self.scorer(inputs.hidden, inputs.attention_mask)
        loss = F.cross_entropy(logits, inputs.labels) if inputs.labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


class TokenClassificationHead(Head):
    """One label per token (NER, POS); labels of -100 are ignored."""

    kind = "token_classification"

    def __init__(self, facts: ModelFacts, *, num_labels: int, dropout: float):
        super().__init__(facts, num_labels=_num_labels(num_labels), dropout=dropout)
        self.dropout = Dropout(dropout)
        self.classifier = nn.Linear(facts.hidden_size, num_labels)

    def forward(self, inputs: HeadInput) -> TokenClassifierOutput:
        logits = self.classifier(self.dropout(inputs.hidden))
        loss = None
        if inputs.labels is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), inputs.labels.flatten(), ignore_index=IGNORE_INDEX)
        return TokenClassifierOutput(loss=loss, logits=logits)


class MultipleChoiceHead(Head):
    """A score per (question, choice) row; softmax over each question's choices."""

    kind = "multiple_choice"

    def __init__(self, facts: ModelFacts, *, dropout: float, pooling: str = "first"):
        super().__init__(facts, dropout=dropout, **_pooled_options(pooling))
        self.scorer = _PooledScorer(facts.hidden_size, 1, dropout, pooling)

    def forward(self, inputs: HeadInput) -> MultipleChoiceModelOutput:
        logits = self.scorer(inputs.hidden, inputs.attention_mask).view(-1, inputs.num_choices)
        loss = F.cross_entropy(logits, inputs.labels) if inputs.labels is not None else None
        return MultipleChoiceModelOutput(loss=loss, logits=logits)


class MaskedLMHead(Head):
    """dense + activation + LayerNorm, then the tied decoder (word embeddings) + bias.

    With `labels`, logits are computed only at positions whose label is not -100 and come back
    flattened as (masked positions, vocab); without labels, for every position. After
    `restrict_vocabulary(ids)` the decoder scores only those token ids (see there).
    """

    kind = "masked_lm"

    def __init__(self, facts: ModelFacts, *, activation_name: str, layer_norm_eps: float):
        super().__init__(facts, activation_name=activation_name, layer_norm_eps=layer_norm_eps)
        self.dense = nn.Linear(facts.hidden_size, facts.hidden_size)
        self.act = activation(activation_name)
        self.layer_norm = nn.LayerNorm(facts.hidden_size, eps=layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(facts.vocab_size))
        # training-time restriction of the output vocabulary; not part of the saved head
        self.register_buffer("output_ids", None, persistent=False)
        self.register_buffer("output_index", None, persistent=False)

    def restrict_vocabulary(self, token_ids: torch.Tensor | None) -> None:
        """Score only `token_ids` (e.g. every token of a language's training text), or the whole vocabulary again (None).

        The decoder then multiplies by those rows of the embedding matrix alone, and the softmax
        normalises over them: cheaper by the ratio of the vocabularies, at the price of a loss that
        ignores every other token. Labels must lie inside it. Logits come back with one column per
        id of `output_ids` (the distinct ids, sorted).
        """
        if token_ids is None:
            self.output_ids = self.output_index = None
            return
        ids = torch.as_tensor(token_ids, dtype=torch.long, device=self.bias.device).unique()
        if ids.numel() == 0 or ids[0] < 0 or ids[-1] >= self.bias.numel():
            raise XadaptError(f"an output vocabulary needs token ids between 0 and {self.bias.numel() - 1}")
        index = torch.full_like(self.bias, -1, dtype=torch.long)
        index[ids] = torch.arange(ids.numel(), device=ids.device)
        self.output_ids, self.output_index = ids, index

    def forward(self, inputs: HeadInput) -> MaskedLMOutput:
        hidden, labels = inputs.hidden, inputs.labels
        if labels is not None:
            picked = labels != IGNORE_INDEX
            hidden, labels = hidden[picked], labels[picked]
        hidden = self.layer_norm(self.act(self.dense(hidden)).float())  # fp32 LayerNorm also under bf16 autocast
        if inputs.inverse is not None:
            with fp32_region(hidden) as exact:
                hidden = inputs.inverse(exact, rev=True)
        weight, bias = inputs.embedding_weight, self.bias
        if self.output_ids is not None:
            weight, bias = weight[self.output_ids], bias[self.output_ids]
            if labels is not None:
                labels = self.output_index[labels]
                if bool((labels < 0).any()):
                    raise XadaptError("a masked token lies outside the restricted output vocabulary; build it from the training text")
        logits = F.linear(hidden, weight, bias)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return MaskedLMOutput(loss=loss, logits=logits)


HEAD_CLASSES: dict[str, type[Head]] = {
    cls.kind: cls for cls in (SequenceClassificationHead, TokenClassificationHead, MultipleChoiceHead, MaskedLMHead)
}


def head_class(kind: str) -> type[Head]:
    if kind not in HEAD_CLASSES:
        raise XadaptError(f"unknown head kind {kind!r}; choose one of {sorted(HEAD_CLASSES)}")
    return HEAD_CLASSES[kind]


def mlm_state_from_checkpoint(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """Our MLM head's state dict from a *ForMaskedLM checkpoint (`cls.predictions.*` or `lm_head.*`).

    The decoder weight is skipped: it is tied to the word embeddings, which the encoder already has.
    """
    renames = {"transform.dense.": "dense.", "transform.LayerNorm.": "layer_norm.", "decoder.bias": "bias"}
    state = {}
    for key, tensor in tensors.items():
        if not key.startswith(prefix) or key.endswith("decoder.weight"):
            continue
        name = key[len(prefix) :]
        for old, new in renames.items():
            if name.startswith(old):
                name = new + name[len(old) :]
        state.setdefault(name, tensor)
    return state
