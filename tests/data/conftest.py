"""Fixtures for the data-layer tests: small hand-made layouts.

The real benchmark data (`real_data`) comes from tests/conftest.py, shared with the other test
directories; tests that need it are skipped when it is absent, the fixture-based tests always run.
"""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
