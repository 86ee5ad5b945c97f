"""A bad sweep is refused before anything is written, with a message that says what to do instead.

Covers `sweep.validate`, the different-study guard of `run_sweep`/`ResultsStore`, the CLI's handling
of bad flags (`xadapt sweep`), and the plain-data contract of jobs and the printed estimate. Nothing
here trains: every case fails (or is computed) before a model is loaded.
"""

import pickle

import pytest
from typer.testing import CliRunner

from xadapt.cli import app
from xadapt.errors import XadaptError
from xadapt.study.config import StudyConfig
from xadapt.study.plan import make_plan
from xadapt.study.results import MANIFEST_FILE, RESULTS_FILE, ResultsStore, study_id
from xadapt.study.sweep import RunJob, estimate_seconds, keeps_artifacts, run_seconds, run_sweep, schedule, validate

OTHER_STUDY = {"task": "sib200", "lang": "yo", "methods": ["adapter"], "seeds": [7]}


def _one_line(text: str) -> str:
    """The CLI's console wraps long messages; compare them with whitespace collapsed."""
    return " ".join(text.split())


def _snapshot(directory) -> dict:
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


@pytest.fixture
def other_study_out(tmp_path):
    """An output directory holding another study's manifest and one of its records."""
    out = tmp_path / "out"
    store = ResultsStore.open(out, OTHER_STUDY)
    store.append({"run_id": "abc123", "eval_lang": "yo", "study_id": study_id(OTHER_STUDY), "method": "adapter", "score": 0.5})
    before = _snapshot(out)
    assert set(before) == {MANIFEST_FILE, RESULTS_FILE}
    return out, before


# validate


def test_a_valid_study_is_normalised(real_data):
    study = validate(StudyConfig(task="ner", lang="swa", source="eng", targets=["swh_Latn"]), real_data)
    assert (study.task, study.lang, study.source, study.targets) == ("wikiann", "sw", "en", ["sw"])


def test_unknown_task_lists_the_tasks(real_data):
    with pytest.raises(XadaptError) as err:
        validate(StudyConfig(task="nope"), real_data)
    message = str(err.value)
    assert "unknown task 'nope'" in message
    for task in ("wikiann", "sib200", "xnli", "afrisenti", "masakhaner", "xcopa"):
        assert task in message


@pytest.mark.parametrize("values", [{"lang": "xx"}, {"source": "xx"}, {"targets": ["sw", "xx"]}])
def test_unknown_language_is_named_with_the_languages_on_disk(real_data, values):
    with pytest.raises(XadaptError) as err:
        validate(StudyConfig(**values), real_data)
    assert "unknown language 'xx'" in str(err.value)
    on_disk = str(err.value).split("has files here for:")[1]
    assert {"en", "sw", "yo"} <= {code.strip(" .") for code in on_disk.split(",")}


def test_a_language_the_task_lacks_says_which_it_has(real_data):
    with pytest.raises(XadaptError) as err:
        validate(StudyConfig(task="afrisenti", lang="yo", source=None, samples=100), real_data)
    assert "yo" in str(err.value) and "languages on disk: sw" in str(err.value)


def test_unknown_method_lists_the_methods(real_data):
    with pytest.raises(XadaptError) as err:
        validate(StudyConfig(methods=["adapter", "bitfit"]), real_data)
    message = str(err.value)
    assert "unknown training method 'bitfit'" in message
    for method in ("finetune", "head", "adapter", "madx", "fusion", "lora", "prefix"):
        assert method in message


def test_learning_rates_for_an_unknown_method_are_refused(real_data):
    """A misspelt method in lrs would otherwise leave that method at its default rate, silently."""
    with pytest.raises(XadaptError) as err:
        validate(StudyConfig(lrs={"finetun": [1e-5]}), real_data)
    assert "'finetun'" in str(err.value) and "not a method of this study" in str(err.value) and "finetune" in str(err.value)


def test_any_registered_adapter_method_is_accepted(real_data):
    assert validate(StudyConfig(methods=["lora", "par_bn"], samples=100), real_data).methods == ["lora", "par_bn"]


