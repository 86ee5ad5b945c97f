"""The four kinds of input and output the demo handles, one per way a task reads its examples.

A kind names its API endpoint, the input fields (named like the columns `xadapt.data.load_split`
returns, so benchmark rows fill them directly) and how its answer is shown: entity spans or
label probabilities.
"""

from dataclasses import dataclass

from xadapt.data import TaskSpec


@dataclass(frozen=True)
class Field:
    name: str  # column of a loaded split, and key of the predictor's input dict
    label: str  # shown above the input box
    choices: tuple[str, ...] = ()  # a fixed set of values (a radio button) instead of free text


@dataclass(frozen=True)
class Kind:
    name: str  # API endpoint: /<name>, and /compare_<name> for the side-by-side view
    title: str
    fields: tuple[Field, ...]
    output: str  # "spans" (highlighted entities) or "probabilities" (a label distribution)


NER = Kind("ner", "Named entities", (Field("text", "Sentence"),), "spans")
CLASSIFY = Kind("classify", "Text classification", (Field("text", "Text"),), "probabilities")
NLI = Kind("nli", "Natural language inference", (Field("text", "Premise"), Field("text_pair", "Hypothesis")), "probabilities")
CHOICE = Kind(
    "choice",
    "Choice of plausible alternatives",
    (
        Field("premise", "Premise"),
        Field("question", "Asking for the", ("cause", "effect")),
        Field("choice1", "Alternative 1"),
        Field("choice2", "Alternative 2"),
    ),
    "probabilities",
)
KINDS = (NER, CLASSIFY, NLI, CHOICE)


def kind_for(spec: TaskSpec) -> Kind:
    """The kind of a task: token classification is NER; sentence pairs are NLI."""
    if spec.head == "token_classification":
        return NER
    if spec.head == "multiple_choice":
        return CHOICE
    return NLI if "text_pair" in spec.columns else CLASSIFY
