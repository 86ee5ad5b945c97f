"""`prefix`: prefix tuning (Li & Liang 2021), and `mam`: prefix + parallel adapter (Junxian He et al. 2022).

Each covered layer's self-attention attends to `prefix_length` extra key/value vectors. As in Li &
Liang, the prefixes are not trained directly: a small embedding table is passed through a
reparametrising MLP that outputs every layer's keys and values at once, which trains more
stably. Unlike the other methods, a fresh prefix cannot leave the model unchanged — softmax
always gives the prefix positions some attention weight — so `prefix` and `mam` are the two
methods without an identity initialisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from xadapt.adapters.base import AdapterModule
from xadapt.adapters.bottleneck import ParBnConfig, build_blocks
from xadapt.adapters.config import AdapterConfig, ModelFacts, check_layers, check_non_linearity, option
from xadapt.adapters.dropout import Dropout
from xadapt.adapters.layers import MLP
from xadapt.errors import XadaptError


@dataclass
class PrefixConfig(AdapterConfig):
    """Prefix tuning with the reparametrising MLP."""

    method: ClassVar[str] = "prefix"
    prefix_length: int = option(30, "number of key/value vectors prepended in each layer")
    bottleneck_size: int = option(512, "hidden width of the reparametrising MLP")
    non_linearity: str = option("tanh", "activation inside the reparametrising MLP")
    dropout: float = option(0.0, "dropout on the generated keys and values")
    leave_out: tuple[int, ...] = option((), "layer indices (0-based) that get no prefix")

    def validate(self) -> None:
        if self.prefix_length < 1 or self.bottleneck_size < 1:
            raise XadaptError(
                f"prefix_length and bottleneck_size must be >= 1, got {self.prefix_length}, {self.bottleneck_size}"
            )
        check_non_linearity(self.non_linearity)
        check_layers(self.leave_out)
        if not 0.0 <= self.dropout < 1.0:
            raise XadaptError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass
class MAMConfig(AdapterConfig):
    """Mix-and-match adapter: prefix tuning at attention plus a scaled parallel adapter at the feed-forward block.

    Defaults follow He et al. 2022 (and the `adapters` library's `mam`): prefix MLP width 800 and a
    parallel adapter with reduction factor 2 and the paper's fixed scale s = 4; set
    `adapter.scaling: learned` for a learned scale.
    """

    method: ClassVar[str] = "mam"
    prefix: PrefixConfig = option(PrefixConfig(bottleneck_size=800), "the prefix-tuning part")
    adapter: ParBnConfig = option(ParBnConfig(), "the parallel-adapter part (must stay parallel)")

    def validate(self) -> None:
        if not self.adapter.parallel:
            raise XadaptError("mam's adapter part must be parallel (parallel: true)")


class PrefixGenerator(nn.Module):
    """Embedding table -> MLP -> keys and values for every covered layer."""

    def __init__(self, config: PrefixConfig, facts: ModelFacts):
        super().__init__()
        outside = [i for i in config.leave_out if i >= facts.num_hidden_layers]
        if outside:
            raise XadaptError(f"leave_out {outside} names layers this {facts.num_hidden_layers}-layer model lacks")
        covered = [i for i in range(facts.num_hidden_layers) if i not in config.leave_out]
        self.slots = {layer: slot for slot, layer in enumerate(covered)}
        self.shape = (config.prefix_length, 2 * len(covered), facts.num_attention_heads, facts.head_dim)
        self.wte = nn.Embedding(config.prefix_length, facts.hidden_size)
        self.mlp = MLP(
            facts.hidden_size,
            config.bottleneck_size,
            2 * len(covered) * facts.hidden_size,
            config.non_linearity,
            identity_init=False,
        )
        self.dropout = Dropout(config.dropout)

    def slot(self, layer: int) -> int | None:
        return self.slots.get(layer)

    def forward(self) -> torch.Tensor:
        """(2 * slots, heads, prefix_length, head_dim): slot s has keys at 2s and values at 2s + 1."""
        states = self.dropout(self.mlp(self.wte.weight).view(self.shape))
        return states.permute(1, 2, 0, 3)


class PrefixAdapter(AdapterModule):
    """Prefix tuning: the `generator` part only."""

    def __init__(self, config: PrefixConfig, facts: ModelFacts):
        super().__init__(config, facts)
        self.generator = PrefixGenerator(config, facts)


class MAMAdapter(AdapterModule):
    """Prefix `generator` plus parallel bottleneck `blocks`."""

    def __init__(self, config: MAMConfig, facts: ModelFacts):
        super().__init__(config, facts)
        self.generator = PrefixGenerator(config.prefix, facts)
        self.blocks = build_blocks(config.adapter, facts)
