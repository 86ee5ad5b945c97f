"""Write a directory or a file so that it appears complete or not at all.

Caches (converted models, trained language adapters) are built in a temporary sibling and renamed
into place; a crash leaves only a hidden staging folder (named after its process), never a directory
that looks finished, and the next build of the same directory removes it once that process is gone. When two processes race, the first rename wins and the other's work is dropped;
work too costly to do twice (a language adapter) is built under `exclusive`, so the second waits
and finds it done.
Files (the study manifest, the results table, the report and its plots, converted weights) are
written beside their place and renamed over it, so a reader sees the old content or the new, never
half of either; the next write of the same file removes what a killed writer left beside it.
"""

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from xadapt.errors import XadaptError

STAGING = ".staging-"  # .<name>.staging-<pid>-<random>: a directory being built by process <pid>


@contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """Yield an empty staging directory; when the block ends without error it becomes `final`.

    An existing `final` is replaced (callers only get here when it is stale or half-written).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_staging(final)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}{STAGING}{os.getpid()}-", dir=final.parent))
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


def remove_abandoned_staging(final: Path) -> list[Path]:
    """Remove the staging folders of `final` whose process is gone (killed mid-save); the ones removed."""
    removed = []
    for staging in final.parent.glob(f".{final.name}{STAGING}*"):
        if staging.is_dir() and _writer_gone(staging.name[len(final.name) + 1 + len(STAGING):].split("-", 1)[0]):
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
    return removed


def _writer_gone(pid: str) -> bool:
    """Whether `pid`, the process id a staging name carries, names a process that no longer runs."""
    return pid.isdigit() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextmanager
def atomic_file(final: Path) -> Iterator[Path]:
    """Yield a staging path beside `final`; when the block ends without error it replaces `final`."""
    final = Path(final)
    for abandoned in final.parent.glob(f".{final.name}.*.tmp"):  # of a process killed while writing `final`
        if _writer_gone(abandoned.name[len(final.name) + 2:-len(".tmp")]):
            abandoned.unlink(missing_ok=True)
    staging = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        yield staging
        os.replace(staging, final)
    finally:
        staging.unlink(missing_ok=True)


@contextmanager
def exclusive(final: Path) -> Iterator[None]:
    """Hold an exclusive lock on building `final` (a file lock beside it, seen by every process, and on
    a shared file system by every machine): callers check for a finished `final` again once inside."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / f".{final.name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_writable(folder: Path, what: str) -> None:
    """Raise `XadaptError` unless the folder `folder` (`what` names it: a flag, a variable) exists writable or can
    be created, found by making and removing a folder in its nearest existing ancestor: before any work starts."""
    folder = Path(folder).absolute()
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise XadaptError(f"{what} {folder} cannot be created: {existing} is a file; choose another {what}")
    try:
        tempfile.TemporaryDirectory(prefix=".xadapt-write-check-", dir=existing).cleanup()
    except OSError as err:
        raise XadaptError(f"{what} {folder} is not writable ({existing}: {err.strerror or err}); choose another {what}") from None
