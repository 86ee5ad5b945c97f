"""StudyConfig: the defaults a sweep starts from, and every bad value refused with a clear message.

(Named test_study_config.py, not test_config.py: test folders are not packages, so two test
modules with one basename — tests/adapters/test_config.py exists — cannot be collected together.)
"""

import math

import pytest

from xadapt.errors import XadaptError
from xadapt.study.config import DEFAULT_LRS, TASK_METHODS, StudyConfig
from xadapt.study.results import study_id
from xadapt.train.language import LanguageAdapterSettings


def test_defaults_are_the_headline_cpu_study():
    study = StudyConfig()
    assert (study.task, study.lang, study.source, study.samples) == ("wikiann", "sw", "en", 1000)
    assert study.methods == list(TASK_METHODS) == ["finetune", "adapter", "madx"]
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
    assert study.learning_rates() == {"finetune": [DEFAULT_LRS["finetune"]], "adapter": [1e-4, 1e-3], "madx": [DEFAULT_LRS["madx"]]}


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
