"""Every name xadapt relies on in transformers beyond its documented extension points, in one place.

xadapt integrates through what transformers documents for extension: `AttentionInterface` and
`AttentionMaskInterface` (an attention function and its mask, registered under one name,
`xadapt.adapters.attention`), `PreTrainedModel.set_attn_implementation` that selects them, the
public `Trainer`, `TrainingArguments` and callback API, and the model classes' constructors. What
those cannot reach is listed below, each with why xadapt needs it. The accessors check each name
on a model when adapters are injected, so a rename upstream fails at once with a message naming
it, never by computing something else; wrappers read arguments by name from the upstream
signature (`call_arguments`), never by position. CI's compatibility stage (`.ci/compat`) runs the
adapter, peer and training tests on the oldest and the newest releases `pyproject.toml` allows.

Outside the library, `bench/protocol.py` reads `config._attn_implementation` too, to report which
attention each side ran ("xadapt" for xadapt's sides); it is shared with the peer environment,
where xadapt is not installed, so it cannot import this module.
"""

from __future__ import annotations

import inspect

import transformers
from torch import nn

from xadapt.errors import XadaptError

# The encoder's stack of transformer layers. Adapters sit at per-layer sites, and no public
# accessor lists an encoder's layers.
LAYERS = "encoder.layer"

# The self-attention module of a layer. Its instance is what transformers hands the registered
# attention function (`module`), so xadapt marks it with the layer it serves (prefix tuning), and
# its query/key/value projections are where LoRA adds its deltas.
SELF_ATTENTION = "attention.self"
PROJECTIONS = {"q": "query", "k": "key", "v": "value"}

# The two output blocks of a layer: output projection, dropout, then residual + LayerNorm. A
# bottleneck adapter sits between the dropout and the residual LayerNorm (Houlsby / Pfeiffer
# placement, as the `adapters` library does it), and transformers has no hook there, so xadapt
# wraps these blocks and recomputes them from their own submodules when an adapter runs.
OUTPUT_BLOCKS = {"attention": "attention.output", "ffn": "output"}
OUTPUT_BLOCK_PARTS = ("dense", "dropout", "LayerNorm")
# The output blocks' forward parameters, read by name (never by position) from the bound call.
OUTPUT_BLOCK_ARGUMENTS = ("hidden_states", "input_tensor")

# The projections are torch `nn.Linear`s; LoRA reads their input by this name from the bound call.
PROJECTION_ARGUMENT = "input"

# The embeddings block (word + position + type embeddings, LayerNorm, dropout). The invertible
# adapter of MAD-X transforms its output, through a forward hook.
EMBEDDINGS = "embeddings"


# The packaged default model's tokenizer is built from tables (no SentencePiece model file), and
# `XLMRobertaTokenizer` takes the normaliser only through this underscored init argument, which
# it also writes into tokenizer_config.json (`xadapt.models.tokenizer`). transformers 5.0-5.2
# could not serialise it, which is one reason the range starts at 5.3.
TOKENIZER_CHARSMAP_ARGUMENT = "_spm_precompiled_charsmap"

# `Trainer` offers no public way to choose the training sampler short of re-implementing
# `get_train_dataloader` (and its accelerate preparation). xadapt overrides the private
# `_get_train_sampler` to serve batches of similar length in random order
# (`xadapt.train.task`), and reads its dataset argument by this name.
TRAIN_SAMPLER_METHOD = "_get_train_sampler"
TRAIN_SAMPLER_ARGUMENT = "train_dataset"


def train_sampler_signature(trainer_class: type) -> inspect.Signature:
    """The signature of the sampler hook xadapt overrides, or a clear error when upstream renamed it."""
    hook = getattr(trainer_class, TRAIN_SAMPLER_METHOD, None)
    if hook is None:
        raise _renamed(f"Trainer.{TRAIN_SAMPLER_METHOD}")
    parameters = inspect.signature(hook).parameters
    if TRAIN_SAMPLER_ARGUMENT not in parameters:
        raise _renamed(f"Trainer.{TRAIN_SAMPLER_METHOD}({TRAIN_SAMPLER_ARGUMENT}=...) (it takes {tuple(parameters)[1:]})")
    return inspect.signature(hook)


def call_arguments(signature: inspect.Signature, receiver: object, args: tuple, kwargs: dict) -> dict:
    """The arguments of a call to a method with `signature`, by parameter name, defaults filled in."""
    bound = signature.bind(receiver, *args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


# The attention implementation a config selects. transformers keeps it as a private attribute
# with no public getter; xadapt only reads it, to check that its own function is selected.
def attention_implementation(config) -> str | None:
    """The `attn_implementation` the model's config currently selects."""
    return config._attn_implementation


# Whether activation checkpointing is on: adapters read the running plan, which a recomputation
# during the backward pass would not see. transformers 5.x renamed the public property from
# `is_gradient_checkpointing` to `is_activation_checkpointing`; both ends of the range are served.
def activation_checkpointing(model) -> bool:
    """Whether `model` recomputes activations in the backward pass."""
    if hasattr(type(model), "is_activation_checkpointing"):
        return model.is_activation_checkpointing
    return model.is_gradient_checkpointing


def _submodule(module: nn.Module, path: str) -> nn.Module:
    for part in path.split("."):
        module = getattr(module, part)
    return module


def layers(encoder: nn.Module) -> list[nn.Module]:
    """The encoder's transformer layers, or a clear error naming what this transformers lacks."""
    try:
        return list(_submodule(encoder, LAYERS))
    except AttributeError as err:
        raise _renamed(f"{type(encoder).__name__}.{LAYERS}") from err


def self_attention(layer: nn.Module) -> nn.Module:
    return _checked(layer, SELF_ATTENTION)


def projection(attention: nn.Module, matrix: str) -> nn.Linear:
    return _checked(attention, PROJECTIONS[matrix])


def embeddings(encoder: nn.Module) -> nn.Module:
    return _checked(encoder, EMBEDDINGS)


def output_block(layer: nn.Module, site: str) -> nn.Module:
    block = _checked(layer, OUTPUT_BLOCKS[site])
    for part in OUTPUT_BLOCK_PARTS:
        _checked(block, part)
    return block


def output_block_signature(block_class: type) -> inspect.Signature:
    """The signature of an (unwrapped) output block's forward, checked to take the arguments xadapt reads."""
    signature = inspect.signature(block_class.forward)
    names = list(signature.parameters)[1:]
    if names[: len(OUTPUT_BLOCK_ARGUMENTS)] != list(OUTPUT_BLOCK_ARGUMENTS):
        raise _renamed(f"{block_class.__name__}.forward{tuple(OUTPUT_BLOCK_ARGUMENTS)} (it takes {tuple(names)})")
    return signature


def projection_signature(projection_class: type) -> inspect.Signature:
    """The signature of a projection's forward, checked to take the input by the name LoRA reads."""
    signature = inspect.signature(projection_class.forward)
    if PROJECTION_ARGUMENT not in signature.parameters:
        raise _renamed(f"{projection_class.__name__}.forward({PROJECTION_ARGUMENT})")
    return signature


def _checked(module: nn.Module, path: str) -> nn.Module:
    try:
        return _submodule(module, path)
    except AttributeError as err:
        raise _renamed(f"{type(module).__name__}.{path}") from err


def _renamed(what: str) -> XadaptError:
    return XadaptError(
        f"this model (transformers {transformers.__version__}) has no {what}, which xadapt's adapters need; "
        "pass a BERT, RoBERTa or XLM-R encoder (an AutoModel, not a task model) and use a transformers "
        "release within the range in xadapt's pyproject.toml"
    )
