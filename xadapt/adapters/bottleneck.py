"""Bottleneck adapters: sequential (Pfeiffer `seq_bn`, Houlsby `double_seq_bn`), parallel (`par_bn`, `scaled_par_bn`).

A bottleneck block sits in a transformer layer's output block ("attention": after the attention
output projection, "ffn": after the feed-forward output projection), between the projection and
the layer's residual-add + LayerNorm. The data flow follows the `adapters` library exactly, so
adapters trained there compute the same function here:

- sequential: the block reads the sub-layer output (after the layer's own LayerNorm when
  `original_ln_before`), adds its skip connection, then the layer's residual + LayerNorm run;
- parallel (Junxian He et al. 2022): the block reads the sub-layer's *input*, its scaled output is
  added to the sub-layer output, then residual + LayerNorm run.

Stacked blocks at one site run in order, each re-reading the running hidden state; the last
block decides how the output is finished (`finish`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import torch
from torch import nn

from xadapt.adapters.base import AdapterModule
from xadapt.adapters.config import AdapterConfig, ModelFacts, check_layers, check_non_linearity, option
from xadapt.adapters.dropout import Dropout
from xadapt.adapters.layers import MLP
from xadapt.errors import XadaptError

SITES = ("attention", "ffn")


@dataclass
class BottleneckConfig(AdapterConfig):
    """Options every bottleneck method takes; the registered methods differ only in defaults."""

    reduction_factor: float = option(16, "hidden size / bottleneck size (ignored when bottleneck_size is set)")
    bottleneck_size: int | None = option(None, "bottleneck width; overrides reduction_factor when set")
    non_linearity: str = option("relu", "activation between the down- and up-projection")
    leave_out: tuple[int, ...] = option((), "layer indices (0-based) that get no adapter")
    after_attention: bool = option(False, "insert a block after the attention output projection")
    after_ffn: bool = option(True, "insert a block after the feed-forward output projection")
    parallel: bool = option(False, "read the sub-layer input and add to its output (parallel adapter)")
    original_ln_before: bool = option(
        True, "sequential only: apply the layer's residual + LayerNorm before the adapter (Pfeiffer placement)"
    )
    original_ln_after: bool = option(True, "apply the layer's residual + LayerNorm after the adapter")
    residual_before_ln: bool = option(
        True, "the adapter's skip connection takes the sub-layer output before (True) or after the layer's LayerNorm"
    )
    scaling: float | str = option(
        1.0, "multiplier on the adapter output: a number, or 'learned' (one scalar per block)"
    )
    dropout: float = option(0.0, "dropout on the adapter output")

    def validate(self) -> None:
        if not self.reduction_factor or self.reduction_factor <= 0:
            raise XadaptError(f"reduction_factor must be > 0, got {self.reduction_factor}")
        if self.bottleneck_size is not None and self.bottleneck_size < 1:
            raise XadaptError(f"bottleneck_size must be >= 1, got {self.bottleneck_size}")
        check_non_linearity(self.non_linearity)
        check_layers(self.leave_out)
        if not (self.after_attention or self.after_ffn):
            raise XadaptError("a bottleneck adapter needs after_attention or after_ffn (or both) set")
        if self.parallel and self.original_ln_before:
            raise XadaptError("original_ln_before has no meaning for a parallel adapter; set it to false")
        learned = self.scaling == "learned"
        if not learned and (isinstance(self.scaling, str) or isinstance(self.scaling, bool) or self.scaling <= 0):
            raise XadaptError(f"scaling must be a positive number or 'learned', got {self.scaling!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise XadaptError(f"dropout must be in [0, 1), got {self.dropout}")

    def width(self, hidden_size: int) -> int:
        """The bottleneck width for a model of `hidden_size` (at least 1, as in the `adapters` library)."""
        if self.bottleneck_size is not None:
            return self.bottleneck_size
        return max(1, int(hidden_size // self.reduction_factor))

    def sites(self) -> tuple[str, ...]:
        return tuple(s for s, on in zip(SITES, (self.after_attention, self.after_ffn), strict=True) if on)


@dataclass
class SeqBnConfig(BottleneckConfig):
    """Pfeiffer et al. 2020: one sequential bottleneck after the feed-forward block."""

    method: ClassVar[str] = "seq_bn"


@dataclass
class DoubleSeqBnConfig(BottleneckConfig):
    """Houlsby et al. 2019: sequential bottlenecks after attention and after the feed-forward block."""

    method: ClassVar[str] = "double_seq_bn"
    non_linearity: str = "swish"
    after_attention: bool = True
    original_ln_before: bool = False


@dataclass
class ParBnConfig(BottleneckConfig):
    """Junxian He et al. 2022: parallel adapter on the feed-forward block with fixed scaling 4."""

    method: ClassVar[str] = "par_bn"
    reduction_factor: float = 2
    parallel: bool = True
    original_ln_before: bool = False
    scaling: float | str = 4.0


@dataclass
class ScaledParBnConfig(ParBnConfig):
    """Parallel adapter whose output scale is a learned scalar (starting at 1)."""

    method: ClassVar[str] = "scaled_par_bn"
    scaling: float | str = "learned"


class Step(Protocol):
    """One element of a site's composition: a single block, or a fusion over several."""

    def step(self, hidden: torch.Tensor, x: torch.Tensor, ln: nn.Module) -> tuple[torch.Tensor, BottleneckBlock]: ...


