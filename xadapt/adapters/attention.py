"""xadapt's attention, registered with transformers' `AttentionInterface` as `attn_implementation="xadapt"`.

transformers' BERT / RoBERTa / XLM-R self-attention projects queries, keys and values and hands
them to whichever attention function the config selects. xadapt registers one that adds what
adapters need at that point and otherwise runs transformers' own SDPA function:

- prefix tuning: the running plan's prefix keys and values go in front of the sequence's, and
  the mask gains open columns for them;
- training on the CPU with attention dropout: the attention runs as eager math with
  `xadapt.adapters.dropout.dropout` on the probabilities (SDPA on the CPU falls back to the same
  math when it has to drop, drawing its mask more slowly).

An attention function only receives a mask if a mask function is registered under the same name
(an unknown name silently gets none), so SDPA's mask function is registered as "xadapt" too:
boolean masks, True where a position may be attended, or None where nothing is padded.
"""

from __future__ import annotations

import torch
from transformers import AttentionInterface, AttentionMaskInterface

from xadapt.adapters.dropout import dropout as cpu_dropout
from xadapt.adapters.forward_plan import current_plan

NAME = "xadapt"  # the attn_implementation that selects this function
_INNER = "sdpa"  # transformers' function that runs when xadapt has nothing to add


def xadapt_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The `AttentionInterface` contract: [batch, heads, length, head_dim] in, ([batch, length, heads, head_dim], weights) out."""
    owner = getattr(module, "_xadapt_owner", None)
    plan = current_plan(owner) if owner is not None else None
    prefixes = plan.prefixes(module._xadapt_layer) if plan is not None else []
    if prefixes:
        batch = query.shape[0]
        for prefix_key, prefix_value in prefixes:
            key = torch.cat([prefix_key.expand(batch, -1, -1, -1), key], dim=2)
            value = torch.cat([prefix_value.expand(batch, -1, -1, -1), value], dim=2)
            attention_mask = _attend_to_prefix(attention_mask, prefix_key.shape[1])
    if dropout > 0.0 and query.is_cpu:
        scale = scaling if scaling is not None else query.shape[-1] ** -0.5
        return attention_with_dropout(query, key, value, attention_mask, scale, dropout)
    inner = AttentionInterface()[_INNER]
    return inner(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs)


def attention_with_dropout(query, key, value, mask, scaling: float, p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Eager attention ([batch, heads, length, head_dim] inputs) with the CPU dropout on the probabilities.

    `mask` is boolean (True attends), additive (0 attends) or None."""
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if mask is not None:
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min) if mask.dtype == torch.bool else scores + mask
    weights = cpu_dropout(torch.softmax(scores, dim=-1), p, True)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), weights


def _attend_to_prefix(mask: torch.Tensor | None, length: int) -> torch.Tensor | None:
    """Extend a 4-D attention mask (bool: True attends; float: 0 attends) with `length` open prefix columns."""
    if mask is None:
        return None
    shape = (*mask.shape[:-1], length)
    opening = mask.new_ones(shape) if mask.dtype == torch.bool else mask.new_zeros(shape)
    return torch.cat([opening, mask], dim=-1)


AttentionInterface.register(NAME, xadapt_attention)
AttentionMaskInterface.register(NAME, AttentionMaskInterface()[_INNER])
