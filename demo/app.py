"""Start the xadapt demo: `python demo/app.py [--runs OUT ...] [--adapters DIR] [--host H] [--port N] [--quickstart]`.

A thin launcher for `xadapt demo` (same flags, same code), for those who start Gradio apps from a file.
"""

import typer

from xadapt.cli.demo import demo_command

if __name__ == "__main__":
    typer.run(demo_command)
