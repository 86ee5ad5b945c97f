"""Fetch a split from the Hugging Face hub and translate it into xadapt's standard columns.

Only used when the user allows it and no local copy exists. Hub copies name their columns and
order their labels their own way (``ner_tags``, ``category``, ClassLabel names in another order),
so labels are matched by *name* to the task's label list, never by position alone.
"""

from collections.abc import Callable, Sequence

import datasets

from xadapt.data.readers import Columns
from xadapt.data.registry import HubRef, TaskSpec
from xadapt.errors import XadaptError

_LABEL_COLUMNS = ("label", "tags")


def load_hub_columns(spec: TaskSpec, ref: HubRef) -> Columns:
    """Download ``ref`` and return the task's standard columns, labels as indices into ``spec.labels``."""
    try:
        hub = datasets.load_dataset(ref.id, ref.config, split=ref.split)
    except Exception as err:  # noqa: BLE001 - network, auth and missing-config errors mean the same to a user
        raise XadaptError(
            f"could not load {ref.id} (config {ref.config!r}, split {ref.split!r}) from the Hugging Face hub: "
            f"{err}. Check the network connection, or put a local copy under the data directory's {spec.root}/."
        ) from err
    missing = [column for column in spec.columns.values() if column not in hub.column_names]
    if missing:
        raise XadaptError(f"{ref.id} ({ref.config}) has no column(s) {', '.join(missing)}; found {hub.column_names}.")
    columns: Columns = {}
    for name, hub_name in spec.columns.items():
        values = list(hub[hub_name])
        if name not in _LABEL_COLUMNS:
            columns[name] = values
            continue
        feature = hub.features[hub_name]
        if name == "tags":
            to_index = _label_mapper(spec.labels, getattr(feature, "feature", None), ref)
            columns[name] = [[to_index(tag) for tag in row] for row in values]
        else:
            to_index = _label_mapper(spec.labels, feature, ref)
            columns[name] = [to_index(value) for value in values]
    return columns


def _label_mapper(labels: Sequence[str], feature: object, ref: HubRef) -> Callable[[int | str], int]:
    """A function from the hub's label values (ClassLabel ints, strings or plain ints) to our indices."""
    names = feature.names if isinstance(feature, datasets.ClassLabel) else None
    if names is not None:
        unknown = [name for name in names if name not in labels]
        if unknown:
            raise XadaptError(f"{ref.id} ({ref.config}) uses labels {unknown} that are not in {list(labels)}.")

    def to_index(value: int | str) -> int:
        if value is None or value == -1:
            raise XadaptError(
                f"{ref.id} ({ref.config}) {ref.split} has no gold labels (the hub hides them); evaluate on dev instead."
            )
        if isinstance(value, str):
            if value not in labels:
                raise XadaptError(f"{ref.id} ({ref.config}) has label {value!r}, not one of {list(labels)}.")
            return labels.index(value)
        if names is not None:
            return labels.index(names[value])
        if not 0 <= value < len(labels):
            raise XadaptError(f"{ref.id} ({ref.config}) has label {value}, outside 0..{len(labels) - 1}.")
        return value

    return to_index
