"""make_plan: the grid a study expands to, and the language adapters its MAD-X runs need."""

from collections import Counter

from xadapt.study.config import StudyConfig
from xadapt.study.plan import TaskRun, make_plan


def test_default_plan_is_sizes_x_seeds_x_methods_in_language_and_zero_shot_at_the_largest_size():
    plan = make_plan(StudyConfig())
    assert len(plan.runs) == 3 * 3 * 3 + 3 * 3 == 36
    assert plan.language_adapters == ("sw", "en")
    assert Counter(run.method for run in plan.runs) == {"finetune": 12, "adapter": 12, "madx": 12}
    assert Counter(run.samples for run in plan.runs) == {100: 9, 300: 9, 1000: 18}
    assert Counter((run.train_lang, run.eval_langs) for run in plan.runs) == {("sw", ("sw",)): 27, ("en", ("sw",)): 9}
    assert {run.samples for run in plan.runs if run.train_lang == "en"} == {1000}
    # one stopping rule for every size: at most 20 epochs, stopped after 3 without a better dev score
    assert {(run.epochs, run.patience, run.time_budget) for run in plan.runs} == {(20, 3, None)}
    assert len(set(plan.runs)) == 36  # no run twice


def test_every_size_trains_under_the_same_stopping_rule():
    plan = make_plan(StudyConfig(epochs=4, patience=None, time_budget=600))
    assert {(run.epochs, run.patience, run.time_budget) for run in plan.runs} == {(4, None, 600)}
    assert len({run.samples for run in plan.runs}) == 3


def test_lr_sweep_adds_in_language_runs_at_its_sizes_and_plans_shared_runs_once():
    study = StudyConfig(seeds=[0, 1], lr_sweep={"sizes": [300], "lrs": {"finetune": [5e-5, 1e-4], "adapter": [1e-4, 1e-3]}})
    plan = make_plan(study)
    extra = [run for run in plan.runs if run.samples == 300 and run.train_lang == "sw" and run.method != "madx"]
    # finetune 5e-5 and adapter 1e-3 are the main grid's rates: those runs are planned once
    assert sorted((run.method, run.lr) for run in extra if run.seed == 0) == [
        ("adapter", 1e-4), ("adapter", 1e-3), ("finetune", 5e-5), ("finetune", 1e-4)]
    assert len(plan.runs) == (3 + 1) * 2 * 3 + 2 * 2  # the main grid plus one new rate per method and seed
    assert not any(run.train_lang == "en" and run.lr == 1e-4 for run in plan.runs)  # the sweep is in-language


def test_long_training_runs_train_every_epoch_without_early_stopping():
    study = StudyConfig(seeds=[0], source=None, long_training={"sizes": [100], "epochs": 12, "methods": ["finetune", "adapter"]})
    long = [run for run in make_plan(study).runs if run.patience is None]
    assert sorted((run.method, run.samples, run.epochs, run.lr) for run in long) == [
        ("adapter", 100, 12, 1e-3), ("finetune", 100, 12, 5e-5)]


def test_smallest_size_first_so_early_results_cover_every_method():
    plan = make_plan(StudyConfig())
    sizes = [run.samples for run in plan.runs]
    assert sizes == sorted(sizes)
    assert {run.method for run in plan.runs[:3]} == {"finetune", "adapter", "madx"}


def test_zero_shot_runs_train_on_the_source_and_evaluate_on_every_target():
    plan = make_plan(StudyConfig(targets=["sw", "yo"], seeds=[0], sizes=[100]))
    zero_shot = [run for run in plan.runs if run.train_lang == "en"]
    assert len(zero_shot) == 3  # one size (the largest), one seed, three methods
    in_language = [run for run in plan.runs if run.train_lang == "sw"]
    assert zero_shot and all(run.eval_langs == ("sw", "yo") for run in zero_shot)
    assert in_language and all(run.eval_langs == ("sw",) for run in in_language)
    assert plan.language_adapters == ("sw", "en", "yo")


def test_zero_shot_at_every_size_when_asked():
    plan = make_plan(StudyConfig(zero_shot_sizes="all", seeds=[0]))
    assert {run.samples for run in plan.runs if run.train_lang == "en"} == {100, 300, 1000}


def test_without_madx_no_language_adapters_are_trained():
    plan = make_plan(StudyConfig(methods=["finetune", "adapter"]))
    assert plan.language_adapters == ()
    assert len(plan.runs) == (3 + 1) * 3 * 2


def test_in_language_only_when_there_is_no_distinct_source():
    for source in (None, "sw"):
        plan = make_plan(StudyConfig(source=source))
        assert len(plan.runs) == 27
        assert {(run.train_lang, run.eval_langs) for run in plan.runs} == {("sw", ("sw",))}
        assert plan.language_adapters == ("sw",)


def test_every_learning_rate_of_a_method_is_a_run():
    study = StudyConfig(lrs={"adapter": [1e-4, 3e-4, 1e-3]}, methods=["finetune", "adapter"], seeds=[0], source=None, sizes=[1000])
    plan = make_plan(study)
    assert sorted((run.method, run.lr) for run in plan.runs) == [
        ("adapter", 1e-4), ("adapter", 3e-4), ("adapter", 1e-3), ("finetune", 5e-5),
    ]


def test_runs_carry_the_study_task_and_epochs():
    plan = make_plan(StudyConfig(task="sib200", epochs=7, patience=2, seeds=[4], sizes=[50], methods=["adapter"], source=None))
    assert plan.runs == (TaskRun("adapter", "sib200", "sw", ("sw",), 50, 1e-3, 4, 7, 2),)


def test_only_madx_runs_need_language_adapters_source_first():
    madx = TaskRun("madx", "wikiann", "en", ("sw", "yo", "en"), 100, 5e-4, 0, 3)
    assert madx.needs_language_adapters() == ("en", "sw", "yo")
    assert TaskRun("adapter", "wikiann", "en", ("sw",), 100, 5e-4, 0, 3).needs_language_adapters() == ()
    assert TaskRun("finetune", "wikiann", "sw", ("sw",), 100, 5e-5, 0, 3).needs_language_adapters() == ()
