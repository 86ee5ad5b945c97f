"""The demo under load: 50 requests at once, mixed compositions and bad requests in the same queue.

Good requests (every endpoint; MAD-X with the Swahili or the English language adapter, a task adapter
alone, a fine-tuned model) must get exactly the answer the same request gets alone; bad ones (empty
text, a name outside the catalog, a part with corrupt weights, a run asked for another kind of input)
must each get their own clear error, and none may disturb the others. Afterwards the server answers
as before.
"""

import time

from demo_bed import HYPOTHESIS, PREMISE, SWAHILI, TOPIC
from gradio_client.exceptions import AppError

REQUESTS = 50
CHOICE = ["The man fell.", "cause", "He slipped.", "He laughed."]


def _requests(env) -> list[tuple[str, list, str | None]]:
    """(endpoint, inputs, the error message it must get or None), cycling through good and bad ones."""
    run, lang, broken = env.run, env.language, env.broken
    good = [
        ("/ner", [run["madx"], lang["sw"], SWAHILI], None),
        ("/ner", [run["madx"], lang["en"], SWAHILI], None),
        ("/ner", [run["finetune"], "", SWAHILI], None),
        ("/classify", [run["sib200"], lang["sw"], TOPIC], None),
        ("/classify", [run["sib200"], lang["en"], TOPIC], None),
        ("/nli", [run["xnli"], "", PREMISE, HYPOTHESIS], None),
        ("/nli", [run["xnli"], lang["sw"], PREMISE, HYPOTHESIS], None),
        ("/choice", [run["xcopa"], "", *CHOICE], None),
    ]
    bad = [
        ("/ner", [run["madx"], lang["sw"], "   "], "Sentence is empty"),
        ("/ner", ["../../../etc/passwd", "", SWAHILI], "there is no task adapter or model"),
        ("/nli", [broken["corrupt"], "", PREMISE, HYPOTHESIS], "not a readable safetensors file"),
        ("/ner", [run["sib200"], "", SWAHILI], "use its own inputs"),
        ("/ner", [run["madx"], broken["language"], SWAHILI], "does not load"),
    ]
    mixed = [request for pair in zip(good, bad + bad[:3]) for request in pair]  # good and bad alternate in the queue
    return [mixed[i % len(mixed)] for i in range(REQUESTS)]


def _outcome(job) -> tuple[str, object]:
    try:
        return "answer", job.result(timeout=600)
    except AppError as err:
        return "error", str(err)


def test_fifty_concurrent_mixed_requests_each_get_their_own_answer_or_error(client, demo_env):
    requests = _requests(demo_env)
    alone = {}
    for name, inputs, message in requests:
        key = (name, tuple(inputs))
        if message is None and key not in alone:
            alone[key] = client.predict(*inputs, api_name=name)

    started = time.perf_counter()
    jobs = [client.submit(*inputs, api_name=name) for name, inputs, _ in requests]
    outcomes = [_outcome(job) for job in jobs]
    seconds = time.perf_counter() - started

    for (name, inputs, message), (kind, value) in zip(requests, outcomes):
        if message is None:
            assert kind == "answer" and value == alone[(name, tuple(inputs))], (name, inputs, value)
        else:
            assert kind == "error" and message in value, (name, inputs, value)
    answered = sum(message is None for _, _, message in requests)
    assert answered == 25 and len({str(v) for v in alone.values()}) == len(alone)  # every composition answered differently
    print(f"demo load: {REQUESTS} concurrent requests ({answered} good, {REQUESTS - answered} bad) in {seconds:.1f} s")
    after = [demo_env.run["madx"], demo_env.language["sw"], SWAHILI]
    assert client.predict(*after, api_name="/ner") == alone[("/ner", tuple(after))]

