"""StudyConfig: the defaults a sweep starts from, and every bad value refused with a clear message.

(Named test_study_config.py, not test_config.py: test folders are not packages, so two test
modules with one basename — tests/adapters/test_config.py exists — cannot be collected together.)
"""

import math
from dataclasses import fields

import pytest

from xadapt.errors import XadaptError
from xadapt.methods import get_method
from xadapt.study.config import DEFAULT_METHODS, FusionSettings, LearningRateSweep, LongTraining, StudyConfig
from xadapt.study.results import study_id
from xadapt.train.language import LanguageAdapterSettings


def test_defaults_are_the_headline_cpu_study():
    study = StudyConfig()
    assert (study.task, study.lang, study.source, study.samples) == ("wikiann", "sw", "en", 1000)
    assert study.methods == list(DEFAULT_METHODS) == ["finetune", "adapter", "madx"]
    assert study.seeds == [0, 1, 2]
    assert study.training_sizes() == [100, 300, 1000]
    assert study.target_languages() == ["sw"]
    assert isinstance(study.language_adapter, LanguageAdapterSettings)


def test_each_method_gets_its_usual_learning_rate():
    rates = StudyConfig().learning_rates()
    assert rates == {"finetune": [5e-5], "adapter": [1e-3], "madx": [1e-3]}
    assert rates["finetune"][0] < rates["adapter"][0]  # fine-tuning wants the smaller rate
    assert StudyConfig(methods=["lora"]).learning_rates() == {"lora": [1e-3]}  # any adapter method: the adapter rate


def test_given_rates_replace_only_the_methods_they_name():
    study = StudyConfig(lrs={"adapter": [1e-4, 1e-3]})
    assert study.learning_rates() == {"finetune": [get_method("finetune").lr], "adapter": [1e-4, 1e-3], "madx": [get_method("madx").lr]}


@pytest.mark.parametrize(
    ("samples", "sizes"),
    [(1000, [100, 300, 1000]), (10000, [1000, 3000, 10000]), (20, [2, 6, 20]), (701, [70, 200, 701]), (1810, [200, 600, 1810]), (1, [1])],
)
def test_default_sizes_are_log_spaced_and_end_at_samples(samples, sizes):
    """The largest size is `samples` exactly: a split's own size (SIB-200 701, AfriSenti 1810) must be usable."""
    assert StudyConfig(samples=samples).training_sizes() == sizes


def test_explicit_sizes_override_samples_sorted_and_deduplicated():
    assert StudyConfig(samples=1000, sizes=[300, 20, 300]).training_sizes() == [20, 300]


def test_targets_default_to_the_target_language():
    assert StudyConfig(lang="yo").target_languages() == ["yo"]
    assert StudyConfig(targets=["sw", "yo"]).target_languages() == ["sw", "yo"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"lrs": {"adapter": [0.0]}}, "learning rate 0.0 for adapter is not a positive number"),
        ({"lrs": {"finetune": [-1e-5]}}, "for finetune is not a positive number"),
        ({"lrs": {"adapter": [math.nan]}}, "learning rate nan for adapter"),
        ({"lrs": {"adapter": [math.inf]}}, "learning rate inf for adapter"),
        ({"lrs": {"adapter": ["fast"]}}, "learning rate 'fast' for adapter"),
        ({"lrs": [1e-4]}, "study setting lrs must be a mapping or null, got [0.0001]"),
        ({"epochs": "three"}, "study setting epochs must be a whole number, got 'three'"),
        ({"sizes": "eight"}, "study setting sizes must be a list of whole numbers, e.g. [100, 300] or null, got 'eight'"),
        ({"methods": "adapter"}, "study setting methods must be a list of names, e.g. [finetune, adapter], got 'adapter'"),
        ({"seeds": 0}, "study setting seeds must be a list of whole numbers"),
        ({"samples": True}, "study setting samples must be a whole number, got True"),
        ({"patience": -1}, "--patience must be a whole number of epochs, at least 1"),
        ({"patience": 1.5}, "study setting patience must be a whole number or null, got 1.5"),
        ({"time_budget": -5}, "--time-budget must be a positive number of seconds"),
        ({"zero_shot_sizes": "some"}, "zero_shot_sizes must be one of largest, all, got 'some'"),
        ({"lr_sweep": {"sizes": [300]}}, "lr_sweep needs lrs"),
        ({"lr_sweep": [300]}, "study setting lr_sweep must be a mapping or null"),
        ({"long_training": {"sizes": "100"}}, "long_training.sizes must be a list of positive training sizes"),
        ({"long_training": {"sizes": [100], "epochs": 5}}, "long_training.epochs must be a whole number of at least 10"),
        ({"long_training": {"sizes": [100], "epoch": 20}}, "unknown long_training settings ['epoch']"),
        ({"min_steps": 75}, "min_steps is gone"),
        ({"methods": []}, "--methods is empty"),
        ({"seeds": []}, "--seeds is empty"),
        ({"samples": 0}, "--samples must be a positive number"),
        ({"epochs": 0}, "--epochs must be at least 1"),
        ({"sizes": [100, 0]}, "training sizes must be positive, got 0"),
        ({"eval_limit": 0}, "eval_limit must be a positive number"),
        ({"language_adapter": {"steps": 0}}, "language_adapter.steps must be a positive number"),
        ({"language_adapter": {"lr": None}}, "language_adapter.lr must be a positive number"),
        ({"language_adapter": {"stpes": 10}}, "unknown language_adapter settings ['stpes']"),
        ({"language_adapter": {"output_vocabulary": "words"}}, "output_vocabulary must be one of full, corpus, got 'words'"),
    ],
)
def test_bad_values_raise_a_user_error(values, message):
    with pytest.raises(XadaptError) as err:
        StudyConfig.from_dict(values)
    assert message in str(err.value)


