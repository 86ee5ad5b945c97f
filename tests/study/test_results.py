"""The results store survives kills and restarts, refuses to mix studies, and its statistics are right."""

import json
import logging
import math

import numpy as np
import pytest

from xadapt.errors import XadaptError
from xadapt.study.results import (
    MANIFEST_FILE,
    RESULTS_FILE,
    ResultsStore,
    best_lr_runs,
    language_pairs,
    results_frame,
    run_id,
    study_id,
    summarize,
)

STUDY = {"task": "wikiann", "methods": ["finetune", "madx"], "samples": [100, 300], "lrs": [1e-4], "seeds": [1, 2]}


def _snapshot(directory):
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


# ids


def test_study_id_ignores_key_order_and_its_own_key():
    shuffled = dict(reversed(list(STUDY.items())))
    assert study_id(shuffled) == study_id(STUDY) == study_id({**STUDY, "study_id": "whatever"})
    assert len(study_id(STUDY)) == 8
    assert study_id({**STUDY, "seeds": [1, 2, 3]}) != study_id(STUDY)


def test_run_id_is_shared_by_the_evaluations_of_one_run():
    run = {"method": "madx", "train_lang": "en", "samples": 300, "lr": 1e-4, "seed": 1}
    assert run_id({**run, "eval_lang": "sw"}) == run_id({**run, "eval_langs": ["sw", "yo"]}) == run_id(run)
    assert run_id({**run, "seed": 2}) != run_id(run)
    assert len(run_id(run)) == 12


# append and read back


def test_append_round_trips_and_makes_numbers_plain_json(tmp_path, make_record):
    store = ResultsStore(tmp_path / "out")
    record = make_record(score=0.5)
    record["curve"][0]["dev_loss"] = float("nan")
    record["seconds"] = np.float32(2.5)
    record["seed"] = np.int64(1)
    store.append(record)
    line = (tmp_path / "out" / RESULTS_FILE).read_text()
    assert line.endswith("\n") and line.count("\n") == 1 and "NaN" not in line
    (back,) = store.records()
    assert back["curve"][0]["dev_loss"] is None and back["seconds"] == 2.5 and back["seed"] == 1
    assert back["run_id"] == record["run_id"] and back["score"] == 0.5


def test_a_record_without_its_key_is_refused(tmp_path, make_record):
    record = make_record()
    del record["eval_lang"]
    with pytest.raises(ValueError, match="eval_lang"):
        ResultsStore(tmp_path).append(record)


@pytest.mark.parametrize("tail", [b'{"run_id": "torn", "eval_la', b'{"run_id": "torn", "eval_la\x00\x00\n'])
def test_torn_last_line_is_ignored_then_cut_by_the_next_append(tmp_path, make_record, caplog, tail):
    store = ResultsStore(tmp_path)
    first, second = make_record(seed=1), make_record(seed=2)
    store.append(first)
    path = tmp_path / RESULTS_FILE
    valid = path.read_bytes()
    with open(path, "ab") as file:  # what a kill in the middle of a write leaves behind
        file.write(tail)

    with caplog.at_level(logging.WARNING, logger="xadapt.study.results"):
        assert [r["seed"] for r in ResultsStore(tmp_path).records()] == [1]
    assert "incomplete record" in caplog.text

    ResultsStore(tmp_path).append(second)
    data = path.read_bytes()
    assert data.startswith(valid) and b"torn" not in data and data.endswith(b"\n")
    assert [json.loads(line)["seed"] for line in data.splitlines()] == [1, 2]


def test_a_damaged_line_before_the_end_is_an_error_not_a_lost_result(tmp_path, make_record):
    store = ResultsStore(tmp_path)
    store.append(make_record(seed=1))
    with open(tmp_path / RESULTS_FILE, "ab") as file:
        file.write(b"not json\n")
    store.append(make_record(seed=2))
    with pytest.raises(XadaptError, match="line 2 of .*results.jsonl"):
        store.records()


def test_done_keys_count_failures_unless_retrying(tmp_path, make_record):
    store = ResultsStore(tmp_path)
    ok = make_record(train_lang="en", eval_lang="sw")
    ok_yo = make_record(train_lang="en", eval_lang="yo")
    failed = make_record(seed=2, score=None, status="failed", error="NaN loss")
    for record in (ok, ok_yo, failed):
        store.append(record)
    ok_keys = {(ok["run_id"], "sw"), (ok_yo["run_id"], "yo")}
    assert ok["run_id"] == ok_yo["run_id"]
    assert store.done_keys() == ok_keys | {(failed["run_id"], "sw")}
    assert store.done_keys(retry_failed=True) == ok_keys


def test_empty_directory_has_no_records(tmp_path):
    assert ResultsStore(tmp_path / "nothing").records() == []
    assert ResultsStore(tmp_path / "nothing").done_keys() == set()


# the study manifest


