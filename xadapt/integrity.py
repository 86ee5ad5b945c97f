"""What a cache folder held when it was built, and whether it still holds it.

A cache (a converted model, a trained language adapter) lists its files with their sizes and
SHA-256 in its manifest, written last. Before the cache is used, `check_files` compares the folder
with that list; a truncated, changed or missing file makes the cache broken, and its owner builds it
again instead of loading something half-written.
"""

import hashlib
from pathlib import Path

CHUNK = 1 << 22


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_list(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, dict]:
    """Every file under `folder` (but the names in `skip`), by path relative to it: its size and SHA-256."""
    folder = Path(folder)
    return {
        path.relative_to(folder).as_posix(): {"size": path.stat().st_size, "sha256": sha256(path)}
        for path in sorted(folder.rglob("*")) if path.is_file() and path.name not in skip
    }


def check_files(folder: Path, expected: dict[str, dict]) -> str | None:
    """What is wrong with `folder` against the file list `expected`, or None when every file is as listed.
    Sizes are compared first (a truncated file costs no hashing)."""
    folder = Path(folder)
    for name, facts in expected.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != facts["size"]:
            return f"{name} has {size:,} bytes, {facts['size']:,} when it was written"
    for name, facts in expected.items():
        if sha256(folder / name) != facts["sha256"]:
            return f"{name} changed since it was written (its SHA-256 differs)"
    return None
