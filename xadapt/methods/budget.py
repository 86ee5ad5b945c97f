"""Parameter budgets: an adapter sized to a share of the encoder, as Junxian He et al. (2022) compare methods.

The budget counts what a method adds to the model at inference, as that paper does: every adapter
parameter, except that prefix tuning's reparametrising MLP is dropped after training, so a prefix
counts the key and value vectors it generates. It is a share of the encoder's transformer-layer
parameters, without the embeddings: in an XLM-R-vocabulary encoder the 250k-row embedding matrix
holds most of the weights (81% of multilingual-e5-small's), and a share of it would make "0.5%"
a far larger adapter than the paper's.

Each method has one size knob (a bottleneck width, a LoRA rank, a prefix length), searched for the
parameter count nearest the budget; MAM gives a fifth of its budget to the prefix and the rest to
its parallel adapter, the larger part on the feed-forward side as in the paper's best MAM.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from torch import nn

from xadapt.adapters import METHODS as ADAPTER_METHODS
from xadapt.adapters import AdapterConfig, AdapterModel
from xadapt.adapters.registry import build_adapter
from xadapt.errors import XadaptError

MAM_PREFIX_SHARE = 0.2  # of a MAM budget, the prefix's


def layer_parameters(model: AdapterModel) -> int:
    """Parameters of the encoder's transformer layers (the embeddings left out): what a budget is a share of."""
    return sum(p.numel() for name, p in model.encoder.named_parameters() if not name.startswith("embeddings."))


def budget_parameters(module: nn.Module) -> int:
    """Parameters `module` (an adapter) adds at inference: a prefix generator counts the vectors it generates."""
    generator = getattr(module, "_modules", {}).get("generator")
    counted = sum(p.numel() for name, p in module.named_parameters() if not name.startswith("generator."))
    if generator is not None:
        length, slots, heads, head_dim = generator.shape
        counted += length * slots * heads * head_dim
    return counted


def _knob(method: str) -> Callable[[AdapterConfig, int], AdapterConfig]:
    """How to set `method`'s size knob to a value."""
    if method == "lora":
        def lora(config, rank):  # keep alpha / r, so the update's scale stays the preset's
            return config.replace(r=rank, alpha=config.alpha / config.r * rank)
        return lora
    if method == "prefix":
        return lambda config, length: config.replace(prefix_length=length)
    if hasattr(ADAPTER_METHODS[method].config_class(), "bottleneck_size"):
        return lambda config, width: config.replace(bottleneck_size=width)
    raise XadaptError(f"{method} has no size knob for a parameter budget")


def _nearest(config: AdapterConfig, knob, target: float, model: AdapterModel) -> AdapterConfig:
    """`config` with its knob at the value whose budget count is nearest `target` (counts grow with the knob)."""
    def cost(candidate: AdapterConfig) -> int:
        return budget_parameters(build_adapter(candidate, model.facts))

    low, high = 1, 1
    while cost(knob(config, high)) < target and high < 1 << 16:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if cost(knob(config, middle)) < target else (low, middle)
    return min((knob(config, v) for v in (low, high)), key=lambda c: abs(cost(c) - target))


def sized_config(method: str, share: float, model: AdapterModel) -> AdapterConfig:
    """The preset config of adapter method `method`, sized to `share` of `model`'s encoder layers."""
    target = share * layer_parameters(model)
    config = copy.deepcopy(ADAPTER_METHODS[method].config_class())
    if method != "mam":
        return _nearest(config, _knob(method), target, model)
    prefix = _nearest(config.prefix, _knob("prefix"), MAM_PREFIX_SHARE * target, model)
    config = config.replace(prefix=prefix)
    return _nearest(config, lambda c, width: c.replace(adapter=c.adapter.replace(bottleneck_size=width)), target, model)
