"""Importing adapters saved by the `adapters` library (AdapterHub), so pretrained language adapters can be reused.

A folder written by its `model.save_adapter(dir, name)` holds `adapter_config.json` and the
weights as `adapter.safetensors` / `adapter_model.safetensors` or the pickle `pytorch_adapter.bin`.
A pickle is unpickled once, by torch's restricted unpickler (`torch.load(weights_only=True)`: it
rebuilds tensors and refuses any other object, so no code in the file runs), and converted to
safetensors under `XADAPT_HOME/peer_weights/<sha256 of the pickle>.safetensors`; every later import
of the same file reads that conversion and unpickles nothing. The config is translated into the matching xadapt method config (anything xadapt does not
implement is refused by name) and the parameter names are mapped onto ours.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from xadapt.adapters import io
from xadapt.atomic import atomic_file
from xadapt.adapters.config import AdapterConfig, ModelFacts
from xadapt.adapters.peft_lora import is_peft_folder, read_peft_lora
from xadapt.adapters.registry import make_config
from xadapt.errors import XadaptError
from xadapt.settings import home_path

CONFIG_FILE = "adapter_config.json"
SAFETENSORS_FILES = ("adapter.safetensors", "adapter_model.safetensors")
PICKLE_FILE = "pytorch_adapter.bin"
log = logging.getLogger(__name__)
PEER_WEIGHTS = "peer_weights"  # under XADAPT_HOME: safetensors conversions of peer pickles

# Options of the `adapters` library that xadapt does not implement, with the value that means "off".
_BOTTLENECK_OFF = {
    "phm_layer": False,
    "use_gating": False,
    "ln_before": False,
    "ln_after": False,
    "adapter_residual_before_ln": False,
    "cross_adapter": False,
    "stochastic_depth": 0.0,
}
_LORA_OFF = {
    "selfattn_lora": True,
    "intermediate_lora": False,
    "output_lora": False,
    "composition_mode": "add",
    "use_gating": False,
    "use_dora": False,
    "vera_d": None,
    "vera_b": None,
}
_PREFIX_OFF = {"flat": False, "use_gating": False, "encoder_prefix": True}


def read_peer_adapter(directory: str | Path, facts: ModelFacts) -> tuple[str, AdapterConfig, dict[str, torch.Tensor]]:
    """(saved name, xadapt config, tensors under xadapt names) for an `adapters`-library folder, or a
    PEFT LoRA folder (`peft_lora`)."""
    directory = Path(directory)
    if is_peft_folder(directory):
        return read_peft_lora(directory, facts)
    try:
        document = json.loads((directory / CONFIG_FILE).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise XadaptError(f"{directory} is not an `adapters`-library adapter folder ({CONFIG_FILE}: {err})") from err
    saved = {"model_type": document.get("model_type"), "hidden_size": document.get("hidden_size")}
    problems = [
        f"{k}: saved for {v!r}, this model has {getattr(facts, k)!r}"
        for k, v in saved.items()
        if v != getattr(facts, k)
    ]
    if problems:
        raise XadaptError(f"{directory} was saved for another base model: {'; '.join(problems)}")
    name = document.get("name") or directory.name
    config = translate_config(document.get("config") or {})
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in _read_weights(directory).items():
        ours = _rename(key, name)
        if ours is None:
            raise XadaptError(f"{directory}: weight {key!r} belongs to a feature xadapt does not implement")
        renamed.setdefault(ours, tensor)  # prefix weights are stored once per layer and once in the pool
    return name, config, renamed


def _read_weights(directory: Path) -> dict[str, torch.Tensor]:
    for file in SAFETENSORS_FILES:
        if (directory / file).is_file():
            return io.read_safetensors(directory / file)
    path = directory / PICKLE_FILE
    if not path.is_file():
        raise XadaptError(f"{directory} has none of {[*SAFETENSORS_FILES, PICKLE_FILE]}")
    converted = converted_pickle(path)
    if converted.is_file():
        return io.read_safetensors(converted)
    tensors = _unpickle_tensors(path)
    try:
        converted.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(converted) as staging:
            # a copy each: the library pickles prefix weights under several names sharing one storage,
            # which safetensors refuses to write
            save_file({name: tensor.clone().contiguous() for name, tensor in tensors.items()}, str(staging))
    except OSError as err:  # a read-only or full cache costs the next import another unpickling, nothing more
        log.warning("could not cache the safetensors conversion of %s at %s: %s", path, converted, err)
    return tensors


def converted_pickle(path: Path) -> Path:
    """Where the safetensors conversion of the peer pickle `path` is cached: named by its content."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return home_path() / PEER_WEIGHTS / f"{digest.hexdigest()}.safetensors"


def _unpickle_tensors(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a peer pickle, through torch's restricted unpickler only."""
    try:
        tensors = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError, ValueError) as err:
        raise XadaptError(
            f"{path} is not a plain tensor file; xadapt loads it only with torch.load(weights_only=True), "
            f"which refused it: {err}"
        ) from err
    if not isinstance(tensors, dict) or not all(isinstance(v, torch.Tensor) for v in tensors.values()):
        raise XadaptError(f"{path} does not hold a mapping of tensor names to tensors")
    return tensors


def _check_off(config: dict[str, Any], off: dict[str, Any], what: str) -> None:
    used = {k: config[k] for k, v in off.items() if k in config and config[k] != v}
    if used:
        raise XadaptError(f"this {what} uses options xadapt does not implement: {used}")


