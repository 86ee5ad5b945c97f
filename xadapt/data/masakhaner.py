"""MasakhaNER (news NER for African languages): PER, ORG, LOC, DATE in IOB2.

Two versions are registered, because they are different datasets with different splits:
``masakhaner`` is MasakhaNER 2.0 (20 languages, the one to use) and ``masakhaner1`` is 1.0 (10
languages, the only one with Amharic). Local layout:
``masakhaner/MasakhaNER{2.0,1.0}/data/<iso3>/{train,dev,test}.txt``, ``token<SPACE>tag``.
There is no English MasakhaNER: its authors' English source (CoNLL-2003) is not redistributable.
"""

from functools import partial

from xadapt.data.readers import count_conll, read_conll
from xadapt.data.registry import SPLITS, LocalSource, TaskSpec, register
from xadapt.languages import get_language

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE"]


def _source(version: str, split: str) -> LocalSource:
    return LocalSource(
        f"masakhaner/MasakhaNER{version}/data/{{lang}}/{split}.txt",
        read=partial(read_conll, labels=LABELS, sep=" "),
        count=count_conll,
        style="iso3",
    )


def _spec(name: str, version: str, hub_id: str, hub_langs: str) -> TaskSpec:
    """Both versions share everything but the folder and the hub dataset (configs are ISO 639-3)."""
    return TaskSpec(
        name=name,
        title=f"MasakhaNER {version}",
        head="token_classification",
        labels=LABELS,
        metric="seqeval_f1",
        root="masakhaner",
        columns={"tokens": "tokens", "tags": "ner_tags"},
        sources={split: (_source(version, split),) for split in SPLITS},
        hub_id=hub_id,
        hub_configs={code: get_language(code).iso3 for code in hub_langs.split()},
    )


SPEC = register(
    _spec(
        "masakhaner",
        "2.0",
        "masakhane/masakhaner2",
        "bm bbj ee fon ha ig lg luo mos ny pcm sn sw tn tw wo xh yo zu",
    )
)
SPEC_V1 = register(_spec("masakhaner1", "1.0", "masakhane/masakhaner", "am ha ig lg luo pcm sw wo yo"))
