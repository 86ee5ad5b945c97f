#!/usr/bin/env bash
# Refresh the locks: requirements.lock (the exact versions `bash setup.sh` installs and CI tests,
# from pyproject.toml with the dev, demo, tracking and ray extras) and tests/peer/requirements.lock (the peer
# environment of tests/peer and bench/). pip-tools runs in a throwaway virtual environment and
# resolves the newest versions the declared ranges allow.
#
#   bash scripts/refresh-lock.sh      # then: bash setup.sh && bash .ci/run
#
# torch is written as its release (torch==2.13.0), not its build (+cpu): pip takes the CPU build
# where it lies on disk or on PyTorch's CPU index, and the CUDA build from PyPI on a GPU machine
# (whose nvidia-* dependencies the lock, resolved against the CPU build, does not name).
set -euo pipefail
cd "$(dirname "$0")/.."
tool="$(mktemp -d)"
trap 'rm -rf "$tool"' EXIT
python3 -m venv "$tool"
"$tool/bin/python" -m pip install --quiet "pip-tools==7.6.2"
compile() {
  "$tool/bin/pip-compile" --quiet --upgrade --strip-extras --no-emit-find-links --no-emit-index-url \
    --no-emit-trusted-host "$@"
}
compile --extra dev --extra demo --extra tracking --extra ray --output-file requirements.lock pyproject.toml
compile --output-file tests/peer/requirements.lock tests/peer/requirements.in
for lock in requirements.lock tests/peer/requirements.lock; do
  sed -i -E 's/^torch==([0-9][0-9.]*)\+[A-Za-z0-9.]+$/torch==\1/' "$lock"
  sed -i '1i # Exact versions, tested by CI. Refresh: bash scripts/refresh-lock.sh (edit pyproject.toml, not this file).' "$lock"
done
echo "locked $(grep -c '==' requirements.lock) packages in requirements.lock, $(grep -c '==' tests/peer/requirements.lock) in tests/peer/requirements.lock"
