"""Raw monolingual text for masked-LM language-adapter training, with a held-out slice for perplexity.

Local layout (``raw_text/SOURCE.md``): ``raw_text/<iso3>/<source>/<file>``, one sentence or
paragraph per line; every text file under a language folder is used, README and licence files are
not. The held-out slice is chosen by a hash of each line's text, not by position or a random
draw, so it is the same on every machine and run, it does not depend on file order, and a line
that occurs twice (the two Swahili VOA corpora share some) can never sit on both sides.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from xadapt.data.readers import iter_lines
from xadapt.data.registry import CORPUS_ROOT, DataDir, find_data_dir
from xadapt.errors import XadaptError
from xadapt.languages import get_language, language_of_spelling

_NOT_TEXT = ("readme", "license", "licence")


@dataclass(frozen=True)
class Corpus:
    """Training lines, held-out lines (never in ``train``), and the files they came from."""

    train: list[str]
    heldout: list[str]
    sources: list[Path]


def corpus_files(lang: str, data_dir: DataDir = None) -> list[Path]:
    """The text files of ``lang`` under ``raw_text/``, sorted so the line order is reproducible."""
    folder = find_data_dir(data_dir) / CORPUS_ROOT / get_language(lang).iso3
    if not folder.is_dir():
        return []
    return sorted(
        path for path in folder.rglob("*") if path.is_file() and not path.name.lower().startswith(_NOT_TEXT)
    )


def corpus_languages(data_dir: DataDir = None) -> list[str]:
    """Canonical codes of the languages that have raw text on disk: the ISO 639-3 folders under raw_text/."""
    root = find_data_dir(data_dir)
    folders = sorted(p.name for p in (root / CORPUS_ROOT).iterdir() if p.is_dir()) if (root / CORPUS_ROOT).is_dir() else []
    codes = {language_of_spelling(folder, "iso3") for folder in folders}
    return sorted(code for code in codes if code is not None and corpus_files(code, root))


def require_corpus(lang: str, data_dir: DataDir = None) -> list[Path]:
    """The raw-text files of ``lang``, or a user error naming where they were looked for and which languages have some."""
    files = corpus_files(lang, data_dir)
    if not files:
        root = find_data_dir(data_dir)
        having = ", ".join(corpus_languages(root)) or "none"
        raise XadaptError(
            f"no raw text for {lang!r} under {root / CORPUS_ROOT / get_language(lang).iso3}; "
            f"languages with raw text: {having}."
        )
    return files


def load_corpus(
    lang: str, data_dir: DataDir = None, heldout_fraction: float = 0.01, heldout_lines: int | None = None
) -> Corpus:
    """All raw text of ``lang``, split into training lines and a deterministic held-out slice.

    ``heldout_lines`` (a count of distinct lines) takes precedence over ``heldout_fraction``.
    """
    files = require_corpus(lang, data_dir)
    lines = [line.strip() for path in files for _, line in iter_lines(path)]
    lines = [line for line in lines if line]
    distinct = list(dict.fromkeys(lines))
    count = _heldout_count(len(distinct), heldout_fraction, heldout_lines)
    heldout = set(sorted(distinct, key=_line_key)[:count])
    return Corpus(
        train=[line for line in lines if line not in heldout],
        heldout=[line for line in distinct if line in heldout],
        sources=files,
    )


def _heldout_count(distinct: int, fraction: float, lines: int | None) -> int:
    """How many distinct lines to hold out; at least one for any positive fraction."""
    if lines is not None:
        if not 0 <= lines < distinct:
            raise XadaptError(
                f"heldout_lines must be between 0 and {distinct - 1} (the corpus has {distinct} distinct lines), "
                f"got {lines}."
            )
        return lines
    if not 0 <= fraction < 1:
        raise XadaptError(f"heldout_fraction must be at least 0 and below 1, got {fraction}.")
    return max(1, round(fraction * distinct)) if fraction > 0 else 0


def _line_key(line: str) -> bytes:
    """A stable pseudo-random sort key (Python's hash() changes between runs)."""
    return hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest()
