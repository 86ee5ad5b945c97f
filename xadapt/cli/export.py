"""`xadapt export RUN_DIR --format adapters|peft --out DIR`: a run's adapters in another library's format."""

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from xadapt.cli.common import console, status, user_errors
from xadapt.train.export import FORMATS, export_run

FormatChoice = Enum("FormatChoice", {name: name for name in FORMATS}, type=str)  # the registry's formats
FORMAT_HELP = "; ".join(f"{f.name}: {f.summary}" for f in FORMATS.values())


@user_errors
def export_command(
    run: Annotated[Path, typer.Argument(help="A run directory (`xadapt train --out`, or a sweep's artifacts/<run id>).")],
    export_format: Annotated[FormatChoice, typer.Option("--format", help=FORMAT_HELP)],
    out: Annotated[Path, typer.Option(help="A new folder for the export (never overwritten).")],
) -> None:
    """Write a run's adapters (and heads, where the format has them) in a format other libraries load."""
    with status(f"exporting {run} as {export_format.value} ..."):
        notes = export_run(run, export_format.value, out)
    for note in notes:
        console.print(note, highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `export` command to `app`; the main CLI calls this once."""
    app.command("export")(export_command)
