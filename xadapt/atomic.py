"""Write a directory or a file so that it appears complete or not at all.

Caches (converted models, trained language adapters) are built in a temporary sibling and renamed
into place; a crash leaves only a hidden staging folder, which is removed, never a directory that
looks finished. When two processes race, the first rename wins and the other's work is dropped.
Files (the study manifest, the results table, converted weights) are written beside their place
and renamed over it, so a reader sees the old content or the new, never half of either.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """Yield an empty staging directory; when the block ends without error it becomes `final`.

    An existing `final` is replaced (callers only get here when it is stale or half-written).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        yield staging
        if final.exists():
            shutil.rmtree(final)
        try:
            staging.rename(final)
        except OSError:
            if not final.exists():  # not a lost race with another process: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def atomic_file(final: Path) -> Iterator[Path]:
    """Yield a staging path beside `final`; when the block ends without error it replaces `final`."""
    final = Path(final)
    staging = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        yield staging
        os.replace(staging, final)
    finally:
        staging.unlink(missing_ok=True)