def translate_config(config: dict[str, Any]) -> AdapterConfig:
    """The xadapt config computing the same function as an `adapters`-library config dict."""
    architecture = config.get("architecture")
    if architecture in (None, "bottleneck"):
        return _bottleneck(config)
    if architecture == "lora":
        _check_off(config, _LORA_OFF, "LoRA adapter")
        return make_config(
            "lora",
            r=config["r"],
            alpha=config["alpha"],
            dropout=config.get("dropout", 0.0),
            matrices=tuple(config.get("attn_matrices", ("q", "v"))),
            leave_out=tuple(config.get("leave_out", ())),
        )
    if architecture == "prefix_tuning":
        return make_config("prefix", **_prefix_options(config))
    if architecture == "union":
        parts = {c.get("architecture") or "bottleneck": c for c in config.get("configs", [])}
        if set(parts) == {"prefix_tuning", "bottleneck"} and parts["bottleneck"].get("is_parallel"):
            adapter = _bottleneck(parts["bottleneck"])
            options = {k: v for k, v in adapter.to_dict().items() if k != "method"}
            return make_config("mam", prefix=_prefix_options(parts["prefix_tuning"]), adapter=options)
    raise XadaptError(f"xadapt cannot import `adapters` architecture {architecture!r} (config {config})")


def _prefix_options(config: dict[str, Any]) -> dict[str, Any]:
    _check_off(config, _PREFIX_OFF, "prefix-tuning adapter")
    keys = ("prefix_length", "bottleneck_size", "non_linearity", "dropout")
    return {**{k: config[k] for k in keys if k in config}, "leave_out": tuple(config.get("leave_out", ()))}


def _bottleneck(config: dict[str, Any]) -> AdapterConfig:
    _check_off(config, _BOTTLENECK_OFF, "bottleneck adapter")
    if not isinstance(config.get("reduction_factor"), (int, float)):
        raise XadaptError(f"per-layer reduction factors are not supported: {config.get('reduction_factor')!r}")
    if config.get("inv_adapter") not in (None, "nice"):
        raise XadaptError(f"invertible adapter {config['inv_adapter']!r} is not supported (only 'nice')")
    if config.get("residual_before_ln") not in (True, False):
        raise XadaptError(f"residual_before_ln={config.get('residual_before_ln')!r} is not supported")
    parallel = bool(config.get("is_parallel"))
    options: dict[str, Any] = {
        "reduction_factor": config["reduction_factor"],
        "non_linearity": config["non_linearity"],
        "leave_out": tuple(config.get("leave_out", ())),
        "after_attention": bool(config.get("mh_adapter")),
        "after_ffn": bool(config.get("output_adapter")),
        "parallel": parallel,
        "original_ln_before": bool(config.get("original_ln_before")) and not parallel,
        "original_ln_after": bool(config.get("original_ln_after", True)),
        "residual_before_ln": config["residual_before_ln"],
        "scaling": config.get("scaling", 1.0),
        "dropout": config.get("dropout", 0.0),
    }
    if config.get("inv_adapter") == "nice":
        return make_config("seq_bn_inv", inv_reduction_factor=config["inv_adapter_reduction_factor"], **options)
    if parallel:
        return make_config("scaled_par_bn" if options["scaling"] == "learned" else "par_bn", **options)
    return make_config("double_seq_bn" if options["after_attention"] else "seq_bn", **options)


_SITES = {"attention.output": "attention", "output": "ffn"}
_MATRICES = {"query": "q", "key": "k", "value": "v"}
_HALVES = {"0": "down", "2": "up"}


def _rules(name: str) -> list[tuple[str, Callable[[re.Match], str]]]:
    n = re.escape(name)
    layer = r"(?:^|\.)encoder\.layer\.(\d+)\."
    block = layer + rf"(attention\.output|output)\.adapters\.{n}\."
    prefix = rf"(?:^|\.)prefix_tunings\.{n}\.self_prefix\."
    return [
        (block + r"adapter_down\.0\.(weight|bias)$", lambda m: f"blocks.{m[1]}.{_SITES[m[2]]}.mlp.down.{m[3]}"),
        (block + r"adapter_up\.(weight|bias)$", lambda m: f"blocks.{m[1]}.{_SITES[m[2]]}.mlp.up.{m[3]}"),
        (block + r"scaling$", lambda m: f"blocks.{m[1]}.{_SITES[m[2]]}.scale"),
        (
            rf"(?:^|\.)invertible_adapters\.{n}\.([FG])\.([02])\.(weight|bias)$",
            lambda m: f"invertible.{m[1].lower()}.{_HALVES[m[2]]}.{m[3]}",
        ),
        (
            layer + rf"attention\.self\.(query|key|value)\.loras\.{n}\.(lora_A|lora_B)$",
            lambda m: f"deltas.{m[1]}.{_MATRICES[m[2]]}.{m[3]}",
        ),
        (prefix + r"wte\.weight$", lambda m: "generator.wte.weight"),
        (prefix + r"control_trans\.([02])\.(weight|bias)$", lambda m: f"generator.mlp.{_HALVES[m[1]]}.{m[2]}"),
    ]


def _rename(key: str, name: str) -> str | None:
    """Our parameter name for the `adapters`-library parameter `key` of adapter `name` (None: unknown)."""
    for pattern, target in _rules(name):
        match = re.search(pattern, key)
        if match:
            return target(match)
    return None