def test_open_writes_the_manifest_and_reopens_the_same_study(tmp_path, make_record):
    out = tmp_path / "out"
    ResultsStore.open(out, STUDY).append(make_record())
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest == {**STUDY, "study_id": study_id(STUDY), "environments": {}}
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp file left
    reopened = ResultsStore.open(out, dict(reversed(list(STUDY.items()))))
    assert len(reopened.records()) == 1


def test_each_environment_is_named_once_in_the_manifest_and_on_every_record_it_wrote(tmp_path, make_record):
    out = tmp_path / "out"
    old = {"packages": {"transformers": "5.23.0"}, "threads": 2}
    new = {"packages": {"transformers": "5.24.0"}, "threads": 2}
    store = ResultsStore.open(out, STUDY)
    first = store.add_environment(old)
    store.append(make_record(seed=1))
    resumed = ResultsStore.open(out, STUDY)  # the same study resumed after an upgrade keeps its id
    assert resumed.add_environment(old) == first
    second = resumed.add_environment(new)
    assert json.loads((out / MANIFEST_FILE).read_text())["environments"] == {first: old}  # nothing appended yet
    resumed.append(make_record(seed=2))
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert second != first and manifest["environments"] == {first: old, second: new}
    assert study_id(manifest) == study_id(STUDY) == manifest["study_id"]
    assert [r["environment"] for r in resumed.records()] == [first, second]


def test_a_different_study_is_refused_and_nothing_is_touched(tmp_path, make_record):
    out = tmp_path / "out"
    ResultsStore.open(out, STUDY).append(make_record())
    before = _snapshot(out)
    other = {**STUDY, "seeds": [1, 2, 3]}
    with pytest.raises(XadaptError) as err:
        ResultsStore.open(out, other)
    message = str(err.value)
    assert study_id(STUDY) in message and study_id(other) in message
    assert "seeds" in message and "--out" in message and "delete" in message
    assert _snapshot(out) == before


def test_results_of_another_study_without_manifest_are_refused(tmp_path, make_record):
    ResultsStore(tmp_path).append(make_record())  # make_record's study_id is "synthetic"
    before = _snapshot(tmp_path)
    with pytest.raises(XadaptError, match="synthetic"):
        ResultsStore.open(tmp_path, STUDY)
    assert _snapshot(tmp_path) == before


def test_a_damaged_manifest_is_a_user_error(tmp_path):
    (tmp_path / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(XadaptError, match="study.json"):
        ResultsStore.open(tmp_path, STUDY)


def test_an_output_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("")
    with pytest.raises(XadaptError, match="is a file"):
        ResultsStore.open(tmp_path / "out", STUDY)


# the tabular view


def test_summary_numbers_for_a_known_set(make_record):
    records = [make_record(seed=seed, score=score) for seed, score in [(1, 0.5), (2, 0.6), (3, 0.7)]]
    records.append(make_record(method="finetune", score=0.42))
    stats = summarize(results_frame(records), ["method"]).set_index("method")
    adapter, finetune = stats.loc["adapter"], stats.loc["finetune"]
    assert adapter["n"] == 3
    assert adapter["mean"] == pytest.approx(0.6)
    assert adapter["std"] == pytest.approx(0.1)  # sample std (ddof=1)
    # t(0.975, df=2) = 4.302653; half-width = t * s / sqrt(n)
    assert adapter["ci95"] == pytest.approx(4.302653 * 0.1 / math.sqrt(3), rel=1e-6)
    assert finetune["n"] == 1 and finetune["mean"] == pytest.approx(0.42)
    assert math.isnan(finetune["std"]) and math.isnan(finetune["ci95"])


def test_failed_scores_are_never_averaged(make_record):
    records = [make_record(score=0.5), make_record(seed=2, score=None, status="failed", error="NaN loss")]
    stats = summarize(results_frame(records), ["method"])
    assert stats["n"].tolist() == [1] and stats["mean"].tolist() == [0.5]


def test_a_retried_run_replaces_its_failure(make_record):
    failed = make_record(score=None, status="failed", error="NaN loss")
    frame = results_frame([failed, make_record(score=0.7)])
    assert frame["status"].tolist() == ["ok"] and frame["score"].tolist() == [0.7]


def test_best_learning_rate_is_chosen_on_dev_not_test(make_record):
    good_on_dev = [make_record(lr=1e-4, seed=s, score=0.50, dev_score=0.80) for s in (1, 2)]
    good_on_test = [make_record(lr=1e-3, seed=s, score=0.60, dev_score=0.70) for s in (1, 2)]
    chosen = best_lr_runs(results_frame(good_on_dev + good_on_test))
    assert set(chosen["lr"]) == {1e-4} and len(chosen) == 2


def test_language_pairs_put_in_language_first(make_record):
    records = [make_record(train_lang=t, eval_lang=e) for t, e in [("en", "yo"), ("sw", "sw"), ("en", "sw")]]
    assert language_pairs(results_frame(records)) == [("sw", "sw"), ("en", "sw"), ("en", "yo")]
