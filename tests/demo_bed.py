"""The demo's test bed: tiny trained parts on the real default model and data, and the app serving them.

Everything is trained once per session into a temporary XADAPT_HOME with the quickstart's own
`train_runs` (40 examples, 1 epoch, 2-step language adapters and
shared masked-LM head): the quickstart's WikiANN runs
(MAD-X and fine-tuned, trained on English) in the quickstart folder, where `xadapt demo
--quickstart` finds and reuses them, and a MAD-X SIB-200 adapter (Swahili), an XNLI adapter and an
XCOPA adapter (English) in a runs folder. Beside them lie broken parts the page must refuse with a
reason: a task adapter with corrupt weights, one saved for a model of another shape, a run of
another model, a fine-tuned model with corrupt weights and a language adapter with corrupt weights.
A study folder holds the runs' result records with their report and plots. The app is launched in
this process on a free port and closed at the end of the session.
"""

import json
import shutil
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from xadapt.demo.catalog import discover
from xadapt.demo.quickstart import QuickSettings, quick_run, quickstart_root, quickstart_runs, train_runs
from xadapt.models import model_identity, resolve_model
from xadapt.study.report import write_report
from xadapt.train.language import LanguageAdapterSettings

TINY = QuickSettings(samples=40, epochs=1, max_length=64, eval_limit=20, dev_limit=20,
                     language_adapter=LanguageAdapterSettings(steps=2, head_steps=2, batch_size=4, max_length=32,
                                                               heldout_sentences=16))
RUNS = (quick_run("sib200", "madx", "sw", ("sw",), TINY), quick_run("xnli", "adapter", "en", ("sw",), TINY),
        quick_run("xcopa", "adapter", "en", ("en",), TINY))
OTHER_FINGERPRINT = "0000000000000000"
# inputs the tests send the demo
SWAHILI = "Rais Samia Suluhu Hassan alizuru Dodoma jana."
TOPIC = "Timu ya taifa ilishinda mechi ya mpira wa miguu jana usiku."
PREMISE, HYPOTHESIS = "Mtoto anacheza mpira uwanjani.", "Mtoto yuko nje."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _corrupt(path: Path) -> None:
    path.write_bytes(b"these bytes are not a safetensors file")


def _edit_json(path: Path, change) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def _broken_parts(runs: Path, trained: dict[str, Path], adapters: Path) -> dict[str, Path]:
    """Copies of trained parts, each broken in one way; returns them by what is wrong."""
    broken = runs / "broken"
    parts = {
        "corrupt": shutil.copytree(trained["xnli"], broken / "corrupt-weights"),
        "shape": shutil.copytree(trained["xcopa"], broken / "other-shape"),
        "model": shutil.copytree(trained["xcopa"], broken / "other-model"),
    }
    _corrupt(parts["corrupt"] / "adapter" / "weights.safetensors")
    _edit_json(parts["shape"] / "adapter" / "xadapt_adapter.json", lambda d: d["base_model"].update(hidden_size=512))
    _edit_json(parts["model"] / "run.json", lambda d: d["model"].update(fingerprint=OTHER_FINGERPRINT))
    finetuned = broken / "corrupt-finetuned"  # run.json and head of the real one, a config and corrupt weights
    (finetuned / "model").mkdir(parents=True)
    shutil.copy(trained["finetune"] / "run.json", finetuned)
    shutil.copytree(trained["finetune"] / "head", finetuned / "head")
    shutil.copy(trained["finetune"] / "model" / "config.json", finetuned / "model")
    _corrupt(finetuned / "model" / "model.safetensors")
    parts["finetuned"] = finetuned
    sw = next(adapters.glob("*/sw-*"))
    language = shutil.copytree(sw, sw.parent / "sw-corrupt")
    _corrupt(language / "adapter" / "weights.safetensors")
    parts["language"] = language / "adapter"
    return parts


def _study(runs: Path, trained: dict[str, Path]) -> Path:
    """A study folder made of the trained runs' records, with its report and plots."""
    study = runs / "study"
    study.mkdir()
    records = [r for path in trained.values() for r in json.loads((path / "metrics.json").read_text())]
    (study / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    write_report(study)
    return study


@pytest.fixture(scope="session")
def demo_env(tmp_path_factory, real_data):
    """Trained and broken parts in a fresh XADAPT_HOME, and the catalog ids of each."""
    model = str(resolve_model("multilingual-e5-small"))  # before XADAPT_HOME moves: no second conversion
    fingerprint = model_identity(Path(model))["fingerprint"]
    home = tmp_path_factory.mktemp("xadapt_home")
    runs = tmp_path_factory.mktemp("demo_runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XADAPT_HOME", str(home))
        quick = train_runs(quickstart_runs(TINY), quickstart_root() / fingerprint, model, real_data, TINY)
        others = train_runs(RUNS, runs, model, real_data, TINY)
        trained = {"madx": quick[0], "finetune": quick[1], **{r.task: path for r, path in zip(RUNS, others)}}
        adapters = home / "language_adapters"
        broken = _broken_parts(runs, trained, adapters)
        study = _study(runs, trained)
        catalog = discover([runs, quickstart_root()], adapters, fingerprint)
        ids = {entry.path.resolve(): entry.id for entry in [*catalog.runs.values(), *catalog.language_adapters.values()]}
        yield SimpleNamespace(
            model=model, home=home, runs=runs, data=real_data, fingerprint=fingerprint, adapters=adapters,
            run={name: ids[path.resolve()] for name, path in trained.items()},
            broken={name: ids[path.resolve()] for name, path in broken.items()},
            language={a.lang: a.id for a in catalog.usable_language_adapters() if a.path.resolve() != broken["language"].resolve()},
            study=next(iter(catalog.studies)), study_path=study,
        )


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def app(demo_env):
    """The demo, served in this process."""
    pytest.importorskip("gradio")
    from xadapt.demo.app import serve

    demo = serve([demo_env.runs], None, demo_env.model, port=free_port(), data_dir=demo_env.data)
    yield demo
    demo.close()


@pytest.fixture(scope="session")
def client(app):
    from gradio_client import Client

    return Client(app.local_url, verbose=False, analytics_enabled=False)
