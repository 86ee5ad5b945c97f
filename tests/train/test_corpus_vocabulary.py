"""Language adapters trained with the MLM head scoring only the corpus's tokens (a cheaper decoder)."""

import json
from dataclasses import replace

import pytest
from transformers import AutoTokenizer

from xadapt.data import load_corpus
from xadapt.models import resolve_model
from xadapt.cli.common import OutputVocabulary
from xadapt.errors import XadaptError
from xadapt.train.language import (
    DONE,
    OUTPUT_VOCABULARIES,
    LanguageAdapterSettings,
    cache_dir,
    corpus_token_ids,
    train_language_adapter,
)

TINY = LanguageAdapterSettings(steps=2, head_steps=2, batch_size=4, max_length=32, heldout_sentences=16)


def test_corpus_token_ids_are_the_distinct_ids_of_the_cut_sentences():
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("multilingual-e5-small"))
    sentences = ["Habari ya asubuhi", "habari za leo", "Habari ya asubuhi"]
    ids = corpus_token_ids(tokenizer, sentences, max_length=4)
    expected = sorted({i for row in tokenizer(sentences, truncation=True, max_length=4)["input_ids"] for i in row})
    assert ids.tolist() == expected


def test_the_cli_offers_exactly_the_output_vocabularies_the_settings_accept():
    assert [choice.value for choice in OutputVocabulary] == list(OUTPUT_VOCABULARIES)
    with pytest.raises(XadaptError, match="output_vocabulary must be one of full, corpus"):
        LanguageAdapterSettings(output_vocabulary="all")


def test_the_output_vocabulary_is_a_suffix_of_the_cache_folder_so_older_adapters_keep_theirs(tmp_path, monkeypatch):
    model_dir = resolve_model("multilingual-e5-small")  # before XADAPT_HOME moves
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))
    full = cache_dir(model_dir, "sw", TINY)
    corpus = cache_dir(model_dir, "sw", replace(TINY, output_vocabulary="corpus"))
    assert corpus.name == f"{full.name}-corpus-vocabulary" and corpus.parent == full.parent
    assert cache_dir(model_dir, "sw", replace(TINY, steps=3)) != full


@pytest.mark.slow
def test_a_corpus_vocabulary_adapter_is_cached_apart_and_records_its_vocabulary(tmp_path, monkeypatch, real_data):
    model_dir = resolve_model("multilingual-e5-small")  # before XADAPT_HOME moves
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    corpus_settings = replace(TINY, output_vocabulary="corpus")
    folder = train_language_adapter(model_dir, tokenizer, "sw", corpus_settings, real_data)
    assert folder == cache_dir(model_dir, "sw", corpus_settings) != cache_dir(model_dir, "sw", TINY)
    facts = json.loads((folder / DONE).read_text())
    corpus = load_corpus("sw", real_data, heldout_lines=TINY.heldout_sentences)
    assert facts["output_vocabulary"] == corpus_token_ids(tokenizer, corpus.train, TINY.max_length).numel()
    assert facts["perplexity_after"] > 1  # measured over the whole vocabulary, after the restriction is lifted
