"""Language adapters trained with the MLM head scoring only the corpus's tokens (a cheaper decoder)."""

import json

import pytest
from transformers import AutoTokenizer

from xadapt.data import load_corpus
from xadapt.models import resolve_model
from xadapt.train.language import DONE, LanguageAdapterSettings, cache_dir, corpus_token_ids, train_language_adapter

TINY = LanguageAdapterSettings(steps=2, head_steps=2, batch_size=4, max_length=32, heldout_sentences=16)


def test_corpus_token_ids_are_the_distinct_ids_of_the_cut_sentences():
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("multilingual-e5-small"))
    sentences = ["Habari ya asubuhi", "habari za leo", "Habari ya asubuhi"]
    ids = corpus_token_ids(tokenizer, sentences, max_length=4)
    expected = sorted({i for row in tokenizer(sentences, truncation=True, max_length=4)["input_ids"] for i in row})
    assert ids.tolist() == expected


@pytest.mark.slow
def test_a_corpus_vocabulary_adapter_is_cached_apart_and_records_its_vocabulary(tmp_path, monkeypatch, real_data):
    model_dir = resolve_model("multilingual-e5-small")  # before XADAPT_HOME moves
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    folder = train_language_adapter(model_dir, tokenizer, "sw", TINY, real_data, corpus_vocabulary=True)
    assert folder == cache_dir(model_dir, "sw", TINY, corpus_vocabulary=True) != cache_dir(model_dir, "sw", TINY)
    facts = json.loads((folder / DONE).read_text())
    corpus = load_corpus("sw", real_data, heldout_lines=TINY.heldout_sentences)
    assert facts["output_vocabulary"] == corpus_token_ids(tokenizer, corpus.train, TINY.max_length).numel()
    assert facts["perplexity_after"] > 1  # measured over the whole vocabulary, after the restriction is lifted
