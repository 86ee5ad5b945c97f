"""Pieces every CLI command shares: the console and the user-error guard."""

import functools
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from xadapt.errors import XadaptError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable)


def user_errors(fn: F) -> F:
    """Turn an `XadaptError` into a red message on stderr and exit code 1, without a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except XadaptError as err:
            err_console.print(f"[bold red]error:[/] {err}", highlight=False)
            raise typer.Exit(code=1) from None

    return wrapper  # type: ignore[return-value]
