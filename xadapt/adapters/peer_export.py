"""Writing adapters in the `adapters` library's `save_adapter` layout, the inverse of `peer.py`.

A folder holds `adapter_config.json` (the library's full config dict, the model type, hidden size,
name and model class) and `adapter.safetensors` with the parameters under the library's own names,
so `model.load_adapter(folder, use_safetensors=True)` of a `BertAdapterModel` /
`XLMRobertaAdapterModel` rebuilds the same function (xadapt writes no pickles). A prediction head goes beside it as `head_config.json` and `model_head.safetensors`, which
`load_adapter` loads with the adapter. The library's module layout is a published format: the names
and config keys below are facts about it, checked by loading every export into the library
(tests/peer).

Expressible: the bottleneck methods (`seq_bn`, `double_seq_bn`, `par_bn`, `scaled_par_bn`),
MAD-X's `seq_bn_inv` and `lora`, with sequence-classification and token-classification heads.
Not written: prefix tuning and MAM (the library keeps their weights in a shared pool under names of
its own making), and multiple-choice heads (the library fixes the number of choices in the head's
config, xadapt's head takes any number; not yet checked against the library).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from xadapt.adapters.bottleneck import BottleneckConfig
from xadapt.adapters.io import save_for_another_library
from xadapt.adapters.config import AdapterConfig, ModelFacts
from xadapt.adapters.invertible import SeqBnInvConfig
from xadapt.adapters.lora import LoRAConfig
from xadapt.errors import XadaptError

EXPORTABLE = ("seq_bn", "double_seq_bn", "par_bn", "scaled_par_bn", "seq_bn_inv", "lora")
ADAPTER_CONFIG, ADAPTER_WEIGHTS = "adapter_config.json", "adapter.safetensors"
HEAD_CONFIG, HEAD_WEIGHTS = "head_config.json", "model_head.safetensors"
LIBRARY_VERSION = "adapters.1.3.0"  # the release the exports are checked against (tests/peer)
# model type -> (the library's model class, the base model's attribute name in it)
MODEL_CLASSES = {"bert": ("BertAdapterModel", "bert"), "xlm-roberta": ("XLMRobertaAdapterModel", "roberta")}
_SITES = {"attention": "attention.output", "ffn": "output"}
_MATRICES = {"q": "query", "k": "key", "v": "value"}
_HALVES = {"down": "0", "up": "2"}
# head kind -> (the library's head type, xadapt parameter -> the library's module index, its config)
_HEADS: dict[str, tuple[str, dict[str, str], Callable[[dict], dict]]] = {
    "token_classification": ("tagging", {"classifier": "1"}, lambda o: {"num_labels": o["num_labels"], "layers": 1}),
    "sequence_classification": ("classification", {"scorer.dense": "1", "scorer.out_proj": "4"},
                                lambda o: {"num_labels": o["num_labels"], "layers": 2, "use_pooler": False, "bias": True}),
}


EXPORTABLE_HEADS = tuple(_HEADS)


def _bottleneck_config(config: BottleneckConfig, facts: ModelFacts) -> dict[str, Any]:
    width = config.width(facts.hidden_size)
    reduction = facts.hidden_size / width
    if max(1, int(facts.hidden_size // reduction)) != width:
        raise XadaptError(f"a bottleneck of {width} on hidden size {facts.hidden_size} has no reduction factor "
                          "the `adapters` library reproduces; choose a bottleneck_size that divides the hidden size")
    invertible = isinstance(config, SeqBnInvConfig)
    return {
        "mh_adapter": config.after_attention, "output_adapter": config.after_ffn, "reduction_factor": reduction,
        "non_linearity": config.non_linearity, "original_ln_before": config.original_ln_before,
        "original_ln_after": config.original_ln_after, "residual_before_ln": config.residual_before_ln,
        "adapter_residual_before_ln": False, "ln_before": False, "ln_after": False, "init_weights": "bert",
        "is_parallel": config.parallel, "scaling": config.scaling, "use_gating": False,
        "inv_adapter": "nice" if invertible else None,
        "inv_adapter_reduction_factor": config.inv_reduction_factor if invertible else None,
        "leave_out": list(config.leave_out), "dropout": config.dropout, "phm_layer": False,
        "cross_adapter": False, "stochastic_depth": 0.0,
    }


def _lora_config(config: LoRAConfig) -> dict[str, Any]:
    return {
        "architecture": "lora", "selfattn_lora": True, "intermediate_lora": False, "output_lora": False,
        "leave_out": list(config.leave_out), "r": config.r, "alpha": config.alpha, "dropout": config.dropout,
        "attn_matrices": list(config.matrices), "composition_mode": "add", "init_weights": "lora", "use_gating": False,
    }


def library_config(config: AdapterConfig, facts: ModelFacts) -> dict[str, Any]:
    """The `adapters` library's config dict computing what `config` computes, or a refusal naming why."""
    if config.method not in EXPORTABLE:
        raise XadaptError(f"the `adapters` format cannot express a {config.method!r} adapter; it can: {', '.join(EXPORTABLE)}")
    return _lora_config(config) if isinstance(config, LoRAConfig) else _bottleneck_config(config, facts)


