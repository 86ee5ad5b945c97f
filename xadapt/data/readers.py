"""Parsers for the file formats the benchmarks ship in: CoNLL, TSV, JSON Lines and CSV.

Every parser reports a malformed file as ``path:line: what is wrong`` in an `XadaptError`, so a
user with a broken or hand-edited file knows exactly where to look. Each reader also has a cheap
counter (``count_*``) that `xadapt data list` uses to size every split without parsing it.
"""

import csv
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from xadapt.errors import XadaptError

Columns = dict[str, list]

_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


def malformed(path: Path, lineno: int, problem: str) -> XadaptError:
    """The error for a bad line: names the file and the 1-based line number."""
    return XadaptError(f"{path}:{lineno}: {problem}")


def label_index(value: str, labels: Sequence[str], path: Path, lineno: int) -> int:
    """Position of ``value`` in ``labels``, or a file:line error listing the labels expected."""
    try:
        return labels.index(value)
    except ValueError:
        raise malformed(path, lineno, f"unknown label {value!r}; expected one of {', '.join(labels)}") from None


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) pairs without line endings or a leading byte-order mark.

    Splits on ``\\n`` only: `str.splitlines` would also split on Unicode separators that occur
    inside tweets and Wikipedia text, and shift every line number after them.
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        lineno = data.count(b"\n", 0, err.start) + 1
        raise malformed(path, lineno, "not valid UTF-8; re-save the file as UTF-8") from None
    lines = text.removeprefix("\ufeff").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, start=1):
        yield lineno, line.rstrip("\r")


def read_conll(path: Path, labels: Sequence[str], sep: str) -> Columns:
    """Sentences from a ``token<sep>tag`` file with a blank line between sentences.

    Columns ``tokens`` (list of str) and ``tags`` (list of indices into ``labels``).
    A line with an empty token and the tag ``O`` is skipped: MasakhaNER 2.0 xho has two such lines
    (the source's own quirk) and an empty word carries nothing to learn or score.
    """
    tokens: list[list[str]] = []
    tags: list[list[int]] = []
    words: list[str] = []
    word_tags: list[int] = []
    for lineno, line in iter_lines(path):
        if not line.strip():
            if words:
                tokens.append(words)
                tags.append(word_tags)
                words, word_tags = [], []
            continue
        token, found, tag = line.rstrip().rpartition(sep)
        if not found:
            shown = "<TAB>" if sep == "\t" else "<SPACE>"
            raise malformed(path, lineno, f"expected 'token{shown}tag', found {line!r}")
        if not token.strip():
            if tag == "O":
                continue
            raise malformed(path, lineno, f"empty token with tag {tag!r}")
        words.append(token)
        word_tags.append(label_index(tag, labels, path, lineno))
    if words:
        tokens.append(words)
        tags.append(word_tags)
    return {"tokens": tokens, "tags": tags}


def count_conll(path: Path) -> int:
    """Number of sentences (blank-line separated blocks) in a CoNLL file, without parsing it."""
    return sum(1 for block in _BLANK_LINE.split(path.read_bytes().replace(b"\r\n", b"\n")) if block.strip())


def read_table(path: Path, fields: Sequence[str], header: bool) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for each row of a tab-separated file with exactly ``len(fields)`` columns.

    Fields are split on tabs only, never with the csv module: the texts contain quote characters
    that are data, not quoting. With ``header=True`` the first line must name ``fields`` in order.
    """
    lines = iter_lines(path)
    if header:
        first = next(lines, None)
        if first is None or first[1].split("\t") != list(fields):
            found = "an empty file" if first is None else repr(first[1])
            raise malformed(path, 1, f"expected the header {'<TAB>'.join(fields)!r}, found {found}")
    for lineno, line in lines:
        if not line.strip():
            continue
        values = line.split("\t")
        if len(values) != len(fields):
            raise malformed(
                path, lineno, f"expected {len(fields)} tab-separated fields ({', '.join(fields)}), found {len(values)}"
            )
        yield lineno, [value.strip() for value in values]


def read_labelled_tsv(
    path: Path, fields: Sequence[str], columns: dict[str, str], labels: Sequence[str], header: bool
) -> Columns:
    """Chosen fields of a TSV as columns (``columns`` maps column name → field name).

    The column named ``label`` is turned into indices into ``labels``; the others stay strings.
    """
    out: Columns = {name: [] for name in columns}
    positions = {name: list(fields).index(field) for name, field in columns.items()}
    for lineno, values in read_table(path, fields, header):
        for name, position in positions.items():
            value = values[position]
            out[name].append(label_index(value, labels, path, lineno) if name == "label" else value)
    return out


def count_rows(path: Path, header: bool) -> int:
    """Number of non-blank rows of a line-based file (TSV or JSONL), minus the header if it has one."""
    rows = sum(1 for line in path.read_bytes().split(b"\n") if line.strip())
    return max(rows - int(header), 0)


def read_jsonl(path: Path, keys: Sequence[str]) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each line of a JSON Lines file; every object must have ``keys``."""
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise malformed(path, lineno, f"not valid JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise malformed(path, lineno, "expected a JSON object")
        missing = [key for key in keys if key not in row]
        if missing:
            raise malformed(path, lineno, f"missing field(s) {', '.join(missing)}")
        yield lineno, row


def read_csv_column(path: Path, column: str) -> list[tuple[int, str]]:
    """(line number, value) of one column of a CSV file with a header row (quoted fields allowed)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise malformed(path, 1, f"the header has no {column!r} column")
        values = []
        for row in reader:
            value = row[column]
            if value is None:
                raise malformed(path, reader.line_num, f"row too short: no {column!r} value")
            values.append((reader.line_num, value))
    return values
