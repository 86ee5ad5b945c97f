"""The `xadapt` command line. Each sub-module adds one command group or command; each command is a
thin function that parses flags and calls one library function."""

import typer

from xadapt.cli import demo, doctor, export, methods, report, study, train
from xadapt.cli.data import data_app
from xadapt.cli.model import model_app

app = typer.Typer(
    name="xadapt",
    help="Language and task adapters vs full fine-tuning for cross-lingual, low-resource NLP.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(version: doctor.VersionOption = False) -> None:
    """Language and task adapters vs full fine-tuning for cross-lingual, low-resource NLP."""


app.add_typer(model_app, name="model")
app.add_typer(data_app, name="data")
study.register(app)
train.register(app)
methods.register(app)
report.register(app)
export.register(app)
demo.register(app)
doctor.register(app)
