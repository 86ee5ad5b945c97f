"""User-facing errors.

Anything a user can cause (a wrong name, a missing directory, a malformed file) raises
`XadaptError` with a message that says what was wrong and how to fix it. The CLI prints the
message and exits non-zero; a traceback is reserved for bugs.
"""

import errno


class XadaptError(Exception):
    """An error caused by the user's input or environment, with a message meant for them."""


NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# how a full disk reads once it crossed a boundary that keeps only text: safetensors' Rust writer, a worker process
NO_SPACE_TEXTS = ("No space left on device", "Disk quota exceeded", "os error 28", "os error 122")


def no_space_left(err: BaseException) -> tuple[bool, str | None]:
    """Whether `err`, or an error it was raised from, says the disk (or the user's quota) is full; and the file, if named."""
    seen = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno in NO_SPACE_ERRNOS:
            return True, cause.filename
        if any(text in str(cause) for text in NO_SPACE_TEXTS):
            return True, None
        cause = cause.__cause__ or cause.__context__
    return False, None