def test_size_larger_than_the_split_says_how_large_the_split_is(real_data):
    with pytest.raises(XadaptError) as err:
        validate(StudyConfig(samples=5000), real_data)
    message = str(err.value)
    assert "training size 5000" in message and "sw train" in message
    assert "has 1000 examples" in message and "up to 1000" in message


def test_size_is_checked_for_the_zero_shot_source_too(real_data):
    with pytest.raises(XadaptError) as err:
        validate(StudyConfig(lang="sw", source="yo", sizes=[500]), real_data)  # sw has 1000, yo only 100
    assert "yo train, which has 100 examples" in str(err.value)


def test_the_whole_split_can_be_asked_for_with_samples(real_data):
    """The error says 'up to 701'; asking for exactly that must then work."""
    assert max(validate(StudyConfig(task="sib200", samples=701), real_data).training_sizes()) == 701


def test_madx_without_raw_text_says_to_drop_it(real_data):
    with pytest.raises(XadaptError) as err:
        validate(StudyConfig(targets=["de"], samples=100), real_data)
    assert "raw text" in str(err.value) and "drop madx" in str(err.value)


# a directory that holds another study


def test_run_sweep_refuses_a_directory_of_another_study_and_writes_nothing(real_data, other_study_out):
    out, before = other_study_out
    with pytest.raises(XadaptError) as err:
        run_sweep(StudyConfig(sizes=[20], seeds=[0]), out, real_data)
    assert "different study" in str(err.value) and "--out" in str(err.value)
    assert _snapshot(out) == before


def test_results_store_refuses_another_study_and_writes_nothing(other_study_out):
    out, before = other_study_out
    with pytest.raises(XadaptError) as err:
        ResultsStore.open(out, {**OTHER_STUDY, "seeds": [8]})
    assert "seeds" in str(err.value)  # names what differs
    assert _snapshot(out) == before
    assert ResultsStore.open(out, OTHER_STUDY).records()[0]["run_id"] == "abc123"  # the same study reopens it


# the CLI


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--lrs", "abc"], ["--lrs", "abc"]),
        (["--lrs", "adapter=1e-4:fast"], ["--lrs"]),
        (["--lrs", "0"], ["learning rate 0.0", "not a positive number"]),
        (["--sizes", "100,many"], ["--sizes"]),
        (["--seeds", ""], ["--seeds is empty"]),
        (["--task", "nope"], ["unknown task 'nope'", "wikiann"]),
        (["--lang", "xx"], ["unknown language 'xx'"]),
        (["--methods", "finetune,bitfit"], ["unknown training method 'bitfit'", "madx", "xadapt methods"]),
        (["--lrs", "finetun=1e-5"], ["'finetun'", "not a method of this study", "--lrs"]),
        (["--samples", "5000"], ["has 1000 examples"]),
        ([], ["different study"]),  # valid flags, but OUT holds another study
    ],
)
def test_cli_bad_input_exits_with_a_message_and_leaves_out_untouched(real_data, other_study_out, flags, expected):
    out, before = other_study_out
    result = CliRunner().invoke(app, ["sweep", "--data-dir", str(real_data), "--out", str(out), *flags])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    text = _one_line(result.output)
    assert "error:" in text
    for part in expected:
        assert part in text
    assert _snapshot(out) == before


def test_cli_lang_adapter_steps_must_be_positive(real_data, tmp_path):
    result = CliRunner().invoke(app, ["sweep", "--data-dir", str(real_data), "--out", str(tmp_path / "o"), "--lang-adapter-steps", "0"])
    assert result.exit_code != 0
    assert "--lang-adapter-steps" in result.output
    assert not (tmp_path / "o").exists()


def test_cli_lang_adapter_vocabulary_names_the_choices(real_data, tmp_path):
    result = CliRunner().invoke(app, ["sweep", "--data-dir", str(real_data), "--out", str(tmp_path / "o"), "--lang-adapter-vocabulary", "words"])
    assert result.exit_code == 2
    assert "--lang-adapter-vocabulary" in result.output and "'full'" in result.output and "'corpus'" in result.output
    assert not (tmp_path / "o").exists()


