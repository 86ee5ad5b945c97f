#!/usr/bin/env bash
# Create the peer virtual environment used by tests/peer and bench/: the `adapters` library with
# the transformers 4.x it pins, so xadapt's methods can be compared against it output for output,
# and PEFT (LoRA) plus accelerate (which transformers' Trainer needs) for the benchmark's peers.
#
# Usage: bash tests/peer/setup_peer_env.sh      (path from $XADAPT_PEER_VENV, default .venv-peer)
# The versions are exact, from requirements.lock beside this file (scripts/refresh-lock.sh).
# Idempotent: when the venv was installed from this very lock it does nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
venv="${XADAPT_PEER_VENV:-$repo_root/.venv-peer}"
lock="$here/requirements.lock"
stamp="$venv/.xadapt-lock-sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "peer venv ready at $venv"
    exit 0
fi

[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock"
"$venv/bin/python" -m pip check
echo "$want" > "$stamp"
echo "peer venv installed at $venv"
