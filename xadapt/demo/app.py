"""The demo's web page, a `gr.Blocks` app over one `Predictor`, and `serve` to start it.

Tabs: **Predict** (choose a task adapter or fine-tuned model and a language adapter, type, see the
answer; *Compare* puts the same input through Stack(source language, task), Stack(target language,
task) and a fine-tuned model side by side), **Study** (a sweep's report, its plots and native plots of its records) and
**Adapters** (what was found, and why some parts cannot be used). Each kind of task has its own
inputs and endpoints (`/ner`, `/classify`, `/nli`, `/choice` and `/compare_<kind>`). Every model
call goes through one queue with a shared concurrency limit. The server binds to localhost unless
told otherwise, makes no share link and sends no analytics.
"""

import functools
import inspect
import os
from collections.abc import Callable, Iterable
from pathlib import Path

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read when gradio is imported: no telemetry, no version check

import gradio as gr  # noqa: E402
from PIL import Image  # noqa: E402

from xadapt.data import get_task  # noqa: E402
from xadapt.demo.catalog import Catalog, RunEntry, discover  # noqa: E402
from xadapt.demo.examples import Example, task_examples  # noqa: E402
from xadapt.demo.kinds import KINDS, Kind, kind_for  # noqa: E402
from xadapt.demo.predictor import Column, Prediction, Predictor  # noqa: E402
from xadapt.demo.quickstart import quickstart_root  # noqa: E402
from xadapt.demo.report_view import interactive_points, report_view  # noqa: E402
from xadapt.errors import XadaptError  # noqa: E402
from xadapt.models import model_identity, resolve_model  # noqa: E402
from xadapt.settings import xadapt_home  # noqa: E402

CONCURRENCY = 4  # model calls at once, over all endpoints together; the rest wait in the queue
QUEUE_SIZE = 64  # requests waiting beyond this are refused ("queue full") instead of piling up
MODEL_CALLS = "model"  # the concurrency group of every event that runs the model
COMPARED = ("Source language: Stack(source, task)", "Target language: Stack(target, task)", "Fine-tuned model")
NONE = ("(none)", "")


def _page_errors(fn: Callable, parameters: Iterable[str] | None = None) -> Callable:
    """Show an `XadaptError` as an error message on the page (and to API clients); the server goes on.

    `parameters` names the arguments for the API description when `fn` takes them as *args.
    """

    @functools.wraps(fn)
    def wrapper(*args):
        try:
            return fn(*args)
        except XadaptError as err:
            raise gr.Error(str(err), duration=None, print_exception=False) from None

    if parameters is not None:
        wrapper.__signature__ = inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in parameters])
    return wrapper


def _value(kind: Kind, prediction: Prediction | None):
    if prediction is None:
        return None
    return prediction.spans if kind.output == "spans" else prediction.probabilities


def _describe(prediction: Prediction) -> str:
    lines = [f"Answered by **{prediction.composition}**."]
    if prediction.fusion_attention:
        weights = ", ".join(f"{name} {weight:.2f}" for name, weight in sorted(prediction.fusion_attention.items(), key=lambda i: -i[1]))
        lines.append(f"- fusion attention per adapter (mean over layers and tokens): {weights}")
    return "\n".join([*lines, *(f"- {note}" for note in prediction.notes)])


def _describe_columns(columns: list[Column]) -> str:
    lines = []
    for column in columns:
        if column.error:
            lines.append(f"**{column.title}**: not available: {column.error}")
        else:
            lines.append("\n".join([f"**{column.title}**", *(f"- {note}" for note in column.prediction.notes)]))
    return "\n\n".join(lines)