def library_name(key: str, name: str, base: str) -> str:
    """The library's parameter name for xadapt's adapter parameter `key` of adapter `name`."""
    rules: list[tuple[str, Callable[[re.Match], str]]] = [
        (r"blocks\.(\d+)\.(\w+)\.mlp\.(down|up)\.(weight|bias)",
         lambda m: f"encoder.layer.{m[1]}.{_SITES[m[2]]}.adapters.{name}."
                   + ("adapter_down.0" if m[3] == "down" else "adapter_up") + f".{m[4]}"),
        (r"blocks\.(\d+)\.(\w+)\.scale", lambda m: f"encoder.layer.{m[1]}.{_SITES[m[2]]}.adapters.{name}.scaling"),
        (r"invertible\.([fg])\.(down|up)\.(weight|bias)",
         lambda m: f"invertible_adapters.{name}.{m[1].upper()}.{_HALVES[m[2]]}.{m[3]}"),
        (r"deltas\.(\d+)\.([qkv])\.(lora_[AB])",
         lambda m: f"encoder.layer.{m[1]}.attention.self.{_MATRICES[m[2]]}.loras.{name}.{m[3]}"),
    ]
    for pattern, target in rules:
        match = re.fullmatch(pattern, key)
        if match:
            return f"{base}.{target(match)}"
    raise XadaptError(f"the `adapters` format has no name for parameter {key!r}")


def _model_class(facts: ModelFacts) -> tuple[str, str]:
    if facts.model_type not in MODEL_CLASSES:
        raise XadaptError(f"the `adapters` format is written here for {', '.join(MODEL_CLASSES)} models, not {facts.model_type!r}")
    return MODEL_CLASSES[facts.model_type]


def _document(facts: ModelFacts, name: str, config: dict[str, Any]) -> dict[str, Any]:
    model_class, _ = _model_class(facts)
    return {"config": config, "hidden_size": facts.hidden_size, "model_type": facts.model_type, "name": name,
            "model_name": facts.name, "model_class": model_class, "version": LIBRARY_VERSION}


def export_adapter(module: torch.nn.Module, config: AdapterConfig, facts: ModelFacts, name: str, directory: Path) -> Path:
    """Write adapter `module` (built from `config`) as the library's adapter `name` into `directory`."""
    document = _document(facts, name, library_config(config, facts))
    _, base = _model_class(facts)
    tensors = {library_name(key, name, base): value for key, value in module.state_dict().items()}
    return save_for_another_library(directory, ADAPTER_CONFIG, document, ADAPTER_WEIGHTS, tensors)


def export_head(head: torch.nn.Module, kind: str, options: dict, facts: ModelFacts, name: str, directory: Path,
                labels: list[str] | None = None) -> Path:
    """Write prediction head `head` (of `kind`, built with `options`) as the library's head `name`."""
    if kind not in _HEADS:
        raise XadaptError(f"the `adapters` format has no {kind!r} head here; it has {', '.join(_HEADS)}")
    if options.get("pooling", "first") != "first":
        raise XadaptError(f"the `adapters` format's heads read the first token, and this head pools by {options['pooling']}; "
                          "it stays in xadapt's own format")
    head_type, modules, head_config = _HEADS[kind]
    config = {"head_type": head_type, **head_config(options), "activation_function": "tanh", "dropout_prob": options["dropout"],
              "label2id": {label: i for i, label in enumerate(labels)} if labels else None}
    tensors = {}
    for key, value in head.state_dict().items():
        module, parameter = key.rsplit(".", 1)
        tensors[f"heads.{name}.{modules[module]}.{parameter}"] = value
    return save_for_another_library(directory, HEAD_CONFIG, _document(facts, name, config), HEAD_WEIGHTS, tensors)
