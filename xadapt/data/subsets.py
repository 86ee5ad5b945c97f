"""Deterministic, nested training subsets for learning curves.

For a seed, every subset is a prefix of one ordering of the split, so the 100-example subset is
inside the 300, which is inside the 1000: a learning curve then measures "more data", not "other
data". For classification the ordering is stratified so that *every* prefix keeps the label
proportions of the full split (each label's count is within one example of its exact share);
NER subsets are plain nested random samples.
"""

from collections.abc import Hashable, Iterable

import datasets
import numpy as np

from xadapt.errors import XadaptError


def nested_subsets(
    ds: datasets.Dataset, sizes: Iterable[int], seed: int = 0, stratify_column: str | None = None
) -> dict[int, datasets.Dataset]:
    """Subsets of ``ds`` keyed by size, each contained in every larger one."""
    sizes = sorted(set(sizes))
    if not sizes:
        raise XadaptError("no subset sizes given; pass sizes such as 100 300 1000.")
    if sizes[0] < 1:
        raise XadaptError(f"subset sizes must be positive, got {sizes[0]}.")
    if sizes[-1] > len(ds):
        raise XadaptError(
            f"cannot draw a {sizes[-1]}-example subset: the split has only {len(ds)} examples. "
            f"Use sizes up to {len(ds)}."
        )
    if stratify_column is not None and stratify_column not in ds.column_names:
        raise XadaptError(f"cannot stratify on {stratify_column!r}: the columns are {', '.join(ds.column_names)}.")
    rng = np.random.default_rng(seed)
    if stratify_column is None:
        order = rng.permutation(len(ds))
    else:
        order = stratified_order(list(ds[stratify_column]), rng)
    return {size: ds.select(order[:size].tolist()) for size in sizes}


def stratified_order(labels: list[Hashable], rng: np.random.Generator) -> np.ndarray:
    """An ordering of indices whose every prefix has (almost exactly) the labels' proportions.

    Each label's indices are shuffled; then, position by position, the next index comes from the
    label furthest below its share of the prefix so far (ties go to the label seen first in sorted
    order, so the result depends only on the data and the seed).
    """
    values = sorted(set(labels), key=repr)
    pools = {value: rng.permutation([i for i, label in enumerate(labels) if label == value]) for value in values}
    counts = np.array([len(pools[value]) for value in values])
    shares = counts / len(labels)
    taken = np.zeros(len(values), dtype=int)
    order = np.empty(len(labels), dtype=int)
    for position in range(len(labels)):
        deficit = shares * (position + 1) - taken
        deficit[taken >= counts] = -np.inf  # a used-up label; its deficit is already <= 0, this guards rounding
        pick = int(np.argmax(deficit))
        order[position] = pools[values[pick]][taken[pick]]
        taken[pick] += 1
    return order