def _image(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.copy()


def how_to_start(catalog: Catalog) -> str:
    """What the page says when there is nothing to serve yet: the exact commands that make something."""
    searched = ", ".join(f"`{path}`" for path in catalog.searched) or "nowhere"
    return f"""### No trained adapters yet

Searched {searched}. Make some, then start the demo again:

```bash
xadapt demo --quickstart   # a few minutes, once: sw + en language adapters, a MAD-X NER task adapter and a fine-tuned model
```

or train your own and point the demo at them:

```bash
xadapt train --task wikiann --lang en --eval sw --method madx       # task adapter; trains the en and sw language adapters too
xadapt train --task wikiann --lang en --eval sw --method finetune   # the fine-tuned model to compare with
xadapt demo --runs runs
```
"""


def _header(catalog: Catalog, model_name: str) -> str:
    runs, adapters, unusable = catalog.usable_runs(), catalog.usable_language_adapters(), catalog.unusable()
    lines = [f"# xadapt demo\nBase model **{model_name}**, loaded once: {len(runs)} task adapters and fine-tuned "
             f"models, {len(adapters)} language adapters."]
    if unusable:
        lines.append(f"⚠ {len(unusable)} saved parts cannot be used; the **Adapters** tab says why.")
    return "\n\n".join(lines)


def _inventory(catalog: Catalog) -> tuple[list[list], list[list], str]:
    runs = [[r.id, r.task, r.method, r.train_lang, r.facts.get("samples"), str(r.path)] for r in catalog.usable_runs()]
    adapters = [[a.id, a.lang, a.facts.get("settings", {}).get("steps"),
                 *(round(a.facts[k], 1) if k in a.facts else None for k in ("perplexity_before", "perplexity_after")),
                 str(a.path)] for a in catalog.usable_language_adapters()]
    problems = [f"- `{e.id}` (`{e.path}`): {e.problem}" for e in catalog.unusable()]
    searched = "Searched: " + ", ".join(f"`{p}`" for p in catalog.searched)
    text = "\n".join(["### Cannot be used", "", *problems] if problems else ["Every part found can be used."])
    return runs, adapters, f"{text}\n\n{searched}"


def _default_run(runs: list[RunEntry]) -> RunEntry | None:
    """The run a page opens with: a MAD-X task adapter, for NER if there is one (the composition story), else the first."""
    ranked = sorted(runs, key=lambda r: (not r.training.needs_language_adapters, r.kind.output != "spans"))
    return ranked[0] if ranked else None


def _language_default(catalog: Catalog, run: RunEntry | None) -> str:
    adapter = catalog.run_language_adapter(run, run.train_lang) if run and run.training.needs_language_adapters else None
    return adapter.id if adapter else ""


def _predict_tab(predictor: Predictor, examples: list[Example]) -> None:
    catalog = predictor.catalog
    first = _default_run(catalog.usable_runs())
    finetuned_default = catalog.finetuned_for(first)

    def run_choices(task: str, whole_encoder: bool | None = None) -> list[tuple[str, str]]:
        return [(r.label, r.id) for r in catalog.usable_runs(task, whole_encoder)]

    with gr.Row():
        task = gr.Dropdown([(get_task(t).title, t) for t in catalog.tasks()], value=first.task, label="Task")
        run = gr.Dropdown(run_choices(first.task), value=first.id, label="Task adapter or fine-tuned model",
                          allow_custom_value=True, scale=3)
    with gr.Row():
        language = gr.Dropdown([NONE, *((a.label, a.id) for a in catalog.usable_language_adapters())],
                               value=_language_default(catalog, first), label="Language adapter",
                               allow_custom_value=True, scale=2)
        finetuned = gr.Dropdown([NONE, *run_choices(first.task, whole_encoder=True)],
                                value=finetuned_default.id if finetuned_default else "",
                                label="Fine-tuned model to compare with", allow_custom_value=True, scale=2)
    groups = {}
    for kind in KINDS:
        if any(r.kind is kind for r in catalog.usable_runs()):
            groups[kind] = _kind_group(predictor, kind, first.kind is kind, run, language, finetuned,
                                       [e for e in examples if kind_for(get_task(e.task)) is kind])

    def on_task(task_name: str):
        runs = catalog.usable_runs(task_name)
        chosen = _default_run(runs)
        return gr.update(choices=run_choices(task_name), value=chosen.id if chosen else None)

    def on_run(run_id: str, adapter_id: str):
        entry = catalog.usable_run(run_id)
        if entry is None:
            return [gr.update()] * (len(groups) + 2)
        shown = [gr.update(visible=kind is entry.kind) for kind in groups]
        language_update = (gr.update() if adapter_id or not entry.training.needs_language_adapters
                           else gr.update(value=_language_default(catalog, entry)))
        model = catalog.finetuned_for(entry)
        finetuned_update = gr.update(choices=[NONE, *run_choices(entry.task, whole_encoder=True)], value=model.id if model else "")
        return [*shown, language_update, finetuned_update]

    task.change(on_task, task, run, api_visibility="private")
    run.change(on_run, [run, language], [*groups.values(), language, finetuned], api_visibility="private")


def _kind_group(predictor: Predictor, kind: Kind, visible: bool, run, language, finetuned,
                examples: list[Example]) -> gr.Group:
    """The inputs, buttons, outputs and examples of one kind of task, wired to its endpoints."""
    names = [f.name for f in kind.fields]

    def output(label: str, elem_id: str):
        if kind.output == "spans":
            return gr.HighlightedText(label=label, elem_id=elem_id)
        return gr.Label(label=label, elem_id=elem_id)

    def predict(run_id, adapter_id, *values):
        prediction = predictor.predict(kind, run_id, adapter_id or None, dict(zip(names, values)))
        return _value(kind, prediction), _describe(prediction)

    def compare(run_id, adapter_id, finetuned_id, *values):
        columns = predictor.compare(kind, run_id, adapter_id or None, finetuned_id or None, dict(zip(names, values)))
        return (*(_value(kind, c.prediction) for c in columns), _describe_columns(columns))

    def fill(index: int, run_id: str):
        example = examples[index]
        entry = predictor.catalog.usable_run(run_id)
        adapter = None
        if entry is not None and not entry.training.whole_encoder:
            adapter = predictor.catalog.run_language_adapter(entry, example.lang)
        return [*(example.values[n] for n in names), gr.update(value=adapter.id) if adapter else gr.update()]

    with gr.Group(visible=visible) as group:
        gr.Markdown(f"### {kind.title}")
        inputs = [gr.Radio(list(f.choices), value=f.choices[0], label=f.label) if f.choices
                  else gr.Textbox(label=f.label, lines=2, elem_id=f"{kind.name}-{f.name}") for f in kind.fields]
        with gr.Row():
            predict_button = gr.Button("Predict", variant="primary", elem_id=f"{kind.name}-predict")
            compare_button = gr.Button("Compare side by side", elem_id=f"{kind.name}-compare")
        prediction = output("Prediction", f"{kind.name}-prediction")
        notes = gr.Markdown(label="notes", elem_id=f"{kind.name}-notes")
        with gr.Row():
            compared = [output(label, f"{kind.name}-compared-{i}") for i, label in enumerate(COMPARED)]
        compare_notes = gr.Markdown(label="notes", elem_id=f"{kind.name}-compare-notes")
        dataset = gr.Dataset(components=["textbox"] * (2 + len(names)), headers=["task", "language", *names],
                             samples=[[e.task, e.lang, *(e.values[n] for n in names)] for e in examples],
                             type="index", label="Examples (click one to fill the inputs)", visible=bool(examples))
    common = {"concurrency_limit": CONCURRENCY, "concurrency_id": MODEL_CALLS}
    predict_button.click(_page_errors(predict, ["run", "language_adapter", *names]), [run, language, *inputs],
                         [prediction, notes], api_name=kind.name, **common)
    compare_button.click(_page_errors(compare, ["run", "language_adapter", "finetuned", *names]),
                         [run, language, finetuned, *inputs], [*compared, compare_notes], api_name=f"compare_{kind.name}",
                         **common)
    dataset.click(fill, [dataset, run], [*inputs, language], api_visibility="private")
    return group


def _study_tab(catalog: Catalog) -> tuple[Callable, gr.Dropdown, list]:
    """The study picker, the report and the plots; returns the function that shows a study, and its wiring."""
    studies = list(catalog.studies.values())
    if not studies:
        gr.Markdown("No sweep results were found. Run one, e.g. `xadapt sweep --lang sw --samples 1000` "
                    "(it writes `runs/wikiann-sw`), and start the demo with `--runs runs`.")
    choice = gr.Dropdown([(str(s.path), s.id) for s in studies], value=studies[0].id if studies else None,
                         label="Study", allow_custom_value=True, visible=bool(studies))
    with gr.Row(visible=bool(studies)):
        scores = gr.LinePlot(x="samples", y="score", color="series", tooltip="all", x_title="training examples",
                             y_title="test score (mean over seeds)", label="Test score by training size (hover for values)")
        curves = gr.LinePlot(x="epoch", y="dev_score", color="series", tooltip="all", x_title="epoch",
                             y_title="dev score (mean over seeds)", label="Dev score per epoch, in-language runs")
    outputs = [gr.Markdown(elem_id="study-report"), gr.Gallery(label="Plots", columns=2, format="png", visible=bool(studies)),
               scores, curves]

    @_page_errors
    def show(study_id: str):
        if not study_id:
            return "", [], None, None
        path = catalog.study(study_id).path
        text, images = report_view(path)
        return (text, [(_image(image), title) for image, title in images], *interactive_points(path))

    choice.change(show, choice, outputs, api_name="study")
    return show, choice, outputs


def build_app(predictor: Predictor, examples: list[Example], model_name: str) -> gr.Blocks:
    """The page for `predictor`'s catalog, with its request queue."""
    catalog = predictor.catalog
    with gr.Blocks(title="xadapt demo", analytics_enabled=False) as demo:
        header = gr.Markdown(_header(catalog, model_name), label="summary")
        with gr.Tabs():
            with gr.Tab("Predict"):
                if catalog.usable_runs():
                    _predict_tab(predictor, examples)
                else:
                    gr.Markdown(how_to_start(catalog), elem_id="how-to-start")
            with gr.Tab("Study"):
                show_study, study, study_outputs = _study_tab(catalog)
            with gr.Tab("Adapters"):
                runs_table = gr.Dataframe(headers=["id", "task", "method", "trained on", "examples", "folder"],
                                          label="Task adapters and fine-tuned models", interactive=False)
                adapters_table = gr.Dataframe(headers=["id", "language", "masked-LM steps", "perplexity before",
                                                       "perplexity after", "folder"],
                                              label="Language adapters", interactive=False)
                problems = gr.Markdown(label="problems")

        def catalog_view():  # on every page load, so parts that failed since the start are reported too
            return (_header(catalog, model_name), *_inventory(catalog))

        demo.load(catalog_view, None, [header, runs_table, adapters_table, problems], api_name="catalog")
        demo.load(show_study, study, study_outputs, api_visibility="private")
    return demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)


