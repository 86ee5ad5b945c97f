"""`seq_bn_inv`: the MAD-X language adapter — Pfeiffer bottlenecks plus an invertible (NICE) adapter.

Pfeiffer et al. 2020 (MAD-X) place an invertible adapter on the embedding output so a language
adapter can also re-map the token embeddings; because the MLM decoder is tied to the input
embeddings, the inverse of that map runs right before the decoder, bringing hidden states back
into the embedding space. NICE (Dinh et al. 2015) coupling keeps the map exactly invertible:
the hidden vector is split in halves and each half is shifted by an MLP of the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from xadapt.adapters.bottleneck import BottleneckAdapter, SeqBnConfig
from xadapt.adapters.config import ModelFacts, option
from xadapt.adapters.layers import MLP
from xadapt.errors import XadaptError


@dataclass
class SeqBnInvConfig(SeqBnConfig):
    """MAD-X language adapter: `seq_bn` with reduction factor 2 plus a NICE block on the embeddings."""

    method: ClassVar[str] = "seq_bn_inv"
    reduction_factor: float = 2
    inv_reduction_factor: float = option(2, "reduction factor of the MLPs inside the invertible (NICE) block")

    def validate(self) -> None:
        super().validate()
        if not self.inv_reduction_factor or self.inv_reduction_factor <= 0:
            raise XadaptError(f"inv_reduction_factor must be > 0, got {self.inv_reduction_factor}")


class NICEBlock(nn.Module):
    """Additive coupling: y1 = x1 + f(x2), y2 = x2 + g(y1); the inverse subtracts in reverse order."""

    def __init__(self, hidden_size: int, non_linearity: str, reduction_factor: float):
        super().__init__()
        self.split = hidden_size // 2
        rest = hidden_size - self.split
        # Widths follow the `adapters` library (hidden = input width // reduction) so its weights load.
        self.f = MLP(rest, int(rest // reduction_factor), self.split, non_linearity)
        self.g = MLP(self.split, int(self.split // reduction_factor), rest, non_linearity)

    def forward(self, x: torch.Tensor, rev: bool = False) -> torch.Tensor:
        x1, x2 = x[..., : self.split], x[..., self.split :]
        if not rev:
            y1 = x1 + self.f(x2)
            y2 = x2 + self.g(y1)
        else:
            y2 = x2 - self.g(x1)
            y1 = x1 - self.f(y2)
        return torch.cat((y1, y2), -1)


class InvertibleBottleneckAdapter(BottleneckAdapter):
    """Bottleneck blocks plus the `invertible` part on the embeddings."""

    def __init__(self, config: SeqBnInvConfig, facts: ModelFacts):
        super().__init__(config, facts)
        self.invertible = NICEBlock(facts.hidden_size, config.non_linearity, config.inv_reduction_factor)
