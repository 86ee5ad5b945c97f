"""Fixtures every test directory shares.

The real benchmark data is read from ``XADAPT_DATA`` or, by default, ``<repo>/../shared/data``
resolved from this file (never from the working directory). Tests that need it are skipped, with
the reason, when it is absent, except in CI (`CI=true`, as `.ci/run` runs): there every skip is
a failure, so a test never passes CI by not running.
"""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# the demo's trained parts and served app, shared by tests/demo and the fault suite's load test (trained once a session)
pytest_plugins = ["demo_bed"]


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The shared benchmark data directory."""
    root = Path(os.environ.get("XADAPT_DATA") or REPO.parent / "shared" / "data")
    if not (root / "sib200").is_dir():
        pytest.skip(f"benchmark data not found at {root}; set XADAPT_DATA")
    return root


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI, a skipped test fails, naming what was missing."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {reason}"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer, width-32 BERT with multilingual-e5-small's tokenizer and vocabulary, seeded."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from xadapt.models import resolve_model

    source = resolve_model("multilingual-e5-small")
    folder = tmp_path_factory.mktemp("tiny-model")
    config = BertConfig.from_pretrained(source)
    config.update({"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64})
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder
