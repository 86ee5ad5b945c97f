"""Experiment tracking: two tiny training runs reported to TensorBoard, W&B (offline) and MLflow (a file
store), each read back with the tracker's own reader; a missing or unknown tracker is refused first."""

import json
import os

import pytest
import torch
from transformers import BertConfig, BertModel

from xadapt.adapters import AdapterModel
from xadapt.errors import XadaptError
from xadapt.train.evaluate import Evaluation
from xadapt.train.task import ComposedModel, TrainSettings, train
from xadapt.train.tracking import TRACKERS, Tracking

EPOCHS = 3


def _composed() -> ComposedModel:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                        max_position_embeddings=32)
    model = AdapterModel(BertModel(config, add_pooling_layer=False))
    model.add_head("task", "token_classification", num_labels=3)
    model.train_all()
    return ComposedModel(model, None)


def _rows():
    generator = torch.Generator().manual_seed(1)
    return [{"input_ids": torch.randint(3, 60, (6,), generator=generator).tolist(), "attention_mask": [1] * 6,
             "labels": torch.randint(0, 3, (6,), generator=generator).tolist()} for _ in range(8)]


def _collate(features):
    return {key: torch.tensor([f[key] for f in features]) for key in ("input_ids", "attention_mask", "labels")}


def _two_runs(tracking: Tracking) -> list[list[dict]]:
    """Train two runs, `run-a` and `run-b`; the dev curve each recorded (a scripted dev score per epoch)."""
    curves = []
    for name in ("run-a", "run-b"):
        scores = iter([0.2, 0.5, 0.4])

        def dev_score(composed, scores=scores):
            return Evaluation(loss=1.0, scores={"accuracy": next(scores)})

        settings = TrainSettings(lr=1e-3, epochs=EPOCHS, batch_size=4, seed=0)
        tracker, _ = train(_composed(), _rows(), _collate, settings, dev_score, "accuracy", tracking=tracking, run_name=name)
        curves.append(tracker.curve)
    return curves


def test_tensorboard_event_files_hold_each_runs_dev_curve(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    curves = _two_runs(Tracking("tensorboard", str(tmp_path / "tb")))
    for name, curve in zip(("run-a", "run-b"), curves):
        events = EventAccumulator(str(tmp_path / "tb" / name))
        events.Reload()
        dev = [event.value for event in events.Scalars("train/dev_accuracy")]
        assert dev == pytest.approx([point["dev_score"] for point in curve]) and len(dev) == EPOCHS
        assert len(events.Scalars("train/loss")) == EPOCHS  # the training loss, once per epoch


def _wandb_records(path):
    """The protobuf records of an offline W&B run file: a 7-byte `:W&B` header, then LevelDB's log format
    (32 KiB blocks of chunks, each with a 4-byte checksum, a 2-byte length and a type: 1 whole, 2-4 parts)."""
    from wandb.proto.wandb_internal_pb2 import Record

    data, position, parts = path.read_bytes(), 7, []
    while position + 7 <= len(data):
        if 32768 - position % 32768 < 7:  # a block's tail too short for a chunk header is padding
            position += 32768 - position % 32768
            continue
        length, kind = int.from_bytes(data[position + 4:position + 6], "little"), data[position + 6]
        parts.append(data[position + 7:position + 7 + length])
        position += 7 + length
        if kind in (1, 4):
            record = Record()
            record.ParseFromString(b"".join(parts))
            parts = []
            yield record


def test_wandb_offline_runs_one_named_run_per_training_run_in_the_group(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    curves = _two_runs(Tracking("wandb", group="study-1234"))
    files = sorted((tmp_path / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == 2  # the first run was finished, not joined by the second
    seen = {}
    for path in files:
        records = list(_wandb_records(path))
        [run] = [r.run for r in records if r.WhichOneof("record_type") == "run"]
        dev = [json.loads(item.value_json) for r in records if r.WhichOneof("record_type") == "history"
               for item in r.history.item if "/".join(item.nested_key) == "train/dev_accuracy" or item.key == "train/dev_accuracy"]
        seen[run.display_name] = (run.run_group, dev)
    assert seen == {"run-a": ("study-1234", [p["dev_score"] for p in curves[0]]), "run-b": ("study-1234", [p["dev_score"] for p in curves[1]])}
    assert "WANDB_RUN_GROUP" not in os.environ  # set only while the runs trained


def test_mlflow_file_store_holds_a_named_run_per_training_run_in_the_study_experiment(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps the file store only on request
    curves = _two_runs(Tracking("mlflow", group="study-1234"))
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("study-1234")
    runs = {run.info.run_name: run for run in client.search_runs([experiment.experiment_id])}
    assert set(runs) == {"run-a", "run-b"}
    history = [m.value for m in sorted(client.get_metric_history(runs["run-a"].info.run_id, "dev_accuracy"), key=lambda m: m.step)]
    assert history == pytest.approx([point["dev_score"] for point in curves[0]])


def test_an_unknown_or_missing_tracker_is_refused_before_any_work(monkeypatch):
    with pytest.raises(XadaptError, match="unknown tracker 'neptune'"):
        Tracking("neptune").check()
    monkeypatch.setitem(TRACKERS, "tensorboard", TRACKERS["tensorboard"].__class__("tensorboard", "no_such_package_xyz", TRACKERS["tensorboard"].callbacks))
    with pytest.raises(XadaptError, match=r"needs the no_such_package_xyz package.*xadapt\[tracking\]"):
        Tracking("tensorboard").check()
    Tracking("none").check()


def test_a_run_that_fails_ends_its_tracked_run_so_the_next_does_not_join_it(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    from xadapt.train.task import TrainingDiverged

    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    tracking = Tracking("mlflow", group="study-5678")

    def diverges(composed):
        raise TrainingDiverged("loss became nan during training")

    settings = TrainSettings(lr=1e-3, epochs=EPOCHS, batch_size=4, seed=0)
    with pytest.raises(TrainingDiverged):
        train(_composed(), _rows(), _collate, settings, diverges, "accuracy", tracking=tracking, run_name="run-a")
    train(_composed(), _rows(), _collate, settings, lambda c: Evaluation(1.0, {"accuracy": 0.5}), "accuracy",
          tracking=tracking, run_name="run-b")
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("study-5678").experiment_id])
    assert sorted(run.info.run_name for run in runs) == ["run-a", "run-b"]
    assert all(run.info.status != "RUNNING" for run in runs)