def test_from_dict_refuses_unknown_keys_and_names_the_known_ones():
    with pytest.raises(XadaptError) as err:
        StudyConfig.from_dict({"task": "wikiann", "learning_rate": 1e-4, "seed": 0})
    text = str(err.value)
    assert "['learning_rate', 'seed']" in text
    assert "'lrs'" in text and "'seeds'" in text  # the spelling the user probably meant


def test_from_dict_builds_nested_language_adapter_settings():
    study = StudyConfig.from_dict({"language_adapter": {"steps": 3, "heldout_sentences": 16}})
    assert study.language_adapter == LanguageAdapterSettings(steps=3, heldout_sentences=16)


def test_a_study_file_chooses_the_language_adapters_output_vocabulary():
    study = StudyConfig.from_dict({"language_adapter": {"output_vocabulary": "corpus", "steps": "20"}})
    assert study.language_adapter == LanguageAdapterSettings(steps=20, output_vocabulary="corpus")


def test_manifests_name_the_output_vocabulary_only_when_it_is_not_the_full_one():
    """Sweeps started before the setting existed must keep their study id (and madx runs their ids)."""
    default = StudyConfig(targets=["sw"])
    assert "output_vocabulary" not in default.to_dict()["language_adapter"]
    corpus = StudyConfig(targets=["sw"], language_adapter=LanguageAdapterSettings(output_vocabulary="corpus"))
    assert corpus.to_dict()["language_adapter"]["output_vocabulary"] == "corpus"
    assert study_id(corpus.to_dict()) != study_id(default.to_dict())
    for study in (default, corpus):
        assert StudyConfig.from_dict(study.to_dict()) == study


def test_yaml_style_rates_written_without_a_dot_are_numbers():
    """YAML 1.1 reads `1e-4` as text; a study file that writes rates that way still means numbers."""
    study = StudyConfig.from_dict({"lrs": {"adapter": "1e-4", "finetune": ["3e-5", 1e-5]}, "language_adapter": {"lr": "1e-3"}})
    assert study.learning_rates()["adapter"] == [1e-4]
    assert study.learning_rates()["finetune"] == [3e-5, 1e-5]
    assert study.language_adapter.lr == 1e-3


def test_round_trip_through_a_dict():
    study = StudyConfig(lang="yo", sizes=[50], lrs={"adapter": [1e-4]}, language_adapter=LanguageAdapterSettings(steps=7))
    assert StudyConfig.from_dict(study.to_dict()) == study
    assert StudyConfig(patience=0).patience is None and StudyConfig(time_budget=600).time_budget == 600.0
    parts = StudyConfig(time_budget=300, lr_sweep={"sizes": [300], "lrs": {"adapter": ["1e-4", 1e-3]}},
                        long_training={"sizes": [100], "epochs": 12})
    assert parts.lr_sweep.lrs == {"adapter": [1e-4, 1e-3]} and parts.long_training.methods is None
    assert StudyConfig.from_dict(parts.to_dict()) == parts  # what study.json holds is what workers rebuild
    assert "lr_sweep" not in StudyConfig().to_dict() and "time_budget" not in StudyConfig().to_dict()


def test_paper_profile_is_the_full_protocol_and_keeps_the_grid():
    study = StudyConfig(lang="yo", seeds=[1], sizes=[50]).paper_profile()
    assert (study.epochs, study.eval_limit, study.max_length) == (20, None, 256)
    assert study.language_adapter.steps == 100_000
    assert (study.lang, study.seeds, study.training_sizes()) == ("yo", [1], [50])


