"""The points of the study tab's native plots, on synthetic records whose means are known."""

import numpy as np
import pytest
from scipy import stats

from xadapt.demo.report_view import curve_points, score_points
from xadapt.study.results import results_frame, run_id


def _record(method, samples, seed, lr, score, dev_peak):
    curve = [{"epoch": e, "dev_score": dev_peak - 0.1 * abs(e - 2), "dev_loss": 1.0, "train_loss": 1.0} for e in (1, 2, 3)]
    run = {"method": method, "samples": samples, "seed": seed, "lr": lr}
    return {**run, "run_id": run_id(run), "task": "wikiann", "train_lang": "sw", "eval_lang": "sw", "status": "ok",
            "score": score, "curve": curve, "epochs": 3, "metric": "seqeval_f1", "model": {"name": "m"}}


def test_points_are_seed_means_at_each_cells_best_dev_rate():
    records = []
    for seed in range(3):
        for samples in (100, 1000):
            base = 0.5 if samples == 100 else 0.7
            records.append(_record("finetune", samples, seed, 5e-5, base + 0.01 * seed, dev_peak=base))
            records.append(_record("adapter", samples, seed, 1e-4, base - 0.2, dev_peak=base - 0.2))  # worse on dev
            records.append(_record("adapter", samples, seed, 1e-3, base + 0.05 + 0.02 * seed, dev_peak=base + 0.05))
    frame = results_frame(records)
    scores = score_points(frame).set_index(["method", "samples"])
    assert len(scores) == 4 and set(scores["series"]) == {"finetune, sw→sw", "adapter, sw→sw"}
    adapter = [0.75 + 0.02 * seed for seed in range(3)]  # 1e-3: the better dev rate
    assert scores.loc[("adapter", 1000), "score"] == pytest.approx(np.mean(adapter))
    half = stats.t.ppf(0.975, 2) * np.std(adapter, ddof=1) / np.sqrt(3)
    assert scores.loc[("adapter", 1000), "ci95"] == pytest.approx(half) and scores.loc[("adapter", 1000), "n"] == 3
    assert scores.loc[("finetune", 100), "score"] == pytest.approx(0.51)
    curves = curve_points(frame).set_index(["method", "samples", "epoch"])
    assert curves.loc[("adapter", 100, 2), "dev_score"] == pytest.approx(0.55)  # the 1e-3 runs only
    assert curves.loc[("adapter", 100, 1), "dev_score"] == pytest.approx(0.45) and curves.loc[("adapter", 100, 1), "n"] == 3


def test_a_study_without_successful_runs_has_empty_plots():
    record = {**_record("adapter", 100, 0, 1e-3, None, 0.5), "status": "failed", "curve": []}
    frame = results_frame([record])
    assert score_points(frame).empty and curve_points(frame).empty


def test_runs_of_different_training_rules_are_separate_series():
    short = [_record("adapter", 100, seed, 1e-3, 0.5, dev_peak=0.5) for seed in range(2)]
    long = [{**_record("adapter", 100, seed, 1e-3, 0.6, dev_peak=0.9), "epochs": 5} for seed in range(2)]
    for record in long:
        record["run_id"] = record["run_id"] + "-long"
    frame = results_frame(short + long)
    curves, scores = curve_points(frame), score_points(frame)
    assert curves["series"].nunique() == 2 and scores["series"].nunique() == 2
    assert curves.groupby("series")["dev_score"].max().sort_values().tolist() == pytest.approx([0.5, 0.9])
