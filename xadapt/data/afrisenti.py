"""AfriSenti (SemEval-2023 Task 12, Subtask A): tweet sentiment, positive / neutral / negative.

Local layout: ``afrisenti/SubtaskA/<split>/<code>_<split>.tsv`` (header ``ID<TAB>tweet<TAB>label``);
only Swahili is on disk. The split folder and file say ``dev`` where the hub says ``validation``.
"""

from functools import partial

from xadapt.data.readers import count_rows, read_labelled_tsv
from xadapt.data.registry import SPLITS, LocalSource, TaskSpec, register

LABELS = ["positive", "neutral", "negative"]

_read = partial(
    read_labelled_tsv,
    fields=("ID", "tweet", "label"),
    columns={"text": "tweet", "label": "label"},
    labels=LABELS,
    header=True,
)


def _source(split: str) -> LocalSource:
    return LocalSource(
        f"afrisenti/SubtaskA/{split}/{{lang}}_{split}.tsv", read=_read, count=partial(count_rows, header=True)
    )


SPEC = register(
    TaskSpec(
        name="afrisenti",
        title="AfriSenti",
        head="sequence_classification",
        labels=LABELS,
        metric="accuracy",
        root="afrisenti",
        columns={"text": "tweet", "label": "label"},
        sources={split: (_source(split),) for split in SPLITS},
        hub_id="shmuhammad/AfriSenti-twitter-sentiment",
        hub_configs={"am": "amh", "ha": "hau", "ig": "ibo", "pcm": "pcm", "sw": "swa", "tw": "twi", "yo": "yor"},
        aliases=("sentiment",),
    )
)