def test_precision_is_checked_and_named_in_the_manifest_only_when_chosen():
    with pytest.raises(XadaptError, match="precision must be one of auto, fp32, bf16, got 'fp16'"):
        StudyConfig(precision="fp16")
    assert "precision" not in StudyConfig().to_dict()  # auto: studies recorded before the choice keep their ids
    assert study_id(StudyConfig().to_dict()) != study_id(StudyConfig(precision="fp32").to_dict())
    assert StudyConfig.from_dict(StudyConfig(precision="bf16").to_dict()).precision == "bf16"


@pytest.mark.parametrize("kind", [StudyConfig, LearningRateSweep, LongTraining, FusionSettings])
def test_every_setting_says_what_it_is(kind):
    """The help of a study flag and of a study-file key is its field's, in one place."""
    missing = [f.name for f in fields(kind) if not f.metadata.get("help")]
    assert not missing, f"{kind.__name__} fields without metadata help: {missing}"


def test_list_defaults_are_not_shared_between_studies():
    first, second = StudyConfig(), StudyConfig()
    first.seeds.append(9)
    first.methods.append("lora")
    assert second.seeds == [0, 1, 2] and second.methods == list(DEFAULT_METHODS)
    assert FusionSettings().languages is not FusionSettings().languages


# the study's two sources: a study file and the flags of `xadapt sweep` (xadapt.study.settings_merge)


def _sweep_command():
    import typer

    from xadapt.cli import app

    return typer.main.get_command(app).commands["sweep"]


def test_every_plain_study_setting_is_a_sweep_option_with_the_fields_default_and_help():
    """The options are derived from StudyConfig: a new setting, default or help needs no edit of the CLI."""
    from xadapt.cli.methods import METHODS_HELP
    from xadapt.study.settings_merge import default_of, flag_fields, flag_name

    options = {opt: param for param in _sweep_command().params for opt in param.opts}
    settings = flag_fields()
    assert {f.name for f in settings} == {f.name for f in fields(StudyConfig)} - {"language_adapter", "lr_sweep", "long_training", "fusion"}
    for f in settings:
        param = options.get(flag_name(f.name))
        assert param is not None, f"StudyConfig.{f.name} has no {flag_name(f.name)} option"
        assert param.help == (METHODS_HELP if f.name == "methods" else f.metadata["help"])
        default = default_of(f)
        shown = ",".join(map(str, default)) if isinstance(default, list) else default
        assert getattr(param.default, "value", param.default) == shown, f.name
    assert flag_name("time_budget") == "--time-budget"
    declared = {param.name for param in _sweep_command().params if param.rich_help_panel is None} - {"help"}
    assert not declared & {f.name for f in settings}, "a study setting declared by hand in the CLI"
    assert {"fuse_tasks", "fuse_langs", "paper", "protocol", "config"} <= declared


