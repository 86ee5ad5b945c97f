"""`xadapt doctor` and `xadapt --version`: what a result computed here depends on."""

from typing import Annotated

import typer
from rich.table import Table

from xadapt import __version__
from xadapt.cli.common import console, user_errors
from xadapt import environment
from xadapt.environment import describe, lock_drift


def _rows(environment: dict) -> list[tuple[str, str]]:
    device = environment["device"]
    cpu = environment["cpu"]
    rows = [("xadapt", environment["xadapt"]), ("python", environment["python"])]
    rows += [(name, version or "not installed") for name, version in environment["packages"].items()]
    rows += [
        ("threads", str(environment["threads"])),
        ("device", f"cuda: {device['name']} x{device['count']}" if device["kind"] == "cuda"
         else f"cpu (torch kernels: {device['torch_capability']})"),
        ("cpu", f"{cpu['model']} ({', '.join(cpu['isa']) or 'no AVX2'})"),
        ("precision auto", _auto_precision()),
        ("default model", environment["default_model_fingerprint"] or "not prepared (`xadapt model prepare`)"),
    ]
    return rows


def _auto_precision() -> str:
    from xadapt.precision import AUTO, resolve_precision

    chosen = resolve_precision(AUTO)
    return f"{chosen.name} ({chosen.reason})"


def _lock_line() -> str:
    drift = lock_drift()
    if drift is None:
        return "no requirements.lock beside this installation (not a source checkout)"
    if not drift:
        return f"every package matches {environment.LOCK_FILE.name}"
    names = ", ".join(f"{name} {have or 'missing'} (locked {want})" for name, (want, have) in sorted(drift.items()))
    return f"[yellow]{len(drift)} differ from {environment.LOCK_FILE.name}:[/] {names}; `bash setup.sh` installs the lock"


@user_errors
def doctor_command(
    check: Annotated[
        bool, typer.Option("--check", help="Exit with status 1 when an installed version differs from requirements.lock.")
    ] = False,
) -> None:
    """Print the versions, threads, device and default-model fingerprint a result depends on, and check the lock."""
    table = Table(title="xadapt environment (recorded in every study.json)", show_header=False)
    table.add_column("what")
    table.add_column("value")
    for what, value in _rows(describe()):
        table.add_row(what, value)
    console.print(table)
    console.print(_lock_line(), highlight=False)
    if check and lock_drift():
        raise typer.Exit(code=1)


def version_callback(show: bool) -> None:
    if show:
        console.print(f"xadapt {__version__}", highlight=False)
        for what, value in _rows(describe())[1:]:
            console.print(f"  {what}: {value}", highlight=False)
        raise typer.Exit()


VersionOption = Annotated[
    bool,
    typer.Option(
        "--version", callback=version_callback, is_eager=True, help="Show the versions a result depends on and exit."
    ),
]


def register(app: typer.Typer) -> None:
    """Add the `doctor` command to `app`; the main CLI calls this once."""
    app.command("doctor")(doctor_command)
