"""Fixtures every test directory shares.

The real benchmark data is read from ``XADAPT_DATA`` or, by default, ``<repo>/../shared/data``
resolved from this file (never from the working directory). Tests that need it are skipped, with
the reason, when it is absent.
"""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The shared benchmark data directory."""
    root = Path(os.environ.get("XADAPT_DATA") or REPO.parent / "shared" / "data")
    if not (root / "sib200").is_dir():
        pytest.skip(f"benchmark data not found at {root}; set XADAPT_DATA")
    return root
