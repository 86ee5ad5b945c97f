"""make_plan: the grid a study expands to, and the language adapters its MAD-X runs need."""

from collections import Counter

from xadapt.study.config import StudyConfig
from xadapt.study.plan import TaskRun, make_plan


def test_default_plan_is_sizes_x_pairs_x_seeds_x_methods():
    plan = make_plan(StudyConfig())
    assert len(plan.runs) == 3 * 2 * 3 * 3 == 54
    assert plan.language_adapters == ("sw", "en")
    assert Counter(run.method for run in plan.runs) == {"finetune": 18, "adapter": 18, "madx": 18}
    assert Counter(run.samples for run in plan.runs) == {100: 18, 300: 18, 1000: 18}
    assert Counter((run.train_lang, run.eval_langs) for run in plan.runs) == {("sw", ("sw",)): 27, ("en", ("sw",)): 27}
    # 1 epoch, but 100 examples (13 steps an epoch at batch 8) train 6 epochs and 300 (38 steps) 2,
    # to reach the 75-step minimum that small sets need to learn anything
    assert {(run.samples, run.epochs) for run in plan.runs} == {(100, 6), (300, 2), (1000, 1)}
    assert len(set(plan.runs)) == 54  # no run twice


def test_min_steps_zero_trains_every_size_for_the_same_epochs():
    plan = make_plan(StudyConfig(min_steps=0, epochs=4))
    assert {run.epochs for run in plan.runs} == {4}


def test_smallest_size_first_so_early_results_cover_every_method():
    plan = make_plan(StudyConfig())
    sizes = [run.samples for run in plan.runs]
    assert sizes == sorted(sizes)
    assert {run.method for run in plan.runs[:3]} == {"finetune", "adapter", "madx"}


def test_zero_shot_runs_train_on_the_source_and_evaluate_on_every_target():
    plan = make_plan(StudyConfig(targets=["sw", "yo"], seeds=[0], sizes=[100]))
    zero_shot = [run for run in plan.runs if run.train_lang == "en"]
    in_language = [run for run in plan.runs if run.train_lang == "sw"]
    assert zero_shot and all(run.eval_langs == ("sw", "yo") for run in zero_shot)
    assert in_language and all(run.eval_langs == ("sw",) for run in in_language)
    assert plan.language_adapters == ("sw", "en", "yo")


def test_without_madx_no_language_adapters_are_trained():
    plan = make_plan(StudyConfig(methods=["finetune", "adapter"]))
    assert plan.language_adapters == ()
    assert len(plan.runs) == 3 * 2 * 3 * 2


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
    plan = make_plan(StudyConfig(task="sib200", epochs=7, seeds=[4], sizes=[50], methods=["adapter"], source=None, min_steps=0))
    assert plan.runs == (TaskRun("adapter", "sib200", "sw", ("sw",), 50, 1e-3, 4, 7),)


def test_only_madx_runs_need_language_adapters_source_first():
    madx = TaskRun("madx", "wikiann", "en", ("sw", "yo", "en"), 100, 5e-4, 0, 3)
    assert madx.needs_language_adapters() == ("en", "sw", "yo")
    assert TaskRun("adapter", "wikiann", "en", ("sw",), 100, 5e-4, 0, 3).needs_language_adapters() == ()
    assert TaskRun("finetune", "wikiann", "sw", ("sw",), 100, 5e-5, 0, 3).needs_language_adapters() == ()
