"""Saving and loading adapters, fusion layers and heads as folders: a JSON description + safetensors weights.

Every folder says what it holds (`kind`), how to rebuild it (method config, head options, fused
names) and which base model it belongs to (`base_model`: name and shape facts). Loading checks
the shape facts before touching weights, refuses anything but safetensors (a pickle can run code
when loaded), and checks every tensor's name and shape against a freshly built module.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from xadapt.adapters.config import ModelFacts
from xadapt.errors import XadaptError

FORMAT = "xadapt"
FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"
DESCRIPTION_FILES = {"adapter": "xadapt_adapter.json", "fusion": "xadapt_fusion.json", "head": "xadapt_head.json"}
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


def save_component(
    directory: str | Path, kind: str, description: dict[str, Any], module: nn.Module, facts: ModelFacts
) -> Path:
    """Write `module`'s weights and its description (plus the base model facts) into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
    save_file(tensors, str(directory / WEIGHTS_FILE), metadata={"format": FORMAT, "kind": kind})
    document = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind, **description}
    document["base_model"] = facts.to_dict()
    (directory / DESCRIPTION_FILES[kind]).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return directory


def save_for_another_library(directory: Path, config_name: str, document: dict[str, Any], weights_name: str,
                             tensors: dict[str, torch.Tensor]) -> Path:
    """Write a folder in another library's layout (`peer_export`, `peft_lora`): a JSON config and safetensors weights."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / config_name).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(directory / weights_name))
    return directory


def read_description(directory: str | Path, kind: str, facts: ModelFacts) -> dict[str, Any]:
    """The folder's description, after checking it holds a `kind` made for a model shaped like `facts`."""
    directory = Path(directory)
    path = directory / DESCRIPTION_FILES[kind]
    if not path.is_file():
        hint = ""
        if (directory / "adapter_config.json").is_file():
            hint = " It looks like an `adapters`-library adapter: use import_peer_adapter() instead."
        raise XadaptError(f"{directory} is not a saved xadapt {kind} (no {DESCRIPTION_FILES[kind]}).{hint}")
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise XadaptError(f"cannot read {path}: {err}") from err
    if document.get("format") != FORMAT or document.get("kind") != kind:
        raise XadaptError(f"{path} does not describe an xadapt {kind}")
    if document.get("format_version") != FORMAT_VERSION:
        raise XadaptError(
            f"{path} has format version {document.get('format_version')}; this xadapt reads version {FORMAT_VERSION}"
        )
    check_base_model(document.get("base_model") or {}, facts, str(directory))
    return document


def check_base_model(saved: dict[str, Any], facts: ModelFacts, what: str) -> None:
    """Fail when `what` was made for a model of another shape; warn when only the name differs."""
    problems = facts.mismatches(saved)
    if problems:
        raise XadaptError(
            f"{what} was saved for another base model ({saved.get('name') or 'unnamed'}): "
            + "; ".join(problems)
            + ". Load it onto the model it was trained with."
        )
    if saved.get("name") and facts.name and Path(saved["name"]).name != Path(facts.name).name:
        warnings.warn(
            f"{what} was saved for base model {saved['name']!r}; loading it onto {facts.name!r} of the same shape",
            stacklevel=3,
        )


def read_weights(directory: str | Path) -> dict[str, torch.Tensor]:
    """The folder's safetensors weights; pickled weight files are refused, not loaded."""
    directory = Path(directory)
    path = directory / WEIGHTS_FILE
    if not path.is_file():
        pickles = sorted(p.name for p in directory.glob("*") if p.suffix in PICKLE_SUFFIXES)
        if pickles:
            raise XadaptError(
                f"{directory} has pickled weights {pickles} and no {WEIGHTS_FILE}; xadapt refuses to unpickle files "
                "(they can run code). Re-save them as safetensors."
            )
        raise XadaptError(f"{directory} has no {WEIGHTS_FILE}")
    return read_safetensors(path)


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file onto the CPU, turning a corrupt or non-safetensors file into a clear error."""
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as err:
        raise XadaptError(f"{path} is not a readable safetensors file ({err}); xadapt loads no other format") from err


def load_strict(module: nn.Module, tensors: dict[str, torch.Tensor], what: str) -> None:
    """Copy `tensors` into `module`, requiring exactly its parameter names and shapes."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = sorted(
        f"{k}: file {tuple(tensors[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(expected) & set(tensors)
        if tensors[k].shape != expected[k].shape
    )
    if missing or unexpected or wrong:
        details = [
            f"{label}: {items[:5]}{' ...' if len(items) > 5 else ''}"
            for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if items
        ]
        raise XadaptError(f"{what} does not fit this model ({'; '.join(details)})")
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})


def read_checkpoint_tensors(path: str | Path, prefix: str) -> dict[str, torch.Tensor]:
    """Tensors whose names start with `prefix` from a transformers checkpoint (directory or .safetensors file).

    Reads only the needed tensors (and only the needed shards of a sharded checkpoint).
    """
    path = Path(path)
    if path.is_file():
        files = [path]
    elif (path / "model.safetensors").is_file():
        files = [path / "model.safetensors"]
    elif (path / "model.safetensors.index.json").is_file():
        weight_map = json.loads((path / "model.safetensors.index.json").read_text()).get("weight_map", {})
        files = sorted({path / f for k, f in weight_map.items() if k.startswith(prefix)})
    else:
        raise XadaptError(f"{path} has no model.safetensors (xadapt reads checkpoints as safetensors only)")
    tensors = {}
    for file in files:
        try:
            with safe_open(str(file), framework="pt", device="cpu") as handle:
                for key in handle.keys():
                    if key.startswith(prefix):
                        tensors[key] = handle.get_tensor(key)
        except (SafetensorError, OSError) as err:
            raise XadaptError(f"cannot read {file} as safetensors: {err}") from err
    return tensors
