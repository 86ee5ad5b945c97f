"""`python -m bench --quick` still runs every case end to end (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PEER_PYTHON = REPO / ".venv-peer" / "bin" / "python"
# every case but the study-sized ones (workers, precision_grid, default_study: sweeps of minutes, which CI's end-to-end
# and worker tests cover) and two of the three precision cases (precision_adapter covers their code)
ALL_CASES = "mlm,task_fixed,task_pipeline,lora,finetune,inference,precision_adapter,perplexity,sweep"
MEASURED_TARGETS = 11  # all but those of the cases left out: masked-LM and fine-tuning precision (3), the grid, workers


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_quick_suite_writes_well_formed_results(tmp_path):
    if not PEER_PYTHON.is_file():
        pytest.skip("no peer environment; create it with bash tests/peer/setup_peer_env.sh")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--cases", ALL_CASES, "--out", str(tmp_path)], cwd=REPO, capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [data] = tmp_path.glob("*.json")
    [table] = tmp_path.glob("*.md")
    assert data.stem == table.stem
    summary = json.loads(data.read_text())

    assert set(summary["cases"]) == {"mlm", "task_fixed", "task_pipeline", "lora", "finetune", "inference", "precision_adapter"}
    assert summary["peak_flops"] == summary["peaks"]["fp32"] > 0 and summary["peaks"]["bf16"] > 0
    assert summary["machine"]["isa"]  # the table names the instruction sets beside the figures
    for case_id, case in summary["cases"].items():
        assert case["peer"] in case["tools"] and "xadapt" in case["tools"], case_id
        assert case["ratio"] > 0
        for tool, row in case["tools"].items():
            for key in ("examples_per_s", "tokens_per_s", "padded_tokens_per_s", "useful_flops_per_s", "peak_rss_mib"):
                assert row[key] > 0, (case_id, tool, key)
            assert row["tokens_per_s"] <= row["padded_tokens_per_s"]
            assert len(row["reps"]) == summary["reps"] == 1
    training = [c for c in summary["cases"].values() if c["kind"] == "training"]
    for case in training:  # both sides train the same parts: adapters (and head), or everything
        counts = {tool: row["info"]["trainable_params"] for tool, row in case["tools"].items()}
        assert all(count > 0 for count in counts.values()), counts

    assert summary["sweep"]["cold_s"] > 0 and summary["sweep"]["warm_s"] > 0
    precision = summary["cases"]["precision_adapter"]
    assert set(precision["tools"]) == {"xadapt", "xadapt bf16", "adapters", "adapters bf16"}
    assert set(precision["bf16_speedups"]) == {"xadapt", "adapters"} and all(v > 0 for v in precision["bf16_speedups"].values())
    assert precision["precisions"]["xadapt bf16"] == "bf16" and precision["precisions"]["adapters"] == "fp32"
    for name in ("full", "corpus"):
        assert summary["perplexity"][name]["perplexity_after"] > 1
    assert summary["perplexity"]["full"]["output_vocabulary"] is None
    assert 0 < summary["perplexity"]["corpus"]["output_vocabulary"] < 250_037  # part of XLM-R's vocabulary
    measured = [t for t in summary["targets"] if t["value"] is not None]
    assert len(measured) >= MEASURED_TARGETS

    text = table.read_text()
    for case_id in summary["cases"]:
        assert f"| {case_id} | xadapt |" in text
    assert "warm / cold" in text and "| target |" in text and "bf16" in text
