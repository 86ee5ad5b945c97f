"""One call's plan: which adapter parts run at each site of the encoder, resolved from the composition.

The plan is built per forward call and handed to the patched encoder through a `ContextVar`, so
concurrent calls (threads, asyncio tasks) each see their own plan. It also caches, for the
duration of the call, the prefixes that prefix-tuning adapters generate once for all layers.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import nn

from xadapt.adapters.base import AdapterModule
from xadapt.adapters.bottleneck import Step
from xadapt.adapters.composition import Composition, Fuse, as_stack, flatten
from xadapt.adapters.fusion import FuseStep, Fusion


class ForwardPlan:
    """Resolves a composition against the adapters and fusion layers of one model (`owner`)."""

    def __init__(
        self,
        owner: object,
        composition: Composition | None,
        adapters: Mapping[str, AdapterModule],
        fusions: Mapping[str, Fusion],
    ):
        self.owner = owner
        self.elements = as_stack(composition) if composition is not None else ()
        self.names = flatten(composition)
        self.adapters = adapters
        self.fusions = fusions
        self._prefixes: dict[str, torch.Tensor] = {}

    def bottleneck_steps(self, layer: int, site: str) -> list[Step]:
        """The blocks (and fusions) to run at `site` of `layer`, in stack order."""
        steps: list[Step] = []
        for element in self.elements:
            if isinstance(element, Fuse):
                fusion_layer = self.fusions[element.name].layer(layer, site)
                if fusion_layer is not None:
                    blocks = [self.adapters[n].bottleneck(layer, site) for n in element.children]
                    steps.append(FuseStep(fusion_layer, blocks))
            else:
                block = self.adapters[element].bottleneck(layer, site)
                if block is not None:
                    steps.append(block)
        return steps

    def lora_deltas(self, layer: int, matrix: str) -> list[nn.Module]:
        """LoRA deltas of all active adapters on `matrix` of `layer` (they add up)."""
        deltas = (self.adapters[n].lora(layer, matrix) for n in self.names)
        return [d for d in deltas if d is not None]

    def prefixes(self, layer: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(keys, values) of every active prefix at `layer`, each (heads, prefix_length, head_dim)."""
        found = []
        for name in self.names:
            slot = self.adapters[name].prefix_slot(layer)
            if slot is None:
                continue
            if name not in self._prefixes:
                self._prefixes[name] = self.adapters[name].prefix_states()
            states = self._prefixes[name]
            found.append((states[2 * slot], states[2 * slot + 1]))
        return found

    def invertible(self) -> nn.Module | None:
        """The first adapter's invertible block (the language adapter in `Stack(language, task)`), if any."""
        return self.adapters[self.names[0]].invertible_block() if self.names else None


_PLAN: contextvars.ContextVar[ForwardPlan | None] = contextvars.ContextVar("xadapt_forward_plan", default=None)


@contextmanager
def running(plan: ForwardPlan) -> Iterator[None]:
    """Make `plan` visible to the patched encoder modules for the duration of one call."""
    token = _PLAN.set(plan)
    try:
        yield
    finally:
        _PLAN.reset(token)


def current_plan(owner: object) -> ForwardPlan | None:
    """The running plan if it belongs to `owner`'s model (another model's call inside ours sees none)."""
    plan = _PLAN.get()
    return plan if plan is not None and plan.owner is owner else None
