"""Words cut like the NER benchmarks' tokens, and BIO tags merged back into spans of the typed text."""

from xadapt.demo.spans import entity_spans, split_words

SENTENCE = "Rais Samia Suluhu Hassan alizuru Dodoma, Tanzania jana."


def test_words_are_cut_like_benchmark_tokens():
    assert [w.text for w in split_words(SENTENCE)] == [
        "Rais", "Samia", "Suluhu", "Hassan", "alizuru", "Dodoma", ",", "Tanzania", "jana", "."]
    assert [w.text for w in split_words("ng'ombe wa Kenya-Uganda (2024)")] == [
        "ng'ombe", "wa", "Kenya-Uganda", "(", "2024", ")"]
    assert [w.text for w in split_words("北京大学")] == ["北", "京", "大", "学"]
    assert split_words("   ") == []


def test_bio_tags_become_spans_that_give_back_the_text():
    words = split_words(SENTENCE)
    tags = ["O", "B-PER", "I-PER", "I-PER", "O", "B-LOC", "O", "B-LOC", "O", "O"]
    spans = entity_spans(SENTENCE, words, tags)
    assert "".join(text for text, _ in spans) == SENTENCE
    assert [(text, kind) for text, kind in spans if kind] == [("Samia Suluhu Hassan", "PER"), ("Dodoma", "LOC"), ("Tanzania", "LOC")]


def test_merging_follows_seqeval_by_default():
    text = "a b c d e f"
    words = split_words(text)
    # I- after O opens an entity; a new type or a B- closes the previous one; None (not read) is no entity
    spans = entity_spans(text, words, ["I-ORG", "I-ORG", "I-PER", "B-PER", "I-PER", None])
    assert [(t, k) for t, k in spans if k] == [("a b", "ORG"), ("c", "PER"), ("d e", "PER")]
    assert entity_spans(text, words, [None] * 6) == [(text, None)]
