"""`xadapt model ...`: prepare and list the models xadapt can use offline."""

from typing import Annotated

import typer
from rich.table import Table

from xadapt.cli.common import console, status, user_errors
from xadapt.models import DEFAULT_MODEL, PACKAGED_MODELS, resolve_model
from xadapt.settings import models_dir

model_app = typer.Typer(help="Prepare and list models (the packaged default needs no hub access).", no_args_is_help=True)


@model_app.command("prepare")
@user_errors
def prepare_command(
    name: Annotated[
        str, typer.Argument(help="Packaged model name, local transformers directory or hub id.")
    ] = DEFAULT_MODEL,
) -> None:
    """Make a model ready for offline use (converts the packaged default once) and print its directory."""
    with status(f"preparing {name} ..."):
        path = resolve_model(name)
    console.print(f"[green]ready:[/] {name} -> {path}")


@model_app.command("list")
@user_errors
def list_command() -> None:
    """Show packaged models, whether they are prepared, and other models in the xadapt cache."""
    table = Table(title=f"models (cache: {models_dir()})")
    for column in ("name", "kind", "status", "description / path"):
        table.add_column(column)
    for spec in PACKAGED_MODELS.values():
        problem = spec.broken() if spec.is_prepared() else None
        state = ("not prepared (`xadapt model prepare`)" if not spec.is_prepared() else "[green]prepared[/]" if problem is None
                 else f"[red]broken[/]: {problem} (`xadapt model prepare` converts it again)")
        default = " (default)" if spec.name == DEFAULT_MODEL else ""
        table.add_row(spec.name + default, f"packaged ({spec.package}=={spec.version})", state, spec.description)
    if models_dir().is_dir():
        for path in sorted(models_dir().iterdir()):
            if path.name not in PACKAGED_MODELS and (path / "config.json").is_file():
                table.add_row(path.name, "local", "[green]ready[/]", str(path))
    console.print(table)