class BottleneckBlock(nn.Module):
    """One bottleneck at one site; `step` runs it inside a composition, `finish` closes the site."""

    def __init__(self, config: BottleneckConfig, hidden_size: int):
        super().__init__()
        self.mlp = MLP(hidden_size, config.width(hidden_size), hidden_size, config.non_linearity)
        self.scale = nn.Parameter(torch.ones(1)) if config.scaling == "learned" else None
        self.fixed_scale = 1.0 if self.scale is not None else float(config.scaling)
        self.dropout = Dropout(config.dropout)
        self.parallel = config.parallel
        self.original_ln_before = config.original_ln_before
        self.original_ln_after = config.original_ln_after
        self.residual_before_ln = config.residual_before_ln

    def prepare(
        self, hidden: torch.Tensor, x: torch.Tensor, ln: nn.Module, *, query_before_ln: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(adapter input, fusion query, skip-connection input) for sub-layer output `hidden` and input `x`."""
        if self.parallel:
            return x, x, x
        residual = hidden
        query = hidden
        if self.original_ln_before:
            hidden = ln(hidden + x)
        if not self.residual_before_ln:
            residual = hidden
        if not query_before_ln:
            query = hidden
        return hidden, query, residual

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(block output, scaled up-projection); fusion layers attend over the up-projections."""
        up = self.mlp(hidden) * (self.scale if self.scale is not None else self.fixed_scale)
        out = self.dropout(up)
        if not self.parallel:
            out = out + residual
        return out, up

    def step(self, hidden: torch.Tensor, x: torch.Tensor, ln: nn.Module) -> tuple[torch.Tensor, BottleneckBlock]:
        hidden, _, residual = self.prepare(hidden, x, ln)
        return self(hidden, residual)[0], self

    def finish(self, hidden: torch.Tensor, sublayer_out: torch.Tensor, x: torch.Tensor, ln: nn.Module) -> torch.Tensor:
        """Close the site: add the parallel branch to the sub-layer output, then residual + LayerNorm."""
        if self.parallel:
            hidden = hidden + sublayer_out
        if self.original_ln_after:
            hidden = ln(hidden + x)
        return hidden


def run_steps(steps: list[Step], sublayer_out: torch.Tensor, x: torch.Tensor, ln: nn.Module) -> torch.Tensor:
    """Run a site's composition on the sub-layer output (after dense + dropout); `x` is the sub-layer input."""
    hidden, last = sublayer_out, None
    for s in steps:
        hidden, last = s.step(hidden, x, ln)
    return last.finish(hidden, sublayer_out, x, ln)


def build_blocks(config: BottleneckConfig, facts: ModelFacts) -> nn.ModuleDict:
    """`blocks[layer][site]` for every layer not left out."""
    outside = [i for i in config.leave_out if i >= facts.num_hidden_layers]
    if outside:
        raise XadaptError(f"leave_out {outside} names layers this {facts.num_hidden_layers}-layer model lacks")
    return nn.ModuleDict(
        {
            str(i): nn.ModuleDict({site: BottleneckBlock(config, facts.hidden_size) for site in config.sites()})
            for i in range(facts.num_hidden_layers)
            if i not in config.leave_out
        }
    )


class BottleneckAdapter(AdapterModule):
    """seq_bn / double_seq_bn / par_bn / scaled_par_bn: bottleneck blocks only."""

    def __init__(self, config: BottleneckConfig, facts: ModelFacts):
        super().__init__(config, facts)
        self.blocks = build_blocks(config, facts)
