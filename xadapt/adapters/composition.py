"""Compositions as data (`Stack`, `Fuse`) and the per-call choice of which one is active.

A composition names adapters, so it is tiny, hashable and serialisable (`to_data` / `from_data`).
Which composition a call uses is never stored on the model: it is passed to the forward call or
set for a block of code with a context manager backed by a `contextvars.ContextVar`. Each thread
(and each asyncio task) sees its own value, so a server can answer concurrent requests with
different compositions on one shared model.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from xadapt.errors import XadaptError


@dataclass(frozen=True, init=False)
class Fuse:
    """AdapterFusion (Pfeiffer et al. 2021) over bottleneck adapters; needs a fusion layer added for these names."""

    children: tuple[str, ...]

    def __init__(self, *children: str):
        if len(children) < 2 or not all(isinstance(c, str) for c in children):
            raise XadaptError(f"Fuse needs at least two adapter names, got {children!r}")
        if len(set(children)) != len(children):
            raise XadaptError(f"Fuse lists an adapter twice: {children!r}")
        object.__setattr__(self, "children", tuple(children))

    @property
    def name(self) -> str:
        """The fusion layer's name, as in the `adapters` library: the adapter names joined by commas."""
        return ",".join(self.children)


@dataclass(frozen=True, init=False)
class Stack:
    """Adapters applied one after the other in every layer (MAD-X: `Stack(language, task)`)."""

    children: tuple[str | Fuse, ...]

    def __init__(self, *children: str | Fuse):
        if not children or not all(isinstance(c, (str, Fuse)) for c in children):
            raise XadaptError(f"Stack takes adapter names or Fuse blocks, got {children!r}")
        names = [n for c in children for n in _names(c)]
        if len(set(names)) != len(names):
            raise XadaptError(f"Stack lists an adapter twice: {children!r}")
        object.__setattr__(self, "children", tuple(children))


Composition = str | Stack | Fuse


def _names(element: str | Fuse) -> tuple[str, ...]:
    return (element,) if isinstance(element, str) else element.children


def flatten(composition: Composition | None) -> tuple[str, ...]:
    """All adapter names in a composition, in order (the first is the one whose invertible adapter runs)."""
    if composition is None:
        return ()
    return tuple(n for c in as_stack(composition) for n in _names(c))


def as_stack(composition: Composition) -> tuple[str | Fuse, ...]:
    """The composition as a sequence of stack elements (a single name or Fuse is a one-element stack)."""
    return composition.children if isinstance(composition, Stack) else (composition,)


def to_data(composition: Composition | None) -> Any:
    """JSON-ready form: a name, {"stack": [...]} or {"fuse": [...]}."""
    if composition is None or isinstance(composition, str):
        return composition
    if isinstance(composition, Fuse):
        return {"fuse": list(composition.children)}
    return {"stack": [to_data(c) for c in composition.children]}


def from_data(data: Any) -> Composition | None:
    """Inverse of `to_data`."""
    if data is None or isinstance(data, str):
        return data
    if isinstance(data, Mapping) and set(data) == {"fuse"}:
        return Fuse(*data["fuse"])
    if isinstance(data, Mapping) and set(data) == {"stack"}:
        return Stack(*[from_data(c) for c in data["stack"]])
    raise XadaptError(f"cannot read composition {data!r}; expected a name, {{'stack': [...]}} or {{'fuse': [...]}}")


# owner token -> composition, for every model that has an `active(...)` block open in this context.
_ACTIVE: contextvars.ContextVar[Mapping[object, Composition | None]] = contextvars.ContextVar(
    "xadapt_active_compositions", default=MappingProxyType({})
)


@contextmanager
def activate(owner: object, composition: Composition | None) -> Iterator[None]:
    """Make `composition` the default for `owner`'s calls inside the block (this thread/task only)."""
    current = dict(_ACTIVE.get())
    current[owner] = composition
    token = _ACTIVE.set(MappingProxyType(current))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active_composition(owner: object) -> Composition | None:
    """The composition set by the innermost open `activate` block for `owner`, or None."""
    return _ACTIVE.get().get(owner)
