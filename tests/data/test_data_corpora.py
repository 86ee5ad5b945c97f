"""Raw-text corpora for masked-LM training and their deterministic held-out slice."""

import shutil

import pytest

from xadapt.data import corpus_languages, load_corpus
from xadapt.errors import XadaptError


def test_fixture_corpus_reads_text_files_only(tiny_data):
    corpus = load_corpus("swa", data_dir=tiny_data, heldout_lines=2)
    assert [path.name for path in corpus.sources] == ["train.swa", "voa.txt"]  # README.md is not text
    assert len(corpus.heldout) == 2 and len(set(corpus.heldout)) == 2
    assert not set(corpus.heldout) & set(corpus.train)
    everything = set(corpus.train) | set(corpus.heldout)
    assert everything == {
        "Blogu ya kwanza.", "Siku njema.", "Mvua ilinyesha jana.", "Habari za leo.", "Watoto walicheza mpira."
    }
    assert "" not in corpus.train


def test_heldout_depends_on_content_not_file_order(tiny_data, tmp_path):
    first = load_corpus("sw", data_dir=tiny_data, heldout_lines=2)
    # the same lines in other files, in another order
    copy = tmp_path / "raw_text/swa/only"
    copy.mkdir(parents=True)
    lines = (tiny_data / "raw_text/swa/news/voa.txt").read_text().splitlines()
    lines += (tiny_data / "raw_text/swa/blog/train.swa").read_text().splitlines()
    (copy / "all.txt").write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    second = load_corpus("sw", data_dir=tmp_path, heldout_lines=2)
    assert set(first.heldout) == set(second.heldout)


def test_real_swahili_corpus(real_data):
    corpus = load_corpus("sw", data_dir=real_data)
    assert len(corpus.sources) == 3
    distinct = set(corpus.train) | set(corpus.heldout)
    assert len(corpus.heldout) == round(0.01 * len(distinct))
    assert not set(corpus.heldout) & set(corpus.train)
    assert len(corpus.train) + len(corpus.heldout) > 45000
    again = load_corpus("swh_Latn", data_dir=real_data)
    assert again.heldout == corpus.heldout and again.train[:100] == corpus.train[:100]
    fixed = load_corpus("sw", data_dir=real_data, heldout_lines=500)
    assert len(fixed.heldout) == 500


def test_corpus_languages(real_data):
    assert corpus_languages(real_data) == ["am", "en", "ha", "ig", "sw", "yo"]


def test_missing_corpus_lists_languages_with_text(tiny_data):
    with pytest.raises(XadaptError, match="no raw text for 'fr'.*languages with raw text: sw"):
        load_corpus("fr", data_dir=tiny_data)


def test_bad_heldout_arguments(tiny_data):
    with pytest.raises(XadaptError, match="heldout_lines must be between 0 and 4"):
        load_corpus("sw", data_dir=tiny_data, heldout_lines=5)
    with pytest.raises(XadaptError, match="heldout_fraction"):
        load_corpus("sw", data_dir=tiny_data, heldout_fraction=1.5)


def test_copy_is_independent(tiny_data, tmp_path):
    shutil.copytree(tiny_data / "raw_text", tmp_path / "raw_text")
    assert load_corpus("sw", data_dir=tmp_path, heldout_lines=1).heldout == load_corpus(
        "sw", data_dir=tiny_data, heldout_lines=1
    ).heldout
