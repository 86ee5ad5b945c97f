"""The common shape of every adapter module: named parts that the patched encoder asks for by site.

An adapter (one name, one method) is a bag of *parts*, each serving one kind of site:

- ``blocks``:     bottleneck blocks, ``blocks[layer][site]`` with site "attention" or "ffn";
- ``invertible``: a NICE block applied to the embedding output (inverted before the MLM decoder);
- ``deltas``:     LoRA deltas, ``deltas[layer][matrix]`` with matrix "q", "k" or "v";
- ``generator``:  a prefix generator producing key/value prefixes for every covered layer.

Method classes only build the parts they need; the lookups below are shared, so the encoder code
never dispatches on the method. Parts keep these attribute names in saved weight files too.
"""

from __future__ import annotations

import torch
from torch import nn

from xadapt.adapters.config import AdapterConfig, ModelFacts


class AdapterModule(nn.Module):
    """Base class of the per-method modules registered in `xadapt.adapters.registry`."""

    def __init__(self, config: AdapterConfig, facts: ModelFacts):
        super().__init__()
        self.config = config
        self.facts = facts

    def _part(self, name: str) -> nn.Module | None:
        # nn.Module keeps submodules in `_modules`; a missing part is simply absent.
        return self._modules.get(name)

    def bottleneck(self, layer: int, site: str) -> nn.Module | None:
        """The bottleneck block after `site` ("attention" or "ffn") of `layer`, if this adapter has one."""
        blocks = self._part("blocks")
        if blocks is None or str(layer) not in blocks:
            return None
        per_layer = blocks[str(layer)]
        return per_layer[site] if site in per_layer else None

    def lora(self, layer: int, matrix: str) -> nn.Module | None:
        """The LoRA delta on projection `matrix` ("q", "k", "v") of `layer`, if any."""
        deltas = self._part("deltas")
        if deltas is None or str(layer) not in deltas:
            return None
        per_layer = deltas[str(layer)]
        return per_layer[matrix] if matrix in per_layer else None

    def prefix_slot(self, layer: int) -> int | None:
        """Which of the generator's prefixes belongs to `layer` (None: no prefix there)."""
        generator = self._part("generator")
        return None if generator is None else generator.slot(layer)

    def prefix_states(self) -> torch.Tensor:
        """All prefixes at once, shaped (2 * slots, heads, prefix_length, head_dim): keys, values, keys, ..."""
        return self._modules["generator"]()

    def invertible_block(self) -> nn.Module | None:
        """The invertible (NICE) block on the embeddings, if this adapter has one."""
        return self._part("invertible")