def test_sweep_help_shows_every_study_flag_with_its_default():
    from typer.testing import CliRunner

    from xadapt.cli import app
    from xadapt.study.settings_merge import flag_fields, flag_name

    result = CliRunner().invoke(app, ["sweep", "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert result.exit_code == 0, result.output
    for f in flag_fields():
        assert flag_name(f.name) in result.output
    for shown in ("[default: wikiann]", "[default: finetune,adapter,madx]", "[default: 0,1,2]", "[default: 20]",
                  "[default: auto]", "--fuse-tasks", "--fuse-langs"):
        assert shown in result.output


def test_flags_typed_on_the_command_line_beat_the_study_file():
    from xadapt.study.settings_merge import merge_study

    file = {"task": "sib200", "lang": "yo", "samples": 300, "seeds": [5], "source": None}
    assert merge_study(file, {}) == StudyConfig(task="sib200", lang="yo", samples=300, seeds=[5], source=None)
    study = merge_study(file, {"lang": "sw", "seeds": ["0", "4"], "source": "en", "zero_shot_sizes": "all"})
    assert (study.task, study.lang, study.samples, study.seeds, study.source, study.zero_shot_sizes) == ("sib200", "sw", 300, [0, 4], "en", "all")
    assert merge_study({}, {"source": "none", "targets": []}).source is None  # --source none: in-language runs only
    assert merge_study({}, {"patience": 0}).patience is None  # built as a StudyConfig, its rules applied
    assert merge_study({}, {"methods": ["finetune", "lora"], "sizes": ["300", "100"]}).training_sizes() == [100, 300]


def test_learning_rate_flags_for_every_method_or_per_method():
    from xadapt.study.settings_merge import merge_study

    assert merge_study({"methods": ["finetune", "lora"]}, {"lrs": ["1e-4", "3e-4"]}).lrs == {"finetune": [1e-4, 3e-4], "lora": [1e-4, 3e-4]}
    study = merge_study({"lrs": {"finetune": ["2e-5"], "adapter": [1e-3]}}, {"lrs": ["adapter=1e-4:3e-4"]})
    assert study.lrs == {"finetune": [2e-5], "adapter": [1e-4, 3e-4]}  # the file's rates for the methods the flag leaves out
    with pytest.raises(XadaptError, match=r"--lrs takes comma-separated floats, e.g. --lrs 1e-4,3e-4; got 'abc'"):
        merge_study({}, {"lrs": ["abc"]})
    with pytest.raises(XadaptError, match="learning rate 0.0 for finetune is not a positive number"):
        merge_study({}, {"lrs": ["0"]})


@pytest.mark.parametrize(("flags", "message"), [
    ({"seeds": ["abc"]}, "--seeds takes comma-separated ints, e.g. --seeds 0,1,2; got 'abc'"),
    ({"sizes": ["100", "many"]}, "--sizes takes comma-separated ints, e.g. --sizes 100,300,1000"),
    ({"seeds": []}, "--seeds is empty"),
    ({"epochs": 0}, "--epochs must be at least 1"),
])
def test_bad_flags_are_named(flags, message):
    from xadapt.study.settings_merge import merge_study

    with pytest.raises(XadaptError) as err:
        merge_study({}, flags)
    assert message in str(err.value)


def test_a_wrong_study_file_setting_names_its_line_and_a_wrong_flag_does_not(tmp_path):
    from xadapt.study.settings_merge import load_study_file, merge_study

    path = tmp_path / "study.yaml"
    path.write_text("task: wikiann\nlang: sw\nepochs: three\n", encoding="utf-8")
    with pytest.raises(XadaptError, match=r"study.yaml:3: study setting epochs must be a whole number, got 'three'"):
        merge_study(load_study_file(path), {}, study_file=path)
    assert merge_study(load_study_file(path), {"epochs": 4}, study_file=path).epochs == 4  # the typed flag replaces it
    path.write_text("task: wikiann\npatience: 2\n", encoding="utf-8")
    with pytest.raises(XadaptError) as err:
        merge_study(load_study_file(path), {"patience": -1}, study_file=path)
    assert "--patience must be a whole number" in str(err.value) and "study.yaml:2" not in str(err.value)
    with pytest.raises(ValueError, match="not flags of study settings"):
        merge_study({}, {"language_adapter": {"steps": 3}})


def test_the_paper_profile_keeps_the_flags_typed_on_the_command_line():
    from xadapt.study.settings_merge import merge_study

    file = {"lang": "yo", "eval_limit": 100, "patience": 2}
    assert merge_study(file, {}, paper=True) == StudyConfig(lang="yo").paper_profile()
    study = merge_study(file, {"epochs": 5, "patience": 2, "dev_limit": 50, "precision": "fp32"}, paper=True)
    assert (study.epochs, study.patience, study.dev_limit, study.precision) == (5, 2, 50, "fp32")
    assert (study.eval_limit, study.max_length, study.language_adapter.steps) == (None, 256, 100_000)  # the profile's
    study = merge_study({}, {}, paper=True, lang_adapter_steps=3, lang_adapter_vocabulary="corpus")
    assert (study.language_adapter.steps, study.language_adapter.output_vocabulary, study.language_adapter.batch_size) == (3, "corpus", 64)


def test_a_protocol_plans_the_parts_and_refuses_a_study_file_that_plans_them():
    from xadapt.study.protocols import apply_protocol
    from xadapt.study.settings_merge import merge_study

    assert merge_study({"lang": "yo"}, {}, protocol="he2021") == apply_protocol("he2021", StudyConfig(lang="yo"))
    with pytest.raises(XadaptError, match="plans lr_sweep and long_training itself"):
        merge_study({"long_training": {"sizes": [100], "epochs": 12}}, {}, protocol="he2021")
    with pytest.raises(XadaptError, match="unknown protocol 'he2020'"):
        merge_study({}, {}, protocol="he2020")


def test_fusion_flags_say_what_fusion_runs_fuse():
    from xadapt.study.settings_merge import merge_study

    study = merge_study({"fusion": {"samples": 300}}, {"methods": ["adapter", "fusion"]}, fuse_tasks=["sib200"], fuse_langs=["en"])
    assert study.fusion == FusionSettings(tasks=["sib200"], languages=["en"], samples=300)
    assert merge_study({}, {"methods": ["fusion"]}).fusion == FusionSettings()  # the default: other benchmarks
    with pytest.raises(XadaptError, match="add fusion to --methods"):
        merge_study({}, {}, fuse_tasks=["sib200"])
