#!/usr/bin/env bash
# Create the peer virtual environment used by tests/peer and bench/: the `adapters` library with
# the transformers 4.x it pins, so xadapt's methods can be compared against it output for output,
# and PEFT (LoRA) plus accelerate (which transformers' Trainer needs) for the benchmark's peers.
#
# Usage: bash tests/peer/setup_peer_env.sh      (path from $XADAPT_PEER_VENV, default .venv-peer)
# Idempotent: when the pinned versions are already installed it does nothing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${XADAPT_PEER_VENV:-$repo_root/.venv-peer}"
# torch is pinned to the CPU build on this machine's disk; an unpinned torch pulls a CUDA build.
pins=(torch==2.13.0 adapters==1.3.0 transformers==4.57.6 peft==0.17.1 accelerate==1.15.0 safetensors)

if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" - <<'PY' 2>/dev/null; then
import importlib.metadata as m
import sys
want = {
    "torch": "2.13.0", "adapters": "1.3.0", "transformers": "4.57.6", "peft": "0.17.1", "accelerate": "1.15.0",
}
ok = all(m.version(k).split("+")[0] == v for k, v in want.items()) and bool(m.version("safetensors"))
sys.exit(0 if ok else 1)
PY
    echo "peer venv ready at $venv"
    exit 0
fi

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet "${pins[@]}"
echo "peer venv installed at $venv"
