"""Fixtures for the adapter tests (helpers live in adapter_helpers.py)."""

import pytest
from adapter_helpers import FAMILIES


@pytest.fixture(params=sorted(FAMILIES))
def family(request) -> str:
    """Each supported encoder family in turn: bert, roberta, xlm-roberta."""
    return request.param
