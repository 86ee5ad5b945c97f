import numpy as np
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


def test_the_evaluate_modules_load_by_path_and_match_the_libraries_they_wrap():
    """What any `evaluate` user gets from `evaluate.load(module_path(...))` is what seqeval and
    scikit-learn compute directly, on random tags and labels."""
    import evaluate
    from seqeval.metrics import f1_score as entity_f1
    from sklearn.metrics import f1_score

    from xadapt.train.metrics import module_path

    rng = np.random.default_rng(0)
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG"]
    gold = [list(rng.choice(tags, size=int(rng.integers(1, 12)))) for _ in range(200)]
    predicted = [[t if rng.random() < 0.7 else str(rng.choice(tags)) for t in sentence] for sentence in gold]
    loaded = evaluate.load(module_path("seqeval_f1"), keep_in_memory=True)
    assert loaded.compute(predictions=predicted, references=gold)["seqeval_f1"] == pytest.approx(entity_f1(gold, predicted))
    assert ner_scores(gold, predicted)["seqeval_f1"] == pytest.approx(entity_f1(gold, predicted))
    labels, guesses = rng.integers(0, 3, 300), rng.integers(0, 3, 300)
    scores = classification_scores(labels.tolist(), guesses.tolist())
    assert scores["accuracy"] == pytest.approx(float((labels == guesses).mean()))
    assert scores["macro_f1"] == pytest.approx(f1_score(labels, guesses, average="macro"))