def load_demo(runs: Iterable[Path], adapters_dir: Path | None, model: str, data_dir=None) -> gr.Blocks:
    """Discover the saved parts, load the base model and every adapter once, and build the page."""
    model_dir = resolve_model(model)
    identity = model_identity(model_dir)
    adapters_dir = adapters_dir if adapters_dir is not None else xadapt_home() / "language_adapters"
    roots = [Path(p) for p in runs]
    if quickstart_root().is_dir() and quickstart_root() not in roots:
        roots.append(quickstart_root())
    catalog = discover(roots, adapters_dir, identity["fingerprint"])
    predictor = Predictor(catalog, model_dir)
    examples = [example for task in catalog.tasks() for example in task_examples(task, _example_languages(catalog, task), data_dir)]
    return build_app(predictor, examples, identity["name"])


def _example_languages(catalog: Catalog, task: str) -> list[str]:
    """The languages the page can do something with for `task`: training languages and language adapters."""
    langs = {r.train_lang for r in catalog.usable_runs(task)} | {a.lang for a in catalog.usable_language_adapters()}
    return sorted(langs)


def serve(runs: Iterable[Path], adapters_dir: Path | None = None, model: str = "multilingual-e5-small",
          host: str = "127.0.0.1", port: int | None = None, data_dir=None) -> gr.Blocks:
    """Start the demo's server and return at once; `.block_thread()` waits on it, `.close()` stops it."""
    demo = load_demo(runs, adapters_dir, model, data_dir)
    demo.launch(server_name=host, server_port=port, share=False, prevent_thread_lock=True, run_history=False,
                enable_monitoring=False, mcp_server=False, ssr_mode=False, quiet=True)
    return demo
