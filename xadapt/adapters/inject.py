"""Patching a transformers 5 BERT / RoBERTa / XLM-R encoder so its layers consult the running plan.

Each patched module keeps its own parameters and names; only its class is swapped, on that one
instance, for a subclass whose `forward` asks `plan.current_plan` what to run:

- `attention.output` and `output` (the two output blocks) run bottleneck steps before the
  residual + LayerNorm;
- `attention.self.query/key/value` add LoRA deltas;
- `attention.self` prepends prefix keys/values;
- a forward hook on `embeddings` applies the invertible adapter;
- the encoder's dropouts draw their masks the cheaper way on the CPU (`xadapt.adapters.dropout`).

With no plan (or an empty one) every patched module calls the original `forward`, so a model with
adapters but no active composition computes exactly what the base model computes. The base
model's state dict keys are unchanged, which keeps full fine-tuning checkpoints compatible.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.models.bert.modeling_bert import eager_attention_forward

from xadapt.adapters.bottleneck import run_steps
from xadapt.adapters.dropout import dropout, use_fast_dropout
from xadapt.adapters.plan import current_plan
from xadapt.errors import XadaptError


@dataclass(frozen=True)
class Family:
    """What differs between the supported encoder families."""

    mlm_checkpoint_prefix: str  # where a full *ForMaskedLM checkpoint keeps its MLM head
    mlm_activation: str | None  # the MLM transform's activation; None: the config's hidden_act


FAMILIES = {
    "bert": Family("cls.predictions.", None),
    "roberta": Family("lm_head.", "gelu"),
    "xlm-roberta": Family("lm_head.", "gelu"),
}


def family(config) -> Family:
    """The family of a transformers config, or a clear error for unsupported models."""
    if config.model_type not in FAMILIES:
        raise XadaptError(
            f"model type {config.model_type!r} is not supported by xadapt adapters; "
            f"use a {', '.join(sorted(FAMILIES))} encoder"
        )
    if getattr(config, "is_decoder", False):
        raise XadaptError("xadapt adapters work on encoders; this config has is_decoder=True")
    return FAMILIES[config.model_type]


class _OutputBlock:
    """Mixin for BertSelfOutput / BertOutput and their RoBERTa / XLM-R copies."""

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        plan = current_plan(self._xadapt_owner)
        steps = plan.bottleneck_steps(*self._xadapt_site) if plan is not None else []
        if not steps:
            return super().forward(hidden_states, input_tensor)
        sublayer_out = self.dropout(self.dense(hidden_states))
        return run_steps(steps, sublayer_out, input_tensor, self.LayerNorm)


class _Projection:
    """Mixin for the attention's query/key/value `nn.Linear`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        plan = current_plan(self._xadapt_owner)
        if plan is not None:
            for delta in plan.lora_deltas(*self._xadapt_site):
                out = out + delta(x)
        return out


