"""`xadapt report OUT`: write a study's report and plots, and show its headline numbers."""

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from xadapt.cli.common import console, status, user_errors
from xadapt.study.report import load_frame, score_overview, write_report


def _overview_table(overview: pd.DataFrame) -> Table:
    table = Table(title="mean score ± std over seeds (best learning rate per cell)")
    for column in overview.columns:
        header = "training size" if column == "samples" else str(column)
        table.add_column(header, justify="left" if column == "method" else "right")
    for row in overview.itertuples(index=False):
        table.add_row(*("–" if pd.isna(value) else str(value) for value in row))
    return table


@user_errors
def report_command(
    out: Annotated[
        Path,
        typer.Argument(metavar="OUT", help="Output directory of an `xadapt sweep` (the one holding results.jsonl)."),
    ],
) -> None:
    """Write OUT/report.md and OUT/plots/, then print mean scores per method, size and language pair."""
    with status(f"writing the report for {out} ..."):
        path = write_report(out)
    print_overview(out)
    console.print(f"[green]report:[/] {path}")


def print_overview(out: Path) -> None:
    """The summary table of a study's mean scores, as printed at the end of a sweep."""
    console.print(_overview_table(score_overview(load_frame(out))))


def register(app: typer.Typer) -> None:
    """Add the `report` command to `app`; the main CLI calls this once."""
    app.command("report")(report_command)
