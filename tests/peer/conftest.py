"""Fixtures for the peer comparison (cases and helpers live in peer_cases.py)."""

import pytest
from peer_cases import SPECS, PeerRun, run_peer


@pytest.fixture(scope="module", params=SPECS)
def peer_run(request, tmp_path_factory) -> PeerRun:
    """Both sides of the comparison for one model spec: tiny BERT, tiny XLM-R, the default model."""
    return run_peer(request.param, tmp_path_factory.mktemp(request.param))
