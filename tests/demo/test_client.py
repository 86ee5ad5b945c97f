"""The demo's endpoints through `gradio_client`, against the app served by the `app` fixture.

Each task kind's endpoint, the comparison view, the study tab, bad inputs and broken parts (a clear
message, and the server keeps answering). Concurrent requests: tests/faults/test_demo_load.py.
"""

import json

import pytest
from demo_bed import HYPOTHESIS, PREMISE, SWAHILI, TOPIC
from gradio_client.exceptions import AppError

from xadapt.adapters import AdapterModel


def spans(result) -> list[tuple[str, str | None]]:
    return [(piece["token"], piece["class_or_confidence"]) for piece in result]


def probabilities(result) -> dict[str, float]:
    return {c["label"]: c["confidence"] for c in result["confidences"]}


def test_ner_shows_entity_spans_of_the_typed_text(client, demo_env):
    result, notes = client.predict(demo_env.run["madx"], demo_env.language["sw"], SWAHILI, api_name="/ner")
    pieces = spans(result)
    assert "".join(text for text, _ in pieces) == SWAHILI
    assert {kind for _, kind in pieces} <= {None, "PER", "ORG", "LOC"}
    assert "Stack(sw, task)" in notes


def test_classification_shows_label_probabilities(client, demo_env):
    result, notes = client.predict(demo_env.run["sib200"], demo_env.language["sw"], TOPIC, api_name="/classify")
    scores = probabilities(result)
    assert len(scores) == 7 and "sports" in scores
    assert sum(scores.values()) == pytest.approx(1, abs=1e-5)
    assert result["label"] == max(scores, key=scores.get)
    assert "Stack(sw, task)" in notes


def test_nli_takes_a_premise_and_a_hypothesis(client, demo_env):
    result, notes = client.predict(demo_env.run["xnli"], "", PREMISE, HYPOTHESIS, api_name="/nli")
    assert set(probabilities(result)) == {"entailment", "neutral", "contradiction"}
    assert "alone" in notes  # a task adapter trained without a language adapter


def test_choice_scores_each_alternative(client, demo_env):
    result, _ = client.predict(demo_env.run["xcopa"], "", "The man fell.", "cause", "He slipped.", "He laughed.",
                               api_name="/choice")
    scores = probabilities(result)
    assert set(scores) == {"1: He slipped.", "2: He laughed."}
    assert sum(scores.values()) == pytest.approx(1, abs=1e-5)


def test_swapping_the_language_adapter_changes_the_answer(client, demo_env):
    runs = [client.predict(demo_env.run["sib200"], demo_env.language[lang], TOPIC, api_name="/classify")
            for lang in ("sw", "en", "sw")]
    sw, en, sw_again = (probabilities(result) for result, _ in runs)
    assert sw == sw_again
    assert sw != en


def test_the_comparison_puts_one_input_through_three_models(client, demo_env):
    source, target, finetuned, notes = client.predict(
        demo_env.run["madx"], demo_env.language["sw"], demo_env.run["finetune"], SWAHILI, api_name="/compare_ner")
    for result in (source, target, finetuned):
        assert "".join(text for text, _ in spans(result)) == SWAHILI
    assert "Stack(en, task): source language" in notes and "Stack(sw, task): target language" in notes
    assert "fine-tuned on en (40 examples)" in notes
    alone, _ = client.predict(demo_env.run["madx"], demo_env.language["sw"], SWAHILI, api_name="/ner")
    assert target == alone
    finetuned_alone, _ = client.predict(demo_env.run["finetune"], "", SWAHILI, api_name="/ner")
    assert finetuned == finetuned_alone


def test_the_comparison_of_a_classifier_and_what_it_needs(client, demo_env):
    source, target, finetuned, notes = client.predict(
        demo_env.run["sib200"], demo_env.language["en"], "", TOPIC, api_name="/compare_classify")
    assert probabilities(source) != probabilities(target)
    assert not finetuned and "no fine-tuned sib200 model was found" in notes and "--method finetune" in notes
    with pytest.raises(AppError, match="not a MAD-X task adapter"):
        client.predict(demo_env.run["xnli"], "", "", PREMISE, HYPOTHESIS, api_name="/compare_nli")
    with pytest.raises(AppError, match="choose the target language's adapter"):
        client.predict(demo_env.run["sib200"], "", "", TOPIC, api_name="/compare_classify")


@pytest.mark.parametrize("text, message", [
    ("", "Sentence is empty"),
    ("   ", "Sentence is empty"),
    ("𒀀𒀁𒀂 𒀃𒀄", "script the model never saw"),
])
def test_unusable_text_gets_a_clear_message(client, demo_env, text, message):
    with pytest.raises(AppError, match=message):
        client.predict(demo_env.run["madx"], demo_env.language["sw"], text, api_name="/ner")


def test_long_and_partly_unknown_text_is_answered_with_a_note(client, demo_env):
    long_text = " ".join([SWAHILI] * 40)
    result, notes = client.predict(demo_env.run["madx"], demo_env.language["sw"], long_text, api_name="/ner")
    assert "".join(text for text, _ in spans(result)) == long_text
    assert "too long" in notes and "only the first" in notes
    _, notes = client.predict(demo_env.run["sib200"], demo_env.language["sw"], " ".join([TOPIC] * 40), api_name="/classify")
    assert "the model read only the first 64" in notes
    _, notes = client.predict(demo_env.run["madx"], demo_env.language["sw"], "Rais 𒀀𒀁 alizuru Dodoma", api_name="/ner")
    assert "1 of 4 words are in characters the model has never seen" in notes


