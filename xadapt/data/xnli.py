"""XNLI: natural language inference, entailment / neutral / contradiction, 9 languages on disk.

The local copy is XTREME's (``xnli/xtreme_xnli/{dev,test}-<code>.tsv``, no header), which has
two traps this module handles:
- There is no training set. The 2490 labelled English dev pairs are the (small) English training
  set, so English has ``train`` and no ``dev``; every other language has ``dev`` and no ``train``.
- Test files have no labels. The files are line-parallel across languages, and row *i* of
  ``xnli/xnli_en_with_labels/xnli.test - english.csv`` (XNLI-1.0's English test rows) holds the
  gold label of line *i* in every ``test-<code>.tsv``, so test labels are recovered by row index.
"""

from functools import partial
from pathlib import Path

from xadapt.data.readers import Columns, count_rows, label_index, read_csv_column, read_labelled_tsv
from xadapt.data.registry import LocalSource, TaskSpec, register
from xadapt.errors import XadaptError

LABELS = ["entailment", "neutral", "contradiction"]
TEST_LABELS_CSV = "xnli/xnli_en_with_labels/xnli.test - english.csv"

_read_dev = partial(
    read_labelled_tsv,
    fields=("premise", "hypothesis", "label"),
    columns={"text": "premise", "text_pair": "hypothesis", "label": "label"},
    labels=LABELS,
    header=False,
)


def _read_test(path: Path, labels_csv: Path) -> Columns:
    """Unlabelled test pairs plus the gold labels of the same rows in the English label CSV."""
    columns = read_labelled_tsv(
        path,
        fields=("premise", "hypothesis"),
        columns={"text": "premise", "text_pair": "hypothesis"},
        labels=LABELS,
        header=False,
    )
    gold = read_csv_column(labels_csv, "gold_label")
    if len(gold) != len(columns["text"]):
        raise XadaptError(
            f"{path} has {len(columns['text'])} rows but {labels_csv} has {len(gold)} labels; test labels are "
            "recovered by row index, so both must come from the same XNLI-1.0 test set."
        )
    columns["label"] = [label_index(value, LABELS, labels_csv, lineno) for lineno, value in gold]
    return columns


_DEV_FILE = "xnli/xtreme_xnli/dev-{lang}.tsv"
_count = partial(count_rows, header=False)
_EN = frozenset({"en"})

SPEC = register(
    TaskSpec(
        name="xnli",
        title="XNLI",
        head="sequence_classification",
        labels=LABELS,
        metric="accuracy",
        root="xnli",
        columns={"text": "premise", "text_pair": "hypothesis", "label": "label"},
        sources={
            "train": (LocalSource(_DEV_FILE, read=_read_dev, count=_count, only=_EN),),
            "dev": (LocalSource(_DEV_FILE, read=_read_dev, count=_count, exclude=_EN),),
            "test": (
                LocalSource(
                    "xnli/xtreme_xnli/test-{lang}.tsv", read=_read_test, count=_count, requires=(TEST_LABELS_CSV,)
                ),
            ),
        },
        hub_id="facebook/xnli",
        hub_configs={code: code for code in "ar bg de el en es fr hi ru sw th tr ur vi zh".split()},
        # the hub's train split is 393k machine-translated MultiNLI pairs, not the English dev set used here
        hub_splits={"train": "validation", "dev": "validation", "test": "test"},
        aliases=("nli",),
    )
)
