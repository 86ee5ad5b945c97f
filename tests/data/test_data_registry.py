"""The task registry, data-directory discovery and evaluation-split resolution (no real data needed)."""

from pathlib import Path

import pytest

from xadapt.data import SPLITS, find_data_dir, get_task, list_tasks, load_split, resolve_eval_split
from xadapt.data.registry import TASK_HEADS, METRICS
from xadapt.errors import XadaptError

REQUIRED = {"sib200", "wikiann", "masakhaner", "xnli", "afrisenti", "xcopa"}
COLUMNS = {
    "sequence_classification": [{"text", "label"}, {"text", "text_pair", "label"}],
    "token_classification": [{"tokens", "tags"}],
    "multiple_choice": [{"premise", "choice1", "choice2", "question", "label"}],
}


def test_required_tasks_are_registered():
    assert REQUIRED <= set(list_tasks())


@pytest.mark.parametrize("name", sorted(list_tasks()))
def test_every_spec_is_complete(name):
    spec = get_task(name)
    assert spec.name == name
    assert spec.head in TASK_HEADS and spec.metric in METRICS
    assert spec.labels and len(set(spec.labels)) == len(spec.labels)
    assert "/" in spec.hub_id and (spec.hub_configs or spec.hub_config_style)
    assert set(spec.columns) in COLUMNS[spec.head]
    assert spec.metric == ("seqeval_f1" if spec.head == "token_classification" else "accuracy")
    assert set(spec.splits) <= set(SPLITS) and "dev" in spec.splits and "test" in spec.splits
    assert all(spec.sources[split] for split in spec.splits)


@pytest.mark.parametrize(
    ("alias", "name"),
    [("topic", "sib200"), ("ner", "wikiann"), ("nli", "xnli"), ("sentiment", "afrisenti"), ("copa", "xcopa"),
     ("XNLI", "xnli")],
)
def test_aliases(alias, name):
    assert get_task(alias).name == name


def test_unknown_task_lists_tasks_and_aliases():
    with pytest.raises(XadaptError) as err:
        get_task("sst2")
    message = str(err.value)
    assert "'sst2'" in message
    assert all(name in message for name in REQUIRED) and "ner→wikiann" in message


def test_labels_and_hub_ids():
    assert get_task("wikiann").labels == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    assert get_task("masakhaner").labels[-2:] == ["B-DATE", "I-DATE"]
    assert get_task("xnli").labels == ["entailment", "neutral", "contradiction"]
    assert len(get_task("sib200").labels) == 7
    assert get_task("sib200").hub_ref("sw", "train").config == "swh_Latn"
    assert get_task("sib200").hub_ref("rw", "test").config == "kin_Latn"  # every FLORES language, table or not
    assert get_task("masakhaner").hub_configs["sw"] == "swa"
    assert get_task("afrisenti").hub_configs["sw"] == "swa"


def test_hub_refs_follow_the_benchmark_split_rules():
    xnli = get_task("xnli")
    assert xnli.hub_ref("en", "train").split == "validation"  # English dev is the training set
    assert xnli.hub_ref("sw", "train") is None
    assert xnli.hub_ref("en", "dev") is None
    assert xnli.hub_ref("sw", "test").config == "sw"
    xcopa = get_task("xcopa")
    en_train = xcopa.hub_ref("en", "train")
    assert (en_train.id, en_train.config) == ("aps/super_glue", "copa")
    assert xcopa.hub_ref("en", "test") is None and xcopa.hub_ref("sw", "train") is None
    assert xcopa.hub_ref("sw", "test").id == "cambridgeltl/xcopa"


def test_find_data_dir_explicit_and_env(tiny_data, monkeypatch):
    assert find_data_dir(tiny_data) == tiny_data.resolve()
    assert find_data_dir(str(tiny_data)) == tiny_data.resolve()
    monkeypatch.setenv("XADAPT_DATA", str(tiny_data))
    assert find_data_dir() == tiny_data.resolve()


def test_missing_data_dir_says_where_it_looked_and_how_to_fix(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    with pytest.raises(XadaptError) as err:
        find_data_dir(missing)
    message = str(err.value)
    assert str(missing) in message and "does not exist" in message
    assert "--data-dir" in message and "XADAPT_DATA=" in message
    monkeypatch.delenv("XADAPT_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # neither ./data nor ../shared/data exist here
    with pytest.raises(XadaptError) as err:
        find_data_dir()
    assert "data" in str(err.value) and str(Path("..") / "shared" / "data") in str(err.value)


def test_folder_without_benchmarks_is_not_a_data_dir(tmp_path):
    (tmp_path / "unrelated").mkdir()
    with pytest.raises(XadaptError, match="holds none of the benchmark folders"):
        find_data_dir(tmp_path)


def test_resolve_eval_split_on_fixture(tiny_data):
    assert resolve_eval_split("wikiann", "swa", data_dir=tiny_data) == ("test", None)
    split, note = resolve_eval_split("ner", "en", data_dir=tiny_data)
    assert split == "dev" and note == "WikiANN en has no labelled test split; evaluating on dev"
    assert resolve_eval_split("topic", "swh_Latn", data_dir=tiny_data) == ("test", None)
    with pytest.raises(XadaptError, match="no .*files for yo"):
        resolve_eval_split("wikiann", "yo", data_dir=tiny_data)


def test_languages_found_on_fixture(tiny_data):
    assert get_task("wikiann").languages(tiny_data) == ["en", "sw"]
    assert get_task("sib200").languages(tiny_data) == ["sw"]
    assert get_task("xnli").languages(tiny_data) == ["en", "sw"]
    assert get_task("afrisenti").languages(tiny_data) == []


def test_missing_split_errors_name_what_exists(tiny_data):
    with pytest.raises(XadaptError) as err:
        load_split("wikiann", "en", "test", data_dir=tiny_data)
    message = str(err.value)
    assert "labelled splits on disk: train, dev" in message and "allow_hub" in message
    with pytest.raises(XadaptError, match="no train split for sw; languages with one: en"):
        load_split("xnli", "sw", "train", data_dir=tiny_data)
    with pytest.raises(XadaptError, match="languages on disk: none"):
        load_split("afrisenti", "sw", "train", data_dir=tiny_data)
    with pytest.raises(XadaptError, match="unknown split 'validation'"):
        load_split("sib200", "sw", "validation", data_dir=tiny_data)
    with pytest.raises(XadaptError, match="unknown language"):
        load_split("sib200", "xx-nope", "train", data_dir=tiny_data)


@pytest.mark.parametrize("name", list_tasks())
def test_every_labelled_file_on_disk_is_found_as_its_language(real_data, name):
    """No file matching a task's layout is lost to language resolution: each one is found again
    through the language it spells (the shared data's 47 languages, and any other)."""
    spec = get_task(name)
    sources = [source for split in spec.sources.values() for source in split]
    on_disk = {path for source in sources for path in real_data.glob(source.template.replace("{lang}", "*"))}
    found = {paths[0] for code in spec.languages(real_data) for source in sources if (paths := source.find(real_data, code))}
    assert on_disk and on_disk == found, sorted(on_disk ^ found)