@pytest.mark.parametrize("run, adapter, message", [
    ("../../../etc/passwd", "", "there is no task adapter or model '../../../etc/passwd'"),
    ("/etc", "", "there is no task adapter or model"),
    (None, "../language_adapters", "there is no language adapter '../language_adapters'"),
])
def test_names_outside_the_catalog_are_refused(client, demo_env, run, adapter, message):
    with pytest.raises(AppError, match=message):
        client.predict(run or demo_env.run["madx"], adapter, SWAHILI, api_name="/ner")


def test_a_run_answers_only_its_own_kind_of_input(client, demo_env):
    with pytest.raises(AppError, match="use its own inputs \\(endpoint /classify\\)"):
        client.predict(demo_env.run["sib200"], "", SWAHILI, api_name="/ner")


@pytest.mark.parametrize("part, endpoint, message", [
    ("corrupt", "/nli", "not a readable safetensors file"),
    ("shape", "/choice", "saved for another base model"),
    ("model", "/choice", "trained on another model"),
    ("finetuned", "/ner", "its model does not load"),
])
def test_a_broken_part_gets_a_clear_message_and_the_server_goes_on(client, demo_env, part, endpoint, message):
    inputs = {"/nli": [PREMISE, HYPOTHESIS], "/choice": ["The man fell.", "cause", "He slipped.", "He laughed."],
              "/ner": [SWAHILI]}[endpoint]
    with pytest.raises(AppError, match=message):
        client.predict(demo_env.broken[part], "", *inputs, api_name=endpoint)
    result, _ = client.predict(demo_env.run["madx"], demo_env.language["sw"], SWAHILI, api_name="/ner")
    assert result


def test_a_corrupt_language_adapter_is_refused(client, demo_env):
    with pytest.raises(AppError, match="cannot be used: it does not load: .*safetensors"):
        client.predict(demo_env.run["madx"], demo_env.broken["language"], SWAHILI, api_name="/ner")


def test_the_catalog_lists_ids_and_says_why_parts_cannot_be_used(client, demo_env):
    summary, runs, adapters, problems = client.predict(api_name="/catalog")
    assert "multilingual-e5-small" in summary and "saved parts cannot be used" in summary
    assert {row[0] for row in runs["data"]} >= set(demo_env.run.values())
    assert {row[0] for row in adapters["data"]} >= set(demo_env.language.values())
    for part in demo_env.broken.values():
        assert part not in {row[0] for row in runs["data"] + adapters["data"]}
    for reason in ("not a readable safetensors file", "saved for another base model", "trained on another model"):
        assert reason in problems


def _points(plot: dict) -> list[dict]:
    return [dict(zip(plot["columns"], row)) for row in plot["data"]]


def test_the_study_tab_shows_the_report_and_plots(client, demo_env):
    report, plots, scores, curves = client.predict(demo_env.study, api_name="/study")
    assert report.startswith("# Study report") and "## Scores" in report and "## Plots" not in report
    assert len(plots) == len(list((demo_env.study_path / "plots").glob("*.png"))) > 0
    assert {plot["caption"] for plot in plots} >= {"Score vs training size"}
    # the native plots: one point per run here (one seed each), its value the record's own
    records = [json.loads(line) for line in (demo_env.study_path / "results.jsonl").read_text().splitlines()]
    expected = {(r["task"], r["method"], r["samples"], f"{r['train_lang']}→{r['eval_lang']}"): r["score"] for r in records}
    points = _points(scores)
    assert {(p["task"], p["method"], p["samples"], p["pair"]): p["score"] for p in points} == pytest.approx(expected)
    assert all(p["n"] == 1 for p in points)
    in_language = {(r["task"], r["method"], r["samples"]): r["curve"] for r in records if r["train_lang"] == r["eval_lang"]}
    assert _points(curves)
    for point in _points(curves):
        [epoch] = [e for e in in_language[(point["task"], point["method"], point["samples"])] if e["epoch"] == point["epoch"]]
        assert point["dev_score"] == pytest.approx(epoch["dev_score"])


def test_model_calls_share_one_queue_with_a_concurrency_limit(app):
    from xadapt.demo.app import CONCURRENCY, MODEL_CALLS

    model_calls = [fn for fn in app.fns.values() if fn.api_name in {"ner", "classify", "nli", "choice", "compare_ner"}]
    assert model_calls and all(fn.concurrency_id == MODEL_CALLS and fn.concurrency_limit == CONCURRENCY for fn in model_calls)


def test_choosing_a_composition_loads_no_weights(client, demo_env, monkeypatch):
    client.predict(demo_env.run["finetune"], "", SWAHILI, api_name="/ner")  # a fine-tuned model loads on first use
    loads = []
    original = AdapterModel.from_pretrained.__func__
    monkeypatch.setattr(AdapterModel, "from_pretrained", classmethod(lambda cls, *a, **k: loads.append(a) or original(cls, *a, **k)))
    for lang in ("sw", "en", "sw"):
        client.predict(demo_env.run["madx"], demo_env.language[lang], SWAHILI, api_name="/ner")
        client.predict(demo_env.run["sib200"], demo_env.language[lang], TOPIC, api_name="/classify")
        client.predict(demo_env.run["finetune"], "", SWAHILI, api_name="/ner")
    assert loads == []
