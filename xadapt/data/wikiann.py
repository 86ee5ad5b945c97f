"""WikiANN / PAN-X NER with the Rahimi et al. (2019) splits: PER, ORG, LOC in IOB2.

Two local copies, preferred in this order:
- ``wikiann/xtreme_panx/{train,dev}-<code>.tsv`` (``token<TAB>tag``), 14 languages. Its
  ``test-*.tsv`` files have no labels (XTREME strips them), so they are never a test source.
- ``wikiann/masakhaner_transfer_corpus_panx/<iso3>/{train,dev,test}.txt`` (``token<SPACE>tag``):
  the same splits for amh, ibo, swa, yor, *with* labelled test sets. This is where sw and yo test
  labels come from; every other language evaluates on dev (`resolve_eval_split` says so).
"""

from functools import partial

from xadapt.data.readers import count_conll, read_conll
from xadapt.data.registry import LocalSource, TaskSpec, register

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]

# languages of our table that the hub copy (all 176 Rahimi languages) has, by its config names
_HUB_LANGS = (
    "am ar bg de el en es et fr gn hi id ig ilo is it jv mi my qu ru so sw ta th tr ur vi yo zh"
).split()


def _xtreme(split: str) -> LocalSource:
    return LocalSource(
        f"wikiann/xtreme_panx/{split}-{{lang}}.tsv",
        read=partial(read_conll, labels=LABELS, sep="\t"),
        count=count_conll,
    )


def _masakhane(split: str) -> LocalSource:
    return LocalSource(
        f"wikiann/masakhaner_transfer_corpus_panx/{{lang}}/{split}.txt",
        read=partial(read_conll, labels=LABELS, sep=" "),
        count=count_conll,
        style="iso3",
    )


SPEC = register(
    TaskSpec(
        name="wikiann",
        title="WikiANN",
        head="token_classification",
        labels=LABELS,
        metric="seqeval_f1",
        root="wikiann",
        columns={"tokens": "tokens", "tags": "ner_tags"},
        sources={
            "train": (_xtreme("train"), _masakhane("train")),
            "dev": (_xtreme("dev"), _masakhane("dev")),
            "test": (_masakhane("test"),),
        },
        hub_id="unimelb-nlp/wikiann",
        hub_configs={code: code for code in _HUB_LANGS},
        aliases=("ner", "panx"),
    )
)
