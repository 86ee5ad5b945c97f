"""`xadapt demo`: serve the web page that predicts with saved adapter compositions."""

import errno
import importlib.util
import socket
from pathlib import Path
from typing import Annotated

import typer

from xadapt.cli.common import console, status, user_errors
from xadapt.cli.train import DataOption, ModelOption
from xadapt.errors import XadaptError
from xadapt.models import DEFAULT_MODEL


@user_errors
def demo_command(
    runs: Annotated[list[Path] | None, typer.Option("--runs", help="Where `xadapt train` or a sweep saved runs; repeatable (default: runs).")] = None,
    adapters: Annotated[Path | None, typer.Option(help="Language adapter folder (default: $XADAPT_HOME/language_adapters).")] = None,
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 makes the page reachable from other machines.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default: the first free one from 7860).")] = None,
    quickstart: Annotated[bool, typer.Option("--quickstart", help="First train sw and en language adapters, a MAD-X NER task adapter and a fine-tuned model (a few minutes, once), then serve them.")] = False,
    model: ModelOption = DEFAULT_MODEL,
    data_dir: DataOption = None,
) -> None:
    """Serve a page that shows what an adapter composition predicts, how a language-adapter swap changes it, and a study's report."""
    if importlib.util.find_spec("gradio") is None:
        raise XadaptError("the demo needs gradio, which is not installed; install it with `pip install -e '.[demo]'`")
    check_address(host, port)
    for flag, folder in [*(("--runs", path) for path in runs or []), *([("--adapters", adapters)] if adapters else [])]:
        if not folder.is_dir():
            raise XadaptError(f"{flag} {folder} {'is a file' if folder.exists() else 'does not exist'}; pass a folder "
                              f"{'where `xadapt train` or a sweep saved runs' if flag == '--runs' else 'of language adapters'}")
    if quickstart:
        from xadapt.demo.quickstart import quickstart as train_quickstart

        with status("quickstart: training what the demo serves (a few minutes, once) ...") as update:
            root = train_quickstart(model, data_dir, on_run=lambda run: update(
                f"quickstart: training {run.method} on {run.task} {run.train_lang} (language adapters first, if needed) ..."))
        console.print(f"[green]quickstart runs:[/] {root}")
    from xadapt.demo.app import serve

    with status("loading the model and every adapter ..."):
        demo = serve(runs if runs is not None else [Path("runs")], adapters, model, host, port, data_dir)
    console.print(f"[green]demo:[/] {demo.local_url}  (Ctrl+C stops it)")
    demo.block_thread()


def check_address(host: str, port: int | None) -> None:
    """Refuse, before anything loads, a host this machine cannot bind or a port already taken."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as err:
        raise XadaptError(f"--host {host!r} is not an address or a name this machine can resolve ({err}); "
                          "use 127.0.0.1, 0.0.0.0 or a host name") from None
    with socket.socket(family, kind) as probe:
        try:
            probe.bind(address)
        except OSError as err:
            if port is not None and err.errno == errno.EADDRINUSE:
                raise XadaptError(f"port {port} on {host} is already in use; choose another --port, or leave it out "
                                  "to take the first free one from 7860") from None
            raise XadaptError(f"cannot serve on {host}:{port or 'any port'}: {err.strerror or err}; "
                              "use an address of this machine as --host") from None


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
