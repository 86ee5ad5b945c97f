"""The one table of adapter methods: name -> (config dataclass, module class).

Adding a method means writing a module with a config dataclass and an `AdapterModule` subclass,
adding one row here and a preset in `configs/adapters/<name>.yaml`; the parametrised tests in
`tests/adapters/` pick it up from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from xadapt.adapters.base import AdapterModule
from xadapt.adapters.bottleneck import (
    BottleneckAdapter,
    DoubleSeqBnConfig,
    ParBnConfig,
    ScaledParBnConfig,
    SeqBnConfig,
)
from xadapt.adapters.config import AdapterConfig, ModelFacts
from xadapt.adapters.invertible import InvertibleBottleneckAdapter, SeqBnInvConfig
from xadapt.adapters.lora import LoRAAdapter, LoRAConfig
from xadapt.adapters.prefix import MAMAdapter, MAMConfig, PrefixAdapter, PrefixConfig
from xadapt.errors import XadaptError


@dataclass(frozen=True)
class Method:
    """A registered method; `identity_at_init` says whether a fresh adapter leaves outputs unchanged."""

    config_class: type[AdapterConfig]
    module_class: type[AdapterModule]
    summary: str  # one line, for listings (`xadapt methods`)
    identity_at_init: bool = True


METHODS: dict[str, Method] = {
    "seq_bn": Method(SeqBnConfig, BottleneckAdapter, "Pfeiffer bottleneck adapter after each feed-forward block"),
    "double_seq_bn": Method(DoubleSeqBnConfig, BottleneckAdapter, "Houlsby: bottleneck adapters after attention and after the feed-forward block"),
    "par_bn": Method(ParBnConfig, BottleneckAdapter, "parallel adapter beside each feed-forward block, fixed scale 4 (He et al. 2022)"),
    "scaled_par_bn": Method(ScaledParBnConfig, BottleneckAdapter, "parallel adapter with a learned scale (He et al. 2022)"),
    "seq_bn_inv": Method(SeqBnInvConfig, InvertibleBottleneckAdapter, "bottleneck adapter plus an invertible adapter on the embeddings (MAD-X's language adapters)"),
    "lora": Method(LoRAConfig, LoRAAdapter, "LoRA on the attention query and value projections"),
    "prefix": Method(PrefixConfig, PrefixAdapter, "prefix tuning with its reparametrising MLP", identity_at_init=False),
    "mam": Method(MAMConfig, MAMAdapter, "mix-and-match: prefix tuning plus a scaled parallel adapter (He et al. 2022)", identity_at_init=False),
}


def method(name: str) -> Method:
    """The registered method `name`, or an error listing the known ones."""
    if name not in METHODS:
        raise XadaptError(f"unknown adapter method {name!r}; known methods: {sorted(METHODS)}")
    return METHODS[name]


def make_config(name: str, **options: Any) -> AdapterConfig:
    """The config of method `name` with its defaults, changed by `options` (nested dicts for `mam`)."""
    return config_from_dict({"method": name, **options})


def config_from_dict(data: dict[str, Any]) -> AdapterConfig:
    """Rebuild a config from `AdapterConfig.to_dict()` output (or a preset YAML's mapping)."""
    return method(str(data.get("method"))).config_class.from_dict(data)


def build_adapter(config: AdapterConfig, facts: ModelFacts) -> AdapterModule:
    """A fresh adapter module for `config` on a model described by `facts`."""
    return method(config.method).module_class(config, facts)


def load_config_file(path: str | Path) -> AdapterConfig:
    """Read a preset YAML (as in `configs/adapters/`) into its method's config dataclass."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise XadaptError(f"cannot read adapter config {path}: {err}") from err
    if not isinstance(data, dict) or "method" not in data:
        raise XadaptError(f"{path} must be a YAML mapping with a 'method' key naming an adapter method")
    return config_from_dict(data)
