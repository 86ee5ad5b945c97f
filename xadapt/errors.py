"""User-facing errors.

Anything a user can cause (a wrong name, a missing directory, a malformed file) raises
`XadaptError` with a message that says what was wrong and how to fix it. The CLI prints the
message and exits non-zero; a traceback is reserved for bugs.
"""


class XadaptError(Exception):
    """An error caused by the user's input or environment, with a message meant for them."""
