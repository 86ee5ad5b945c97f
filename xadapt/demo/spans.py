"""From raw text to words, and from per-word BIO tags back to highlighted spans of that text.

Words are cut like the NER benchmarks' tokens (runs of letters and digits, with inner apostrophes
and hyphens as in Swahili "ng'ombe"; each punctuation mark alone; each CJK character alone), so a
sentence typed on the page looks to the model like the training data did.
"""

import re
from dataclasses import dataclass

_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|\w+(?:['’-]\w+)*|[^\w\s]")


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    end: int


def split_words(text: str) -> list[Word]:
    return [Word(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def entity_spans(text: str, words: list[Word], tags: list[str | None]) -> list[tuple[str, str | None]]:
    """`text` cut into (piece, entity type or None) pieces that together give back `text`.

    BIO tags are merged as seqeval does by default: an entity starts at `B-X`, or at an `I-X` that
    does not continue an `X`, and runs over the following `I-X`. A word tagged None (not read by
    the model) belongs to no entity.
    """
    entities: list[tuple[int, int, str]] = []  # start, end, type
    open_kind = None  # the type of the entity the previous word belongs to
    for word, tag in zip(words, tags):
        prefix, _, kind = (tag or "O").partition("-")
        if prefix == "I" and kind == open_kind:
            entities[-1] = (entities[-1][0], word.end, kind)
        elif prefix in ("B", "I") and kind:
            entities.append((word.start, word.end, kind))
        else:
            kind = None
        open_kind = kind
    pieces: list[tuple[str, str | None]] = []
    cursor = 0
    for start, end, kind in entities:
        if start > cursor:
            pieces.append((text[cursor:start], None))
        pieces.append((text[start:end], kind))
        cursor = end
    if cursor < len(text):
        pieces.append((text[cursor:], None))
    return pieces
