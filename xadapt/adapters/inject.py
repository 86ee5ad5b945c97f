"""Preparing a transformers 5 BERT / RoBERTa / XLM-R encoder so its layers consult the running plan.

- Attention goes through transformers' `AttentionInterface`: the encoder is switched to
  `attn_implementation="xadapt"` (`xadapt.adapters.attention`), and each self-attention module is
  marked with its model and layer, so prefix tuning and the CPU attention dropout need no
  override of transformers' attention modules.
- Where transformers offers no extension point, a module's class is swapped, on that one
  instance, for a subclass whose `forward` takes every argument as given, passes them through
  untouched when no adapter runs there, and otherwise reads them by name from the upstream
  signature: the two output blocks (bottleneck steps before the residual + LayerNorm) and the
  query/key/value projections (LoRA deltas). The names this relies on are gathered, with why, in
  `xadapt.upstream`, and checked here.
- A forward hook on `embeddings` applies the invertible adapter.
- The encoder's dropouts draw their masks the cheaper way on the CPU (`xadapt.adapters.dropout`).

With no plan (or an empty one) every patched module runs the original computation, so a model
with adapters but no active composition computes exactly what the base model computes. The base
model's state dict keys are unchanged, which keeps full fine-tuning checkpoints compatible.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
from torch import nn

from xadapt import upstream
from xadapt.adapters import attention
from xadapt.adapters.bottleneck import run_steps
from xadapt.adapters.dropout import use_fast_dropout
from xadapt.adapters.forward_plan import current_plan
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

    def forward(self, *args, **kwargs):
        plan = current_plan(self._xadapt_owner)
        steps = plan.bottleneck_steps(*self._xadapt_site) if plan is not None else []
        if not steps:
            return super().forward(*args, **kwargs)
        call = upstream.call_arguments(self._xadapt_signature, self, args, kwargs)
        hidden_states, input_tensor = (call[name] for name in upstream.OUTPUT_BLOCK_ARGUMENTS)
        sublayer_out = self.dropout(self.dense(hidden_states))
        return run_steps(steps, sublayer_out, input_tensor, self.LayerNorm)


class _Projection:
    """Mixin for the attention's query/key/value `nn.Linear`."""

    def forward(self, *args, **kwargs):
        out = super().forward(*args, **kwargs)
        plan = current_plan(self._xadapt_owner)
        deltas = plan.lora_deltas(*self._xadapt_site) if plan is not None else []
        if deltas:
            x = upstream.call_arguments(self._xadapt_signature, self, args, kwargs)[upstream.PROJECTION_ARGUMENT]
            for delta in deltas:
                out = out + delta(x)
        return out


_PATCHED: dict[tuple[type, type], type] = {}


def _patched_class(mixin: type, base: type, signature: inspect.Signature) -> type:
    """`mixin + base`, made once per pair; `signature` is base's checked forward signature, by which the mixin reads arguments."""
    key = (mixin, base)
    if key not in _PATCHED:
        namespace = {"__module__": __name__, "_xadapt_signature": signature}
        _PATCHED[key] = type(f"Xadapt{base.__name__}", (mixin, base), namespace)
    return _PATCHED[key]


def inject(encoder: nn.Module, owner: object) -> None:
    """Prepare every layer of `encoder` (a BertModel / RobertaModel / XLMRobertaModel) for the model `owner`.

    Every part and signature is looked up first; the encoder changes only once all are there."""
    family(encoder.config)
    swaps, attentions = [], []  # (module, mixin, its signature check, site); (self-attention module, layer)
    for i, layer in enumerate(upstream.layers(encoder)):
        for site in upstream.OUTPUT_BLOCKS:
            block = upstream.output_block(layer, site)
            swaps.append((block, _OutputBlock, upstream.output_block_signature, (i, site)))
        self_attention = upstream.self_attention(layer)
        attentions.append((self_attention, i))
        for matrix in upstream.PROJECTIONS:
            swaps.append((upstream.projection(self_attention, matrix), _Projection, upstream.projection_signature, (i, matrix)))
    embeddings = upstream.embeddings(encoder)
    if any(isinstance(module, mixin) for module, mixin, _, _ in swaps):
        raise XadaptError("this encoder already carries xadapt adapters; wrap each encoder in one AdapterModel only")
    classes = [_patched_class(mixin, type(module), signature(type(module))) for module, mixin, signature, _ in swaps]

    encoder.set_attn_implementation(attention.NAME)
    selected = upstream.attention_implementation(encoder.config)
    if selected != attention.NAME:
        raise XadaptError(
            f"{type(encoder).__name__} did not accept attn_implementation={attention.NAME!r} (it uses {selected!r}); "
            "adapters need a model whose attention goes through transformers' AttentionInterface"
        )
    for (module, _, _, site), patched in zip(swaps, classes, strict=True):
        module.__class__ = patched
        module._xadapt_owner = owner
        module._xadapt_site = site
    for self_attention, i in attentions:
        self_attention._xadapt_owner = owner
        self_attention._xadapt_layer = i
    embeddings._xadapt_owner = owner
    embeddings.register_forward_hook(_invertible_hook)
    use_fast_dropout(encoder)


def _invertible_hook(module: nn.Module, args, output: torch.Tensor) -> torch.Tensor:
    """Apply the first active adapter's invertible block to the embedding output."""
    plan = current_plan(module._xadapt_owner)
    block = plan.invertible() if plan is not None else None
    return block(output) if block is not None else output
