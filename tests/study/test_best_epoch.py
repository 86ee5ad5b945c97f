"""A run of several epochs reports the best dev epoch: its weights give the score, the drift and the saved parts.

The dev scores are replaced by a fixed sequence whose best is the second of four epochs, so the
restore path runs every time; the real training, test evaluation and drift analysis run on the
default model and the shared WikiANN Swahili data.
"""

import pytest
import torch

from xadapt.study import runner
from xadapt.train import task
from xadapt.train.embedding_rows import trainable_state
from xadapt.study.config import StudyConfig
from xadapt.study.plan import TaskRun
from xadapt.train.evaluate import Evaluation
from xadapt.train.saved import load_run

DEV_SCORES = [0.30, 0.90, 0.10, 0.20]  # the best dev epoch is the second of four


@pytest.mark.slow
@pytest.mark.parametrize("method", ["adapter", "finetune"])
def test_score_drift_and_saved_parts_all_come_from_the_best_epoch(method, real_data, tmp_path, monkeypatch):
    study = StudyConfig(task="wikiann", lang="sw", samples=16, sizes=[16], methods=[method], seeds=[0], epochs=4,
                        patience=None, source=None, eval_limit=24, dev_limit=8, max_length=48)
    context = runner.RunContext(study, real_data)
    run = TaskRun(method, "wikiann", "sw", ("sw",), 16, 1e-3 if method == "adapter" else 1e-4, 0, 4)

    real_evaluate, dev_calls = runner.evaluate, []

    def scripted_dev(model, encoded, *args, **kwargs):
        result = real_evaluate(model, encoded, *args, **kwargs)
        if len(encoded) == study.dev_limit:  # the per-epoch dev evaluation (the test set has eval_limit rows)
            result = Evaluation(loss=result.loss, scores={**result.scores, context.spec.metric: DEV_SCORES[len(dev_calls)]})
            dev_calls.append(1)
        return result

    snapshots = []  # the trainable weights at the end of each epoch
    real_epoch_end = task._EpochEvaluation.on_epoch_end

    def snapshot_epoch_end(self, *args, **kwargs):
        real_epoch_end(self, *args, **kwargs)
        snapshots.append(trainable_state(self.composed))

    monkeypatch.setattr(runner, "evaluate", scripted_dev)
    monkeypatch.setattr(task._EpochEvaluation, "on_epoch_end", snapshot_epoch_end)
    [record] = runner.execute_run(context, run, "study", artifacts=tmp_path / "artifacts")
    assert record["stop_reason"] == "max_epochs" and record["epochs_trained"] == 4  # no patience: every epoch

    assert len(dev_calls) == 4 and [p["dev_score"] for p in record["curve"]] == DEV_SCORES
    assert record["best_epoch"] == 2 and len(snapshots) == 4

    saved = load_run(tmp_path / "artifacts")
    composed = saved.composed("sw")
    weights = dict(composed.named_parameters())
    best, last = snapshots[1], snapshots[3]
    assert all(torch.equal(weights[name], value) for name, value in best.items())  # the second epoch's weights
    assert any(not torch.equal(weights[name], value) for name, value in last.items())  # not the last epoch's
    monkeypatch.setattr(runner, "evaluate", real_evaluate)
    _, again = runner._test(context, composed, composed.composition, "sw")
    assert again[context.spec.metric] == pytest.approx(record["score"], abs=1e-9)  # the saved parts are the scored ones
    drift = runner._drift(context, saved.model, composed.composition, "sw")
    assert drift == pytest.approx(record["drift"]["similarity"], abs=1e-6)  # and so is the drift
    assert min(drift) < 1.0 - 1e-4  # trained weights, not the base model's


def _scripted(monkeypatch, study, metric, scores):
    """Replace the per-epoch dev metric by `scores` (one per epoch) and count the dev evaluations."""
    real_evaluate, calls = runner.evaluate, []

    def scripted_dev(model, encoded, *args, **kwargs):
        result = real_evaluate(model, encoded, *args, **kwargs)
        if len(encoded) == study.dev_limit:
            result = Evaluation(loss=result.loss, scores={**result.scores, metric: scores[len(calls)]})
            calls.append(1)
        return result

    monkeypatch.setattr(runner, "evaluate", scripted_dev)
    return calls


@pytest.mark.slow
def test_patience_stops_a_run_whose_dev_score_no_longer_improves(real_data, monkeypatch):
    study = StudyConfig(samples=16, sizes=[16], methods=["adapter"], seeds=[0], epochs=10, patience=2,
                        source=None, eval_limit=24, dev_limit=8, max_length=48)
    context = runner.RunContext(study, real_data)
    # the best is epoch 3; epochs 4 and 5 do not beat it (a tie is no improvement), so training stops after 5 of 10
    calls = _scripted(monkeypatch, study, context.spec.metric, [0.2, 0.4, 0.6, 0.5, 0.6, 0.9, 0.9, 0.9, 0.9, 0.9])
    run = TaskRun("adapter", "wikiann", "sw", ("sw",), 16, 1e-3, 0, 10, patience=2)
    [record] = runner.execute_run(context, run, "study")
    assert len(calls) == 5 and record["epochs_trained"] == 5 and record["best_epoch"] == 3
    assert record["stop_reason"] == "patience"
    assert record["protocol"]["patience"] == 2 and record["protocol"]["epochs"] == 10


@pytest.mark.slow
def test_a_time_budget_ends_training_after_the_epoch_that_spends_it(real_data, monkeypatch):
    study = StudyConfig(samples=16, sizes=[16], methods=["adapter"], seeds=[0], epochs=10, patience=5, time_budget=0.001,
                        source=None, eval_limit=24, dev_limit=8, max_length=48)
    context = runner.RunContext(study, real_data)
    _scripted(monkeypatch, study, context.spec.metric, [0.1 * k for k in range(1, 11)])  # always improving
    run = TaskRun("adapter", "wikiann", "sw", ("sw",), 16, 1e-3, 0, 10, patience=5, time_budget=0.001)
    [record] = runner.execute_run(context, run, "study")
    assert record["epochs_trained"] == 1 and record["stop_reason"] == "time_budget"
