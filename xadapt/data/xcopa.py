"""XCOPA: causal commonsense reasoning, pick the more plausible of two choices (label 0 or 1).

XCOPA has only val (100) and test (500) per language, so English COPA (400 train / 100 val, the
data XCOPA translates) is the training set. Local layout: ``xcopa/data/<code>/{val,test}.<code>.jsonl``
and ``xcopa/copa_en_xtreme/{train,val}-en.jsonl``. There is no English test: XTREME zeroes its
labels, so it was not copied, and SuperGLUE hides them on the hub.
"""

from functools import partial
from pathlib import Path

from xadapt.data.readers import Columns, count_rows, malformed, read_jsonl
from xadapt.data.registry import LocalSource, TaskSpec, register

LABELS = ["choice1", "choice2"]
_TEXT_FIELDS = ("premise", "choice1", "choice2", "question")
_QUESTIONS = ("cause", "effect")


def _read(path: Path) -> Columns:
    """Rows of an (X)COPA JSON Lines file; ``label`` must be 0 or 1 and ``question`` cause or effect."""
    columns: Columns = {name: [] for name in (*_TEXT_FIELDS, "label")}
    for lineno, row in read_jsonl(path, (*_TEXT_FIELDS, "label")):
        if row["label"] not in (0, 1) or isinstance(row["label"], bool):
            raise malformed(path, lineno, f"label must be 0 or 1, found {row['label']!r}")
        if row["question"] not in _QUESTIONS:
            raise malformed(path, lineno, f"question must be 'cause' or 'effect', found {row['question']!r}")
        for name in _TEXT_FIELDS:
            columns[name].append(str(row[name]))
        columns["label"].append(row["label"])
    return columns


def _source(template: str, **kwargs) -> LocalSource:
    return LocalSource(template, read=_read, count=partial(count_rows, header=False), **kwargs)


_EN = frozenset({"en"})

SPEC = register(
    TaskSpec(
        name="xcopa",
        title="XCOPA",
        head="multiple_choice",
        labels=LABELS,
        metric="accuracy",
        root="xcopa",
        columns={name: name for name in (*_TEXT_FIELDS, "label")},
        sources={
            "train": (_source("xcopa/copa_en_xtreme/train-{lang}.jsonl", only=_EN),),
            "dev": (_source("xcopa/data/{lang}/val.{lang}.jsonl"), _source("xcopa/copa_en_xtreme/val-{lang}.jsonl")),
            "test": (_source("xcopa/data/{lang}/test.{lang}.jsonl", exclude=_EN),),
        },
        hub_id="cambridgeltl/xcopa",
        hub_configs={**{code: code for code in "et ht id it qu sw ta th tr vi zh".split()}, "en": "copa"},
        hub_ids={"en": "aps/super_glue"},
        aliases=("copa",),
    )
)