def test_cli_flags_given_explicitly_beat_the_study_file(real_data, tmp_path):
    """A study file names sib200; `--task wikiann --samples 5000` must be what is checked (and refused)."""
    config = tmp_path / "study.yaml"
    config.write_text("task: sib200\nlang: sw\nsamples: 100\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["sweep", "--config", str(config), "--task", "wikiann", "--samples", "5000", "--data-dir", str(real_data), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "larger than WikiANN sw train, which has 1000 examples" in _one_line(result.output)


def test_cli_the_study_file_beats_flags_left_at_their_defaults(real_data, tmp_path, monkeypatch):
    """task, lang, samples and source come from the file unless typed: typer 0.29 bundles its own
    click, and a flag left at its default must still be recognised as one."""
    import xadapt.study.sweep as sweep_module

    planned = {}

    def plan_only(study, *args, **kwargs):
        planned.update(task=study.task, lang=study.lang, samples=study.samples, source=study.source)
        raise XadaptError("stopped before training")

    monkeypatch.setattr(sweep_module, "run_sweep", plan_only)
    config = tmp_path / "study.yaml"
    config.write_text("task: sib200\nlang: yo\nsamples: 300\nsource: null\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["sweep", "--config", str(config), "--data-dir", str(real_data), "--out", str(tmp_path / "o")])
    assert "stopped before training" in _one_line(result.output)
    assert planned == {"task": "sib200", "lang": "yo", "samples": 300, "source": None}
    CliRunner().invoke(app, ["sweep", "--config", str(config), "--lang", "sw", "--source", "en", "--out", str(tmp_path / "o")])
    assert planned == {"task": "sib200", "lang": "sw", "samples": 300, "source": "en"}  # typed flags win


def test_cli_study_file_with_unknown_key_is_refused(real_data, tmp_path):
    config = tmp_path / "study.yaml"
    config.write_text("task: wikiann\nlearning_rates: [1.0e-4]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["sweep", "--config", str(config), "--data-dir", str(real_data), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "unknown study settings ['learning_rates']" in _one_line(result.output)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("task: wikiann\nlang: sw\nepochs: \"three\"\n", "study.yaml:3: study setting epochs must be a whole number, got 'three'"),
        ("task: wikiann\nmethods: adapter\n", "study.yaml:2: study setting methods must be a list of names"),
        ("task: wikiann\nseeds: [0, 1\nepochs: 2\n", "study.yaml:3: "),
    ],
)
def test_cli_study_file_errors_name_the_line(real_data, tmp_path, text, message):
    config = tmp_path / "study.yaml"
    config.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["sweep", "--config", str(config), "--data-dir", str(real_data), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert message in line and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_cli_protocol_names_the_known_ones(real_data, tmp_path):
    result = CliRunner().invoke(app, ["sweep", "--protocol", "he2020", "--data-dir", str(real_data), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "unknown protocol 'he2020'; choose from he2021" in _one_line(result.output)
    assert not (tmp_path / "o").exists()


def test_cli_protocol_refuses_a_study_file_that_plans_its_parts(real_data, tmp_path):
    config = tmp_path / "study.yaml"
    config.write_text("long_training: {sizes: [100], epochs: 12}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["sweep", "--protocol", "he2021", "--config", str(config), "--data-dir", str(real_data),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "plans lr_sweep and long_training itself" in _one_line(result.output)
    assert not (tmp_path / "o").exists()


def test_cli_report_of_several_studies_needs_its_own_out(tmp_path):
    for name in ("a", "b"):
        ResultsStore(tmp_path / name).append({"run_id": name, "eval_lang": "sw", "status": "ok", "score": 0.5})
    result = CliRunner().invoke(app, ["report", str(tmp_path / "a"), str(tmp_path / "b")])
    assert result.exit_code == 1 and "name its directory with --out" in _one_line(result.output)
    result = CliRunner().invoke(app, ["report", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "a")])
    assert result.exit_code == 1 and "holds a study of its own" in _one_line(result.output)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(tmp_path / "a"), "--out", str(tmp_path / "file")])
    assert result.exit_code == 1 and "is a file" in _one_line(result.output)
    assert not (tmp_path / "a" / "report.md").exists()


# jobs and the estimate


def test_jobs_are_plain_picklable_data():
    """A cluster executor receives the same jobs: they must survive pickling unchanged."""
    study = StudyConfig(sizes=[20], seeds=[0])
    run = make_plan(study).runs[0]
    job = RunJob(study.to_dict(), "/data", run, study_id(study.to_dict()))
    again = pickle.loads(pickle.dumps(job))
    assert again == job
    assert StudyConfig.from_dict(again.study) == study


def test_a_sweep_keeps_the_parts_of_the_first_seed_and_fine_tuned_encoders_only_at_the_largest_size():
    study = StudyConfig(sizes=[100, 300], seeds=[2, 0])
    kept = {(r.method, r.samples, r.seed) for r in make_plan(study).runs if keeps_artifacts(study, r)}
    assert kept == {("adapter", 100, 2), ("adapter", 300, 2), ("madx", 100, 2), ("madx", 300, 2), ("finetune", 300, 2)}


def test_estimate_counts_pending_work_only():
    study = StudyConfig()
    plan = make_plan(study)
    everything = estimate_seconds(study, list(plan.runs), list(plan.language_adapters))
    assert estimate_seconds(study, [], []) == 0
    assert 0 < estimate_seconds(study, list(plan.runs[:5]), []) < estimate_seconds(study, list(plan.runs), []) < everything
    # the shared MLM head is fitted only on the way to a language adapter that still has to be trained
    assert estimate_seconds(study, list(plan.runs), list(plan.language_adapters), fit_head=True) > everything
    assert estimate_seconds(study, list(plan.runs), [], fit_head=True) == estimate_seconds(study, list(plan.runs), [])
    assert 20 * 60 < everything < 4 * 3600  # the headline study: about an hour on two cores, not minutes or days


# output and cache folders that cannot be written: refused before any model loads


def test_one_worker_starts_runs_in_plan_order_and_several_start_the_longest_first():
    study = StudyConfig(source="en")
    runs = list(make_plan(study).runs)
    assert schedule(study, runs, 1) == runs  # smallest size first: early results cover every method
    ordered = schedule(study, runs, 2)
    assert sorted(ordered, key=runs.index) == runs  # the same runs, each once
    costs = [run_seconds(study, run) for run in ordered]
    assert costs == sorted(costs, reverse=True)
    assert ordered[0].samples == max(study.training_sizes()) and ordered[-1].samples == min(study.training_sizes())
    # full fine-tuning costs more per example than a task adapter, so at one size it starts first
    largest = [run.method for run in ordered if run.samples == ordered[0].samples and run.train_lang == study.lang]
    assert largest.index("finetune") < largest.index("adapter")


@pytest.mark.parametrize("command", ["sweep", "train"])
def test_an_unwritable_out_or_cache_is_refused_before_anything_trains(tmp_path, real_data, command, monkeypatch):
    import xadapt.study.runner as runner
    import xadapt.study.sweep as sweep

    for module in (runner, sweep):
        monkeypatch.setattr(module, "RunContext", lambda *args, **kwargs: pytest.fail("a model was loaded"))
    (tmp_path / "file").write_text("x")
    base = [command, "--task", "sib200", "--lang", "sw", "--samples", "20", "--data-dir", str(real_data)]
    cases = [
        ({}, "/proc/no-such-folder/out", "--out /proc/no-such-folder/out is not writable (/proc:"),
        ({}, str(tmp_path / "file" / "out"), f"--out {tmp_path / 'file' / 'out'} cannot be created: {tmp_path / 'file'} is a file"),
        ({"XADAPT_HOME": "/proc/no-such-home"}, str(tmp_path / "out"), "/proc/no-such-home"),
    ]
    for environment, out, message in cases:
        result = CliRunner().invoke(app, [*base, "--out", out], env=environment)
        assert result.exit_code == 1 and message in _one_line(result.output), result.output
        assert not (tmp_path / "out").exists()