class _SelfAttention:
    """Mixin for BertSelfAttention and copies: prefix keys/values go in front of the sequence's.

    Training on the CPU with attention dropout, the attention runs here as eager math with
    `xadapt.adapters.dropout.dropout` on the probabilities (SDPA on the CPU falls back to the same
    math when it has to drop, drawing its mask more slowly)."""

    def forward(self, hidden_states, attention_mask=None, past_key_values=None, **kwargs):
        plan = current_plan(self._xadapt_owner)
        prefixes = plan.prefixes(self._xadapt_site) if plan is not None else []
        implementation = self.config._attn_implementation
        supported = implementation in ("sdpa", "eager") and past_key_values is None
        own_dropout = self.training and self.dropout.p > 0 and hidden_states.is_cpu and supported
        if not prefixes and not own_dropout:
            return super().forward(hidden_states, attention_mask, past_key_values, **kwargs)
        if not supported:
            raise XadaptError(
                f"prefix tuning needs attn_implementation 'sdpa' or 'eager' and no cache (got {implementation!r}); "
                "load the model with attn_implementation='sdpa'"
            )
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.attention_head_size)
        query = self.query(hidden_states).view(hidden_shape).transpose(1, 2)
        key = self.key(hidden_states).view(hidden_shape).transpose(1, 2)
        value = self.value(hidden_states).view(hidden_shape).transpose(1, 2)
        batch = hidden_states.shape[0]
        for prefix_key, prefix_value in prefixes:
            key = torch.cat([prefix_key.expand(batch, -1, -1, -1), key], dim=2)
            value = torch.cat([prefix_value.expand(batch, -1, -1, -1), value], dim=2)
            attention_mask = _attend_to_prefix(attention_mask, prefix_key.shape[1])
        if own_dropout:
            out, weights = attention_with_dropout(query, key, value, attention_mask, self.scaling, self.dropout.p)
        else:
            attention = ALL_ATTENTION_FUNCTIONS.get_interface(implementation, eager_attention_forward)
            out, weights = attention(
                self,
                query,
                key,
                value,
                attention_mask,
                dropout=0.0 if not self.training else self.dropout.p,
                scaling=self.scaling,
                **kwargs,
            )
        return out.reshape(*input_shape, -1).contiguous(), weights


def attention_with_dropout(query, key, value, mask, scaling: float, p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Eager attention ([batch, heads, length, head_dim] inputs) with `dropout` on the probabilities.

    `mask` is what transformers hands either implementation: boolean (True attends) or additive."""
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if mask is not None:
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min) if mask.dtype == torch.bool else scores + mask
    weights = dropout(torch.softmax(scores, dim=-1), p, True)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), weights


def _attend_to_prefix(mask: torch.Tensor | None, length: int) -> torch.Tensor | None:
    """Extend a 4-D attention mask (bool: True attends; float: 0 attends) with `length` open prefix columns."""
    if mask is None:
        return None
    shape = (*mask.shape[:-1], length)
    opening = mask.new_ones(shape) if mask.dtype == torch.bool else mask.new_zeros(shape)
    return torch.cat([opening, mask], dim=-1)


_PATCHED: dict[tuple[type, type], type] = {}


def _patch(module: nn.Module, mixin: type, owner: object, site) -> None:
    """Swap `module`'s class for `mixin + its class` and record which model and site it serves."""
    base = type(module)
    if issubclass(base, mixin):
        raise XadaptError("this encoder already carries xadapt adapters; wrap each encoder in one AdapterModel only")
    key = (mixin, base)
    if key not in _PATCHED:
        _PATCHED[key] = type(f"Xadapt{base.__name__}", (mixin, base), {"__module__": __name__})
    module.__class__ = _PATCHED[key]
    module._xadapt_owner = owner
    module._xadapt_site = site


def inject(encoder: nn.Module, owner: object) -> None:
    """Patch every layer of `encoder` (a BertModel / RobertaModel / XLMRobertaModel) for the model `owner`."""
    family(encoder.config)
    for i, layer in enumerate(encoder.encoder.layer):
        _patch(layer.attention.output, _OutputBlock, owner, (i, "attention"))
        _patch(layer.output, _OutputBlock, owner, (i, "ffn"))
        attention = layer.attention.self
        _patch(attention, _SelfAttention, owner, i)
        for matrix, projection in (("q", attention.query), ("k", attention.key), ("v", attention.value)):
            _patch(projection, _Projection, owner, (i, matrix))
    encoder.embeddings._xadapt_owner = owner
    encoder.embeddings.register_forward_hook(_invertible_hook)
    use_fast_dropout(encoder)


def _invertible_hook(module: nn.Module, args, output: torch.Tensor) -> torch.Tensor:
    """Apply the first active adapter's invertible block to the embedding output."""
    plan = current_plan(module._xadapt_owner)
    block = plan.invertible() if plan is not None else None
    return block(output) if block is not None else output
