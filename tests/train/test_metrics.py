import pytest

from xadapt.train.metrics import classification_scores, ner_scores


def test_ner_f1_counts_whole_entities_only():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    half = [["B-PER", "O", "O", "B-LOC"]]  # PER span cut short: wrong entity, LOC right
    scores = ner_scores(gold, half)
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(0.5)
    assert scores["seqeval_f1"] == pytest.approx(0.5)
    assert ner_scores(gold, gold)["seqeval_f1"] == 1.0
    assert ner_scores(gold, [["O"] * 4])["seqeval_f1"] == 0.0


def test_macro_f1_punishes_ignoring_the_rare_class():
    gold = [0] * 9 + [1]
    majority = [0] * 10
    scores = classification_scores(gold, majority)
    assert scores["accuracy"] == pytest.approx(0.9)
    assert scores["macro_f1"] == pytest.approx((2 * 0.9 / 1.9) / 2)
