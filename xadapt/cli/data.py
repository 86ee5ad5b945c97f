"""`xadapt data ...`: see which benchmarks, languages and splits are on disk."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xadapt.cli.common import console, user_errors
from xadapt.data import SPLITS, corpus_languages, find_data_dir, inventory
from xadapt.languages import get_language, language_name

data_app = typer.Typer(
    help="Benchmark data: list tasks, languages and split sizes found on disk.", no_args_is_help=True
)

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Benchmark data folder (default: $XADAPT_DATA, ./data or ../shared/data)."),
]


@data_app.command("list")
@user_errors
def list_data(
    data_dir: DataDirOption = None,
    task: Annotated[str | None, typer.Option("--task", help="Only this task (name or alias).")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Only this language (sw, swa, swh_Latn...).")] = None,
) -> None:
    """Show every task and language on disk with its labelled split sizes, counted from the files."""
    root = find_data_dir(data_dir)
    rows = inventory(root, task=task, lang=lang)
    table = Table(title=f"Benchmark data in {root}", show_lines=False)
    for header in ("task", "lang", "language", *SPLITS, "evaluates on"):
        table.add_column(header, justify="right" if header in SPLITS else "left")
    previous = None
    for row in rows:
        if previous is not None and row.task != previous:
            table.add_section()
        sizes = [str(row.sizes[split]) if row.sizes.get(split) is not None else "–" for split in SPLITS]
        evaluates = {"test": "test", "dev": "[yellow]dev[/] (no labelled test)"}.get(row.eval_split, "[red]–[/]")
        table.add_row(row.task, row.lang, language_name(row.lang), *sizes, evaluates)
        previous = row.task
    console.print(table)
    if not rows:
        console.print("[yellow]No matching task data found.[/]")
    corpora = corpus_languages(root)
    console.print(f"Raw text for masked-LM language adapters: {', '.join(corpora) or 'none'}")


@data_app.command("languages")
@user_errors
def list_languages(data_dir: DataDirOption = None) -> None:
    """Show each language found on disk, its codes (any of them works for --lang) and the tasks that have it."""
    root = find_data_dir(data_dir)
    tasks_by_lang: dict[str, list[str]] = {}
    for row in inventory(root):
        tasks_by_lang.setdefault(row.lang, []).append(row.task)
    corpora = set(corpus_languages(root))
    table = Table(title=f"Languages (data in {root})")
    for header in ("lang", "language", "other codes", "tasks on disk", "raw text"):
        table.add_column(header)
    for code in sorted(set(tasks_by_lang) | corpora):
        language = get_language(code)
        spellings = dict.fromkeys((language.iso3, language.flores, *language.aliases))
        others = ", ".join(spelling for spelling in spellings if spelling and spelling != code)
        has_text = "yes" if code in corpora else "–"
        table.add_row(code, language.name, others, ", ".join(tasks_by_lang.get(code, [])) or "–", has_text)
    console.print(table)
