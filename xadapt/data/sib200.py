"""SIB-200: topic classification of FLORES-200 sentences, 7 topics, the same 701/99/204 split in
every language (rows line up across languages through ``index_id``).

Local layout: ``sib200/data/annotated/<flores code>/{train,dev,test}.tsv``, header
``index_id<TAB>category<TAB>text``.
"""

from functools import partial

from xadapt.data.readers import count_rows, read_labelled_tsv
from xadapt.data.registry import SPLITS, LocalSource, TaskSpec, register

LABELS = ["science/technology", "travel", "politics", "sports", "health", "entertainment", "geography"]

_read = partial(
    read_labelled_tsv,
    fields=("index_id", "category", "text"),
    columns={"text": "text", "label": "category"},
    labels=LABELS,
    header=True,
)


def _source(split: str) -> LocalSource:
    return LocalSource(
        f"sib200/data/annotated/{{lang}}/{split}.tsv",
        read=_read,
        count=partial(count_rows, header=True),
        style="flores",
    )


SPEC = register(
    TaskSpec(
        name="sib200",
        title="SIB-200",
        head="sequence_classification",
        labels=LABELS,
        metric="accuracy",
        root="sib200",
        columns={"text": "text", "label": "category"},
        sources={split: (_source(split),) for split in SPLITS},
        hub_id="Davlan/sib200",
        # the hub copy has all 205 FLORES languages, configs named by FLORES code
        hub_configs={},
        hub_config_style="flores",
        aliases=("topic",),
    )
)
