"""LoRA in PEFT's layout, both ways: `adapter_config.json` (peft_type "LORA") and `adapter_model.safetensors`.

PEFT's LoRA on a linear layer adds `lora_B(lora_A(dropout(x))) * lora_alpha / r`, which is what
xadapt's `lora` method computes on the attention projections. Exports are written for the bare
encoder (`AutoModel`), whose modules PEFT names `base_model.model.encoder.layer.<i>.attention.self.<query|key|value>`;
`PeftModel.from_pretrained(AutoModel.from_pretrained(base), folder)` loads them (tests/peer checks the
outputs). Imports accept any prefix before `encoder.layer`, so a LoRA trained on a task model of
the same encoder loads too. PEFT options xadapt does not implement (DoRA, rsLoRA, per-layer ranks,
biases, other target modules, extra trained modules) are refused by name, never dropped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch

from xadapt.adapters import io
from xadapt.adapters.config import ModelFacts
from xadapt.adapters.lora import LoRAConfig
from xadapt.adapters.registry import make_config
from xadapt.errors import XadaptError

CONFIG_FILE, WEIGHTS_FILE = "adapter_config.json", "adapter_model.safetensors"
_MODULES = {"q": "query", "k": "key", "v": "value"}
_MATRICES = {module: matrix for matrix, module in _MODULES.items()}
# PEFT options and the value that means "off": anything else computes something xadapt does not
_OFF = {"bias": "none", "use_rslora": False, "use_dora": False, "fan_in_fan_out": False, "modules_to_save": None,
        "rank_pattern": {}, "alpha_pattern": {}, "lora_bias": False}
_KEY = re.compile(r"(?:^|.*\.)encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.lora_([AB])(?:\.default)?\.weight$")


def is_peft_folder(directory: Path) -> bool:
    """Whether `directory` holds a PEFT adapter (its config names a `peft_type`)."""
    try:
        return "peft_type" in json.loads((Path(directory) / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def export_lora(module: torch.nn.Module, config: LoRAConfig, facts: ModelFacts, directory: Path, base_model: str) -> Path:
    """Write LoRA adapter `module` (built from `config`) in PEFT's layout into `directory`."""
    kept = [i for i in range(facts.num_hidden_layers) if i not in config.leave_out]
    document = {
        "peft_type": "LORA", "task_type": None, "base_model_name_or_path": base_model, "inference_mode": True,
        "r": config.r, "lora_alpha": config.alpha, "lora_dropout": config.dropout,
        "target_modules": sorted(_MODULES[m] for m in config.matrices),
        "layers_to_transform": kept if config.leave_out else None, "init_lora_weights": True, **_OFF,
    }
    tensors = {}
    for key, value in module.state_dict().items():
        layer, matrix, half = re.fullmatch(r"deltas\.(\d+)\.([qkv])\.lora_([AB])", key).groups()
        tensors[f"base_model.model.encoder.layer.{layer}.attention.self.{_MODULES[matrix]}.lora_{half}.weight"] = value
    return io.save_for_another_library(directory, CONFIG_FILE, document, WEIGHTS_FILE, tensors)


def _is_off(value: Any, off: Any) -> bool:
    return value == off or (not value and not off)  # an empty list or mapping is off as well as None


def _lora_config(document: dict[str, Any], facts: ModelFacts, directory: Path) -> LoRAConfig:
    if document.get("peft_type") != "LORA":
        raise XadaptError(f"{directory} holds a PEFT {document.get('peft_type')!r} adapter; xadapt imports PEFT's LORA only")
    missing = [key for key in ("r", "lora_alpha", "target_modules") if key not in document]
    if missing:
        raise XadaptError(f"{directory}/{CONFIG_FILE} lacks {', '.join(missing)}; it is not a complete PEFT LoRA config")
    used = {key: value for key, off in _OFF.items() if not _is_off(value := document.get(key, off), off)}
    if used:
        raise XadaptError(f"{directory} uses PEFT options xadapt does not implement: {used}")
    targets = document.get("target_modules")
    if not isinstance(targets, list):
        raise XadaptError(f"{directory}: target_modules {targets!r} is not a list of module names; xadapt needs "
                          f"a list of {', '.join(_MATRICES)}")
    names = [target.rsplit(".", 1)[-1] for target in targets]
    others = sorted({t for t, n in zip(targets, names) if n not in _MATRICES})
    if others:
        raise XadaptError(f"{directory} adapts {others}; xadapt's LoRA covers the attention projections "
                          f"{', '.join(_MATRICES)} only")
    layers = document.get("layers_to_transform")
    layers = [layers] if isinstance(layers, int) else layers
    leave_out = tuple(i for i in range(facts.num_hidden_layers) if layers is not None and i not in layers)
    return make_config("lora", r=document["r"], alpha=document["lora_alpha"], dropout=document.get("lora_dropout", 0.0),
                       matrices=tuple(sorted({_MATRICES[n] for n in names}, key="qkv".index)), leave_out=leave_out)


def read_peft_lora(directory: str | Path, facts: ModelFacts) -> tuple[str, LoRAConfig, dict[str, torch.Tensor]]:
    """(name, xadapt config, tensors under xadapt names) for a PEFT LoRA folder."""
    directory = Path(directory)
    try:
        document = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise XadaptError(f"{directory} is not a PEFT adapter folder ({CONFIG_FILE}: {err})") from err
    config = _lora_config(document, facts, directory)
    if not (directory / WEIGHTS_FILE).is_file():
        raise XadaptError(f"{directory} has no {WEIGHTS_FILE}; xadapt reads PEFT weights as safetensors only")
    tensors = {}
    for key, tensor in io.read_safetensors(directory / WEIGHTS_FILE).items():
        match = _KEY.fullmatch(key)
        if match is None:
            raise XadaptError(f"{directory}: weight {key!r} is not a LoRA update of an attention projection")
        layer, module, half = match.groups()
        tensors[f"deltas.{layer}.{_MATRICES[module]}.lora_{half}"] = tensor
    return directory.name, config, tensors
