"""`results.csv` and `xadapt.study.load`: one flat row per run and evaluation language, the same in
pandas, in the CSV and in `datasets`, and merged by run over several studies."""

import json

import pandas as pd
import pytest
from datasets import Dataset

import xadapt.study
from xadapt.errors import XadaptError
from xadapt.study.results import RESULTS_FILE
from xadapt.study.table import NESTED, TABLE_FILE


def test_the_report_writes_the_table_that_load_returns(full_sweep, full_report):
    records = [json.loads(line) for line in (full_sweep / RESULTS_FILE).read_text(encoding="utf-8").splitlines()]
    frame = xadapt.study.load(full_sweep)
    from_csv = pd.read_csv(full_sweep / TABLE_FILE)
    assert len(frame) == len({(r["run_id"], r["eval_lang"]) for r in records}) == len(from_csv)
    assert list(from_csv.columns) == list(frame.columns) and not set(NESTED) & set(frame.columns)
    for column in ("run_id", "method", "eval_lang", "status"):
        assert from_csv[column].tolist() == frame[column].tolist()
    for column in ("score", "lr", "drift_last_layer", "samples", "seed"):
        assert from_csv[column].to_numpy(dtype=float) == pytest.approx(frame[column].to_numpy(dtype=float), nan_ok=True)
    by_key = {(r["run_id"], r["eval_lang"]): r for r in records}
    for row in frame.itertuples():
        record = by_key[(row.run_id, row.eval_lang)]
        if record.get("drift"):
            assert row.drift_last_layer == record["drift"]["similarity"][-1]
    assert frame["drift_last_layer"].notna().any() and (frame["status"] != "ok").any()


def test_datasets_reads_the_table(full_sweep, full_report):
    table = Dataset.from_csv(str(full_sweep / TABLE_FILE))
    frame = xadapt.study.load(full_sweep)
    assert table.num_rows == len(frame) and table.column_names == list(frame.columns)
    assert table["run_id"] == frame["run_id"].tolist()


def test_load_merges_studies_by_run(tmp_path, make_record, write_sweep):
    shared = [make_record(method=m, seed=seed) for m in ("finetune", "adapter") for seed in range(2)]
    extra = [make_record(method="adapter", seed=seed, lr=3e-4) for seed in range(2)]
    first, second = write_sweep(tmp_path / "a", shared), write_sweep(tmp_path / "b", shared + extra)
    merged = xadapt.study.load(first, str(second))
    assert len(merged) == 6 and merged["run_id"].is_unique


def test_load_says_when_there_is_nothing_to_read(tmp_path):
    with pytest.raises(XadaptError, match="no results.jsonl"):
        xadapt.study.load(tmp_path)
