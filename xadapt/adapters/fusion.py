"""AdapterFusion (Pfeiffer et al. 2021): attention over several bottleneck adapters' outputs, per site.

At every site where all fused adapters have a bottleneck block, a fusion layer lets the hidden
state (the query) attend over the adapters' up-projections (keys and values) and adds the skip
connection. The value matrix starts as the identity, so a fresh fusion layer returns a softmax-
weighted average of the adapter outputs; training it with the regulariser keeps it near there.
Computation and parameter names follow the `adapters` library's dynamic fusion.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch
from torch import nn

from xadapt.adapters.bottleneck import BottleneckBlock
from xadapt.adapters.config import AdapterConfig, ModelFacts, option
from xadapt.adapters.dropout import Dropout
from xadapt.errors import XadaptError

# Weight of the ||I - V||^2 regulariser on the value matrices, from the AdapterFusion paper.
REGULARIZATION_WEIGHT = 0.01

# Where fusion layers report their attention, inside a `recording_attention()` block of this thread or task.
_ATTENTION: contextvars.ContextVar[list[torch.Tensor] | None] = contextvars.ContextVar("xadapt_fusion_attention", default=None)


@contextmanager
def recording_attention() -> Iterator[list[torch.Tensor]]:
    """Collect, for every fusion layer a forward call inside the block runs, its attention over the fused
    adapters averaged over batch and positions (one tensor of N weights per layer and site, in run order)."""
    weights: list[torch.Tensor] = []
    token = _ATTENTION.set(weights)
    try:
        yield weights
    finally:
        _ATTENTION.reset(token)


@dataclass
class FusionConfig(AdapterConfig):
    """Options of a fusion layer (the defaults are the paper's dynamic fusion)."""

    method: ClassVar[str] = "fuse"
    value: bool = option(True, "learn a value matrix (dynamic fusion); false gives static fusion")
    query_before_ln: bool = option(False, "take the query before the layer's LayerNorm")
    dropout: float | None = option(None, "dropout on the attention scores; None uses the model's attention dropout")

    def validate(self) -> None:
        if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
            raise XadaptError(f"dropout must be in [0, 1), got {self.dropout}")


class FusionLayer(nn.Module):
    """One site's fusion attention."""

    def __init__(self, hidden_size: int, config: FusionConfig, dropout: float):
        super().__init__()
        self.query_before_ln = config.query_before_ln
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size, bias=False) if config.value else None
        self.dropout = Dropout(dropout)
        with torch.no_grad():
            for linear in (self.query, self.key):
                nn.init.normal_(linear.weight, std=0.02)
                nn.init.zeros_(linear.bias)
            if self.value is not None:
                self.value.weight.copy_(torch.eye(hidden_size))

    def forward(self, query: torch.Tensor, ups: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """`query` (B, L, H), `ups` (B, L, N adapters, H), `residual` (B, L, H) -> (B, L, H)."""
        q = self.query(query)
        k = self.key(ups)
        v = self.value(ups) if self.value is not None else ups
        scores = torch.matmul(q.unsqueeze(2), k.transpose(-2, -1)).squeeze(2)
        probs = torch.softmax(self.dropout(scores), dim=-1)
        recorder = _ATTENTION.get()
        if recorder is not None:
            recorder.append(probs.detach().float().mean(dim=(0, 1)))
        return torch.matmul(probs.unsqueeze(2), v).squeeze(2) + residual


class FuseStep(NamedTuple):
    """A `Fuse` element of a site's composition: the fusion layer and the fused adapters' blocks."""

    layer: FusionLayer
    blocks: list[BottleneckBlock]

    def step(self, hidden: torch.Tensor, x: torch.Tensor, ln: nn.Module) -> tuple[torch.Tensor, BottleneckBlock]:
        last = self.blocks[-1]
        hidden, query, residual = last.prepare(hidden, x, ln, query_before_ln=self.layer.query_before_ln)
        ups = torch.stack([block(hidden, residual)[1] for block in self.blocks], dim=2)
        return self.layer(query, ups, residual), last


class Fusion(nn.Module):
    """All fusion layers for one `Fuse`: `layers[layer][site]` where every fused adapter has a block."""

    def __init__(self, names: tuple[str, ...], config: FusionConfig, facts: ModelFacts, sites: dict, dropout: float):
        super().__init__()
        self.names = names
        self.config = config
        self.layers = nn.ModuleDict(
            {
                str(i): nn.ModuleDict({s: FusionLayer(facts.hidden_size, config, dropout) for s in per_layer})
                for i, per_layer in sites.items()
            }
        )

    def layer(self, layer: int, site: str) -> FusionLayer | None:
        per_layer = self.layers[str(layer)] if str(layer) in self.layers else None
        return per_layer[site] if per_layer is not None and site in per_layer else None

    def regularization_loss(self) -> torch.Tensor:
        """0.01 * sum of ||I - V||^2 over the value matrices (zero for static fusion)."""
        values = [f.value.weight for d in self.layers.values() for f in d.values() if f.value is not None]
        if not values:
            return torch.zeros(())
        eye = torch.eye(values[0].shape[0], device=values[0].device, dtype=values[0].dtype)
        return REGULARIZATION_WEIGHT * torch.stack([(eye - w).pow(2).sum() for w in values]).sum()
