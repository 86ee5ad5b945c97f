"""Fixtures for the data-layer tests: the real benchmark data and small hand-made layouts.

The real data is read from ``XADAPT_DATA`` or, by default, ``<repo>/../shared/data`` resolved from
this file (never from the working directory). Tests that need it are skipped, with the reason,
when it is absent; the fixture-based tests always run.
"""

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The shared benchmark data directory."""
    root = Path(os.environ.get("XADAPT_DATA") or REPO.parent / "shared" / "data")
    if not (root / "sib200").is_dir():
        pytest.skip(f"benchmark data not found at {root}; set XADAPT_DATA")
    return root


@pytest.fixture(scope="session")
def tiny_data() -> Path:
    """A hand-made data directory laid out like shared/data, a few lines per file."""
    return FIXTURES / "tiny_data"


@pytest.fixture(scope="session")
def malformed() -> Path:
    """Files with one known defect each, at a known line."""
    return FIXTURES / "malformed"


@pytest.fixture(scope="session")
def broken_data() -> Path:
    """A data directory whose SIB-200 Swahili train file has an unknown label on line 4."""
    return FIXTURES / "broken_data"
