"""Write a directory so that it appears complete or not at all.

Caches (converted models, trained language adapters) are built in a temporary sibling and renamed
into place; a crash leaves only a hidden staging folder, which is removed, never a directory that
looks finished. When two processes race, the first rename wins and the other's work is dropped.
"""

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
