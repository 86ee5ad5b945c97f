"""`xadapt report DIR [DIR ...]`: write the report, findings and plots of one or several studies, and show the headline numbers."""

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from xadapt.cli.common import console, status, user_errors
from xadapt.errors import XadaptError
from xadapt.study.report import read_findings, score_overview, write_report
from xadapt.study.results import RESULTS_FILE, load_frame


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
    studies: Annotated[
        list[Path],
        typer.Argument(metavar="DIR [DIR ...]", help="Output directories of `xadapt sweep` (each holding results.jsonl)."),
    ],
    out: Annotated[Path | None, typer.Option(help="Where to write the report (default: DIR itself; required with several DIRs).")] = None,
) -> None:
    """Write report.md, findings.json and plots/ over one or several studies, then print mean scores and verdicts.

    With several DIRs, runs are matched by configuration: a run two studies share counts once, and
    runs trained under different rules are never paired."""
    studies = list(dict.fromkeys(studies))
    if len(studies) > 1 and out is None:
        raise XadaptError(f"{len(studies)} studies are merged into one report: name its directory with --out (e.g. --out runs/merged)")
    if out is not None and out.exists() and not out.is_dir():
        raise XadaptError(f"--out {out} is a file; name a directory for the report")
    if out is not None and len(studies) > 1 and (out / RESULTS_FILE).exists():
        raise XadaptError(f"--out {out} holds a study of its own; its report would be replaced by the merged one. Choose a new --out")
    target = out or studies[0]  # write_report reads every study before it writes anything
    with status(f"writing the report for {', '.join(map(str, studies))} ..."):
        path = write_report(target, studies)
    _print(score_overview(load_frame(*studies)), read_findings(target))
    console.print(f"[green]report:[/] {path}")


def _print(overview: pd.DataFrame, document: dict) -> None:
    console.print(_overview_table(overview))
    console.print(_findings_table(document))


def print_overview(out: Path) -> None:
    """The summary table of a study's mean scores, as printed at the end of a sweep."""
    console.print(_overview_table(score_overview(load_frame(out))))


def print_findings(out: Path) -> None:
    """The verdicts of `out/findings.json`, one line per claim and condition."""
    console.print(_findings_table(read_findings(out)))


def _findings_table(document: dict) -> Table:
    found = document["findings"]
    convergence = document["convergence"]
    table = Table(title=f"findings (paired by seed, 95% CI); {convergence['bounded_while_improving']} of "
                        f"{convergence['runs']} runs hit a bound while still improving")
    for column in ("claim", "size", "pair", "effect [95% CI]", "n", "verdict", "caveats"):
        table.add_column(column, justify="right" if column in ("size", "n") else "left")
    colors = {"supported": "green", "contradicted": "red", "inconclusive": "yellow"}
    for f in found:
        interval = "no interval" if f["ci95"] is None else f"[{f['ci95'][0]:+.3f}, {f['ci95'][1]:+.3f}]"
        table.add_row(f"{f['claim']} ({f['comparison']})", str(f["samples"]), f"{f['train_lang']}→{f['eval_lang']}", f"{f['effect']:+.3f} {interval}",
                      str(f["n"]), f"[{colors[f['verdict']]}]{f['verdict']}[/]", f"{len(f['caveats'])} caveat(s)" if f["caveats"] else "–")
    return table


def register(app: typer.Typer) -> None:
    """Add the `report` command to `app`; the main CLI calls this once."""
    app.command("report")(report_command)
