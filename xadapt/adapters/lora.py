"""`lora`: low-rank updates on the attention projections (Hu et al. 2022), for the unified-view comparison.

A LoRA delta adds `scaling * x A^T B^T` to a frozen projection's output, with `scaling = alpha / r`.
`B` starts at zero, so a fresh LoRA adapter leaves the model unchanged. Several LoRA adapters in
one composition add their deltas (the natural reading of stacking weight updates; note that the
`adapters` library instead feeds one LoRA's output into the next inside a `Stack`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from xadapt.adapters.base import AdapterModule
from xadapt.adapters.config import AdapterConfig, ModelFacts, check_layers, option
from xadapt.adapters.dropout import Dropout
from xadapt.errors import XadaptError

MATRICES = ("q", "k", "v")


@dataclass
class LoRAConfig(AdapterConfig):
    """LoRA on the self-attention query/key/value projections."""

    method: ClassVar[str] = "lora"
    r: int = option(8, "rank of the update")
    alpha: float = option(8, "the update is scaled by alpha / r")
    dropout: float = option(0.0, "dropout on the LoRA input")
    matrices: tuple[str, ...] = option(("q", "v"), "which attention projections get an update: any of q, k, v")
    leave_out: tuple[int, ...] = option((), "layer indices (0-based) that get no update")

    def validate(self) -> None:
        if self.r < 1:
            raise XadaptError(f"LoRA rank r must be >= 1, got {self.r}")
        if not self.matrices or not set(self.matrices) <= set(MATRICES):
            raise XadaptError(f"matrices must be a non-empty subset of {list(MATRICES)}, got {list(self.matrices)}")
        if not 0.0 <= self.dropout < 1.0:
            raise XadaptError(f"dropout must be in [0, 1), got {self.dropout}")
        check_layers(self.leave_out)


class LoRADelta(nn.Module):
    """The update for one projection: `dropout(x) @ A^T @ B^T * alpha / r`."""

    def __init__(self, d_in: int, d_out: int, config: LoRAConfig):
        super().__init__()
        self.lora_A = nn.Parameter(torch.empty(config.r, d_in))
        self.lora_B = nn.Parameter(torch.zeros(d_out, config.r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = config.alpha / config.r
        self.dropout = Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x) @ self.lora_A.t() @ self.lora_B.t() * self.scaling


class LoRAAdapter(AdapterModule):
    """`deltas[layer][matrix]` for every covered layer and projection."""

    def __init__(self, config: LoRAConfig, facts: ModelFacts):
        super().__init__(config, facts)
        h = facts.hidden_size
        self.deltas = nn.ModuleDict(
            {
                str(i): nn.ModuleDict({m: LoRADelta(h, h, config) for m in config.matrices})
                for i in range(facts.num_hidden_layers)
                if i not in config.leave_out
            }
        )
