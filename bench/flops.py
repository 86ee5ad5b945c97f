"""Model FLOPs of a repetition, counted analytically from the model's shape and what the model was given.

Conventions (the usual model-FLOPs accounting; only matrix products count, 2 FLOPs per multiply-add):
- forward: 2 x (linear weights a token passes through) per token, plus attention's two products
  (scores and weighted values), 2 x length^2 x hidden each, per layer and sequence;
- backward: gradients with respect to activations cost what the forward did (the loss reaches
  every layer in all our cases: adapters sit in every layer), and gradients with respect to
  weights cost 2 x weights per token, only for weights that train;
- the tagging head runs at every token; the masked-LM head (transform, inverse invertible block,
  decoder over the vocabulary) only at masked positions.

"useful" FLOPs count real tokens only and the MLM decoder at masked positions only: the work the
task needs, the same for both tools (a side that restricts the decoder to part of the vocabulary
is credited with that part only). "executed" FLOPs count padded tokens, and the decoder at
every position for a tool that computes logits everywhere: the work a side actually did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from xadapt.adapters import make_config


@dataclass(frozen=True)
class Shape:
    layers: int
    hidden: int
    intermediate: int
    vocab: int

    @classmethod
    def of(cls, model_dir: Path) -> Shape:
        config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
        return cls(config["num_hidden_layers"], config["hidden_size"], config["intermediate_size"], config["vocab_size"])

    def encoder(self) -> int:
        """Linear weights per token: query, key, value, output projection and the two feed-forward matrices, per layer."""
        return self.layers * (4 * self.hidden**2 + 2 * self.hidden * self.intermediate)


def invertible_weights(shape: Shape) -> int:
    """Weights of the NICE block of `seq_bn_inv` (two half-width bottleneck MLPs), run once per token it maps."""
    config = make_config("seq_bn_inv")
    half = shape.hidden // 2
    return 2 * 2 * half * int(half // config.inv_reduction_factor)


def adapter_weights(method: str, shape: Shape) -> int:
    """Linear weights per token of an adapter method with its default options, in the encoder layers."""
    config = make_config(method)
    if method == "lora":
        return shape.layers * len(config.matrices) * 2 * shape.hidden * config.r
    blocks = shape.layers * len(config.sites()) * 2 * shape.hidden * config.width(shape.hidden)
    return blocks + (invertible_weights(shape) if method == "seq_bn_inv" else 0)


@dataclass(frozen=True)
class Workload:
    """What a case's model runs: its adapters (none: full fine-tuning), head, and whether it trains."""

    adapters: tuple[str, ...]  # adapter methods in the composition; () with trains_all
    head: str  # "tagging" or "mlm"
    num_labels: int = 0
    trains: bool = True
    trains_all: bool = False  # full fine-tuning: every encoder weight gets a gradient

    def count(self, shape: Shape, counts: dict, logits_everywhere: bool = False, vocabulary: int | None = None) -> dict[str, float]:
        """{"useful": ..., "executed": ...} FLOPs for one repetition's `counts` (see bench.protocol.Tally).

        `vocabulary`: how many tokens the MLM decoder scores when a side restricts it (default: all).
        """
        vocabulary = vocabulary or shape.vocab
        useful = self._flops(shape, counts["tokens"], counts["tokens_squared"], counts["labelled"], vocabulary)
        decoder_positions = counts["padded_tokens"] if logits_everywhere else counts["labelled"]
        executed = self._flops(shape, counts["padded_tokens"], counts["padded_squared"], decoder_positions, vocabulary)
        return {"useful": useful, "executed": executed}

    def _flops(self, shape: Shape, tokens: int, squared: int, predicted: int, vocabulary: int) -> float:
        h = shape.hidden
        adapters = sum(adapter_weights(method, shape) for method in self.adapters)
        forward = 2 * (shape.encoder() + adapters) * tokens + 4 * shape.layers * h * squared
        if self.head == "tagging":
            head_forward, head_trained = 2 * h * self.num_labels * tokens, 2 * h * self.num_labels * tokens
        else:  # transform + inverse invertible block + tied decoder (frozen: no weight gradient)
            transform = h * h + (invertible_weights(shape) if "seq_bn_inv" in self.adapters else 0)
            head_forward, head_trained = 2 * (transform + h * vocabulary) * predicted, 2 * transform * predicted
        forward += head_forward
        if not self.trains:
            return float(forward)
        weights = shape.encoder() if self.trains_all else adapters
        return float(2 * forward + 2 * weights * tokens + head_trained)
