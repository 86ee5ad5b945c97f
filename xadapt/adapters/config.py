"""The shared base of every adapter method's configuration, and the base model facts adapters depend on.

Each method module declares one dataclass deriving from `AdapterConfig`. Fields carry their help
text in `metadata["help"]` so that presets, the CLI and error messages can explain them; a
subclass that only changes a default redeclares the field with a plain default and inherits
the help from its base (see `field_help`). Validation runs in `__post_init__` and raises
`XadaptError`, because configs come from users (YAML presets, CLI flags, imported files).
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

from xadapt.errors import XadaptError

# The non-linearities adapters accept; the names are transformers' ACT2FN keys, which is also what
# the `adapters` library resolves them with, so imported adapters compute the same function.
NON_LINEARITIES = ("relu", "gelu", "swish", "silu", "tanh", "gelu_new", "leakyrelu")


def option(default: Any, help: str, **metadata: Any) -> Any:
    """A dataclass field with a default and a help string, plus any further `metadata` (a study setting's
    `choices`, its command-line `example`). A mutable default (a nested config or other dataclass, a list,
    a dict) is copied per instance."""
    metadata = {"help": help, **metadata}
    if isinstance(default, (list, dict, set)) or (dataclasses.is_dataclass(default) and not isinstance(default, type)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def field_help(cls: type, name: str) -> str:
    """The help string of field `name`, looked up through the class hierarchy (overrides may omit it)."""
    for klass in cls.__mro__:
        own = klass.__dict__.get("__dataclass_fields__", {})
        if name in own and own[name].metadata.get("help"):
            return own[name].metadata["help"]
    raise KeyError(f"{cls.__name__}.{name} has no help text")


@dataclass
class AdapterConfig:
    """Base of all method configs: a registry name plus dict/YAML round-tripping with checked keys.

    `method` is the name the method is registered under (fusion layers use "fuse").
    """

    method: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            setattr(self, f.name, _coerce(self.method, f.name, getattr(self, f.name), hints[f.name]))
        self.validate()

    def validate(self) -> None:
        """Raise `XadaptError` for values that cannot build a working adapter; subclasses extend this."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON/YAML-ready dict that starts with the method name, nested configs included."""
        out: dict[str, Any] = {"method": self.method}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, AdapterConfig):
                value = {k: v for k, v in value.to_dict().items() if k != "method"}
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdapterConfig:
        """Build the config from a dict, refusing unknown keys and a method name that is not ours."""
        data = dict(data)
        method = data.pop("method", cls.method)
        if method != cls.method:
            raise XadaptError(f"config says method {method!r} but {cls.__name__} is for {cls.method!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise XadaptError(f"unknown option(s) {unknown} for adapter method {cls.method!r}; known: {sorted(names)}")
        return cls(**data)

    def replace(self, **changes: Any) -> AdapterConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _coerce(method: str, name: str, value: Any, hint: Any) -> Any:
    """`value` checked against the field's type hint: lists become tuples, dicts become nested configs.

    Configs arrive from YAML and JSON, so a wrong type is a user error that deserves a message
    naming the option, not a TypeError from deep inside validation.
    """
    kinds = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for kind in kinds:
        if kind is type(None):
            if value is None:
                return value
        elif isinstance(kind, type) and issubclass(kind, AdapterConfig):
            if isinstance(value, kind):
                return value
            if isinstance(value, dict):
                return kind.from_dict(value)
        elif typing.get_origin(kind) is tuple:
            item = typing.get_args(kind)[0]
            if isinstance(value, (list, tuple)) and all(_is_a(v, item) for v in value):
                return tuple(value)
        elif _is_a(value, kind):
            return value
    described = " or ".join(
        "a list of " + typing.get_args(k)[0].__name__
        if typing.get_origin(k) is tuple
        else ("None" if k is type(None) else k.__name__)
        for k in kinds
    )
    raise XadaptError(f"option {name!r} of {method!r} must be {described}, got {value!r}")


def _is_a(value: Any, kind: type) -> bool:
    """isinstance, except that a bool is not a number and an int is a float."""
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def check_non_linearity(name: str) -> None:
    """Refuse activation names the adapter layers cannot build."""
    if name not in NON_LINEARITIES:
        raise XadaptError(f"unknown non_linearity {name!r}; choose one of {list(NON_LINEARITIES)}")


def check_layers(leave_out: tuple[int, ...]) -> None:
    """Layer indices to leave out must be non-negative integers."""
    if not all(isinstance(i, int) and i >= 0 for i in leave_out):
        raise XadaptError(f"leave_out must list layer indices (integers >= 0), got {list(leave_out)}")


@dataclass(frozen=True)
class ModelFacts:
    """What an adapter, fusion layer or head depends on in its base model.

    Saved next to every component so that loading it onto a model of another shape fails with a
    clear message instead of a cryptic size mismatch deep inside torch.
    """

    name: str
    model_type: str
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    vocab_size: int

    SHAPE_KEYS: ClassVar[tuple[str, ...]] = (
        "model_type",
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "vocab_size",
    )

    @classmethod
    def from_config(cls, config: Any) -> ModelFacts:
        """Read the facts from a transformers config."""
        return cls(
            name=str(getattr(config, "_name_or_path", "") or ""),
            model_type=config.model_type,
            hidden_size=config.hidden_size,
            num_hidden_layers=config.num_hidden_layers,
            num_attention_heads=config.num_attention_heads,
            vocab_size=config.vocab_size,
        )

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def mismatches(self, saved: dict[str, Any]) -> list[str]:
        """Human-readable differences in shape facts between `saved` and this model."""
        return [
            f"{key}: saved for {saved.get(key)!r}, this model has {getattr(self, key)!r}"
            for key in self.SHAPE_KEYS
            if saved.get(key) != getattr(self, key)
        ]
