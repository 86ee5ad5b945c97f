"""The cases and the xadapt side of the comparison with the `adapters` library (the "peer").

The peer pins transformers 4.57, so it lives in its own venv (tests/peer/setup_peer_env.sh) and
runs in a subprocess (tests/peer/peer_side.py). Everything crosses over as files in a tmp dir:
the base model's config and safetensors weights, the inputs, xadapt-saved adapters (to_peer),
peer-saved adapters (from_peer), xadapt's exports in the `adapters` and PEFT layouts (loaded there by
the libraries themselves), and the peer's outputs and trainable-parameter counts. The training cases
(AdapterFusion trained a few optimiser steps from the same weights on both sides) send xadapt's
adapters, fusion layer and head, and bring back the peer's trained weights (outputs.safetensors)
and its losses and trainable parameters (training.json).

Model specs: tiny random BERT and XLM-R configs, and the default model when it is available
(`XADAPT_DEFAULT_MODEL_DIR`, else `xadapt.models.resolve_model("multilingual-e5-small")`).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

from xadapt.adapters import AdapterModel, make_config
from xadapt.adapters.composition import from_data, to_data
from xadapt.adapters.peer_export import export_adapter, export_head
from xadapt.adapters.peft_lora import export_lora

REPO = Path(__file__).resolve().parents[2]
PEER_SIDE = Path(__file__).with_name("peer_side.py")
SETUP = "bash tests/peer/setup_peer_env.sh"
# Bottleneck methods, LoRA, Stack and the MLM head compute the peer's exact operations in the same
# order: bit-identical. Prefix tuning, MAM and AdapterFusion reach the same function through a
# differently ordered softmax / matmul chain: within float32 rounding.
EXACT = 0.0
ROUNDING = 2e-6
RANDOM_STD = 0.05  # same scale as peer_side.RANDOM_STD: adapters far enough from identity
TINY = dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
CONFIG_KEYS = (
    "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
    "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "pad_token_id", "bos_token_id", "eos_token_id",
)  # fmt: skip


@dataclass(frozen=True)
class PeerAdapter:
    """One adapter of a case: its name, xadapt config options, and the peer's config class + kwargs."""

    name: str
    method: str
    options: dict
    peer: dict


@dataclass(frozen=True)
class Case:
    id: str
    adapters: tuple[PeerAdapter, ...]
    composition: Any  # composition data (composition.to_data form) over the adapter names
    directions: tuple[str, ...] = ("to_peer", "from_peer")
    fusion: bool = False
    mlm_head: bool = False
    tolerance: float = EXACT  # the largest absolute difference from the peer's output that passes


def _bn(name: str, method: str, peer_class: str, **options: Any) -> PeerAdapter:
    return PeerAdapter(name, method, options, {"class": peer_class, "kwargs": options})


_PREFIX = {"prefix_length": 5, "bottleneck_size": 16}
CASES = (
    Case("seq_bn", (_bn("a", "seq_bn", "SeqBnConfig", reduction_factor=4),), "a"),
    Case(
        "seq_bn_options",
        (
            PeerAdapter(
                "a",
                "seq_bn",
                {"reduction_factor": 8, "non_linearity": "gelu", "leave_out": (1,), "residual_before_ln": False},
                {
                    "class": "SeqBnConfig",
                    "kwargs": {
                        "reduction_factor": 8,
                        "non_linearity": "gelu",
                        "leave_out": [1],
                        "residual_before_ln": False,
                    },
                },
            ),
        ),
        "a",
    ),
    Case("double_seq_bn", (_bn("a", "double_seq_bn", "DoubleSeqBnConfig", reduction_factor=4),), "a"),
    Case("par_bn", (_bn("a", "par_bn", "ParBnConfig", reduction_factor=4),), "a"),
    Case("scaled_par_bn", (_bn("a", "scaled_par_bn", "ParBnConfig", reduction_factor=4, scaling="learned"),), "a"),
    Case("seq_bn_inv", (_bn("a", "seq_bn_inv", "SeqBnInvConfig", reduction_factor=2),), "a"),
    Case(
        "lora",
        (
            PeerAdapter(
                "a",
                "lora",
                {"r": 4, "alpha": 8, "matrices": ("q", "k", "v")},
                {"class": "LoRAConfig", "kwargs": {"r": 4, "alpha": 8, "attn_matrices": ["q", "k", "v"]}},
            ),
        ),
        "a",
    ),
    Case(
        "prefix",
        (PeerAdapter("a", "prefix", _PREFIX, {"class": "PrefixTuningConfig", "kwargs": _PREFIX}),),
        "a",
        tolerance=ROUNDING,
    ),
    Case(
        "mam",
        (
            PeerAdapter(
                "a",
                "mam",
                {"prefix": _PREFIX, "adapter": {"reduction_factor": 4}},
                {"class": "MAMConfig", "prefix": _PREFIX, "adapter": {"reduction_factor": 4}},
            ),
        ),
        "a",
        tolerance=ROUNDING,
    ),
    Case(
        "stack",
        (
            _bn("lang", "seq_bn_inv", "SeqBnInvConfig", reduction_factor=2),
            _bn("task", "seq_bn", "SeqBnConfig", reduction_factor=4),
        ),
        {"stack": ["lang", "task"]},
    ),
    Case(
        "fuse",
        (_bn("a", "seq_bn", "SeqBnConfig", reduction_factor=4), _bn("b", "seq_bn", "SeqBnConfig", reduction_factor=8)),
        {"fuse": ["a", "b"]},
        directions=("to_peer",),
        fusion=True,
        tolerance=ROUNDING,
    ),
    Case(
        "mlm_inv",
        (_bn("lang", "seq_bn_inv", "SeqBnInvConfig", reduction_factor=2),),
        "lang",
        ("to_peer",),
        mlm_head=True,
    ),
)


@dataclass(frozen=True)
class ExportCase:
    """Adapters (and a head) that xadapt writes in another library's format; that library loads and runs them."""

    id: str
    adapters: tuple[tuple[str, str, dict], ...]  # (name, method, options)
    composition: Any  # composition data over the names
    head: str | None = None  # the head kind on the last adapter, named like it
    format: str = "adapters"  # or "peft"


EXPORT_TOLERANCE = 1e-5  # the bound; the bottleneck methods and LoRA come out bit-identical
EXPORT_CASES = (
    ExportCase("seq_bn_tagging", (("task", "seq_bn", {"reduction_factor": 4}),), "task", "token_classification"),
    ExportCase("par_bn_classification", (("task", "par_bn", {"reduction_factor": 4}),), "task", "sequence_classification"),
    ExportCase("scaled_par_bn", (("task", "scaled_par_bn", {"reduction_factor": 4}),), "task"),
    ExportCase("double_seq_bn", (("task", "double_seq_bn", {"reduction_factor": 8, "non_linearity": "gelu"}),), "task"),
    ExportCase("lora_tagging", (("task", "lora", {"r": 4, "alpha": 8, "matrices": ("q", "k", "v")}),), "task",
               "token_classification"),
    ExportCase("madx_stack", (("lang", "seq_bn_inv", {"reduction_factor": 2}), ("task", "seq_bn", {"reduction_factor": 4})),
               {"stack": ["lang", "task"]}, "token_classification"),
    ExportCase("lora_peft", (("task", "lora", {"r": 4, "alpha": 8, "matrices": ("q", "v"), "leave_out": (1,)}),), "task",
               format="peft"),
)


# PEFT LoRAs made by PEFT (random weights, `save_pretrained`) that xadapt imports: id -> LoraConfig keywords
PEFT_SAVES = {
    "qv": {"r": 4, "lora_alpha": 8, "target_modules": ["query", "value"]},
    "qkv_layer0": {"r": 2, "lora_alpha": 4, "target_modules": ["query", "key", "value"], "layers_to_transform": [0]},
}


def export_name(case: ExportCase, name: str) -> str:
    return f"x_{case.id}_{name}"


def export_composition(case: ExportCase):
    def rename(data):
        return export_name(case, data) if isinstance(data, str) else {k: [rename(c) for c in v] for k, v in data.items()}
    return from_data(rename(case.composition))


def prepare_export(am: AdapterModel, case: ExportCase, tmp: Path, seed: int) -> dict:
    """Add the case's adapters (and head) to xadapt with random weights and export them with xadapt's writers."""
    folder = tmp / "export" / case.id
    folders = []
    for i, (name, method, options) in enumerate(case.adapters):
        ours = export_name(case, name)
        am.add_adapter(ours, make_config(method, **options))
        randomize(am.adapters[ours], seed + i)
        target = folder / name
        if case.format == "peft":
            export_lora(am.adapters[ours], am.adapters[ours].config, am.facts, target, "base")
        else:
            export_adapter(am.adapters[ours], am.adapters[ours].config, am.facts, ours, target)
        folders.append(str(target))
    job: dict[str, Any] = {"id": f"export:{case.id}", "format": case.format, "folders": folders,
                           "composition": to_data(export_composition(case))}
    if case.head:
        name = export_name(case, case.adapters[-1][0])
        am.add_head(name, case.head, num_labels=5)
        randomize(am.heads[name], seed + 50)
        export_head(am.heads[name], case.head, am.heads[name].options, am.facts, name, Path(folders[-1]))
        job["head"] = name
    return job


def xadapt_export_output(run: "PeerRun", case: ExportCase) -> torch.Tensor:
    with torch.no_grad():
        if case.head:
            name = export_name(case, case.adapters[-1][0])
            return run.model(**run.inputs, composition=export_composition(case), head=name).logits
        return run.model(**run.inputs, composition=export_composition(case)).last_hidden_state


def our_name(direction: str, case: Case, name: str) -> str:
    return f"{'t' if direction == 'to_peer' else 'f'}_{case.id}_{name}"


def our_composition(direction: str, case: Case):
    def rename(data):
        if isinstance(data, str):
            return our_name(direction, case, data)
        return {k: [rename(c) for c in v] for k, v in data.items()}

    return from_data(rename(case.composition))


def randomize(module: torch.nn.Module, seed: int) -> None:
    """Non-identity weights: every parameter ~ N(0, RANDOM_STD^2), learned scales 1.5."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, param in module.named_parameters():
            value = (
                torch.full(param.shape, 1.5)
                if key.endswith("scale")
                else torch.randn(param.shape, generator=generator) * RANDOM_STD
            )
            param.copy_(value)


TRAIN_TOLERANCE = 1e-5  # the largest absolute difference of a trained weight from the peer's (relative, for losses)
TRAIN_MOVES = 1e-3  # each trained part must move at least this far, or the comparison would prove nothing


@dataclass(frozen=True)
class TrainingCase:
    """AdapterFusion trained on both sides from identical weights: frozen adapters, trained fusion + head.

    Each step: the classification loss of `Fuse(...)` with the head, plus the value-matrix
    regulariser as each library computes it (xadapt: `fusion_regularization_loss(fuse)`, the
    peer: `get_fusion_regularization_loss()`, which its AdapterTrainer uses), backward, and one step
    of `torch.optim.<optimizer>(**hyper)` over every parameter the library's own freezing leaves
    trainable (xadapt: `train_adapter(fuse, heads=head)`, the peer: `train_adapter_fusion(fuse)`).
    Both run in eval mode, so dropout is off and the steps are deterministic.
    """

    id: str
    adapters: tuple[PeerAdapter, ...]
    optimizer: str  # a torch.optim class name
    hyper: dict
    steps: int = 3
    num_labels: int = 3

    @property
    def case(self) -> Case:
        """The adapters and fusion layer, prepared (random weights, saved for the peer) like any to_peer case."""
        return Case(self.id, self.adapters, {"fuse": [a.name for a in self.adapters]}, ("to_peer",), fusion=True)


TRAINING_CASES = (
    TrainingCase(
        "fuse_train_sgd",
        (_bn("a", "seq_bn", "SeqBnConfig", reduction_factor=4), _bn("b", "seq_bn", "SeqBnConfig", reduction_factor=8)),
        "SGD",
        {"lr": 0.5},
    ),
    TrainingCase(  # Houlsby adapters: fusion layers after attention and after the feed-forward block
        "fuse_train_adamw",
        (
            _bn("a", "double_seq_bn", "DoubleSeqBnConfig", reduction_factor=4),
            _bn("b", "double_seq_bn", "DoubleSeqBnConfig", reduction_factor=8),
        ),
        "AdamW",
        # eps above the default 1e-8: Adam's early steps move a weight by about lr * g / (|g| + eps), so a
        # gradient near zero turns float32 rounding (~1e-10, different on each side) into steps up to lr.
        # The key bias is such a weight everywhere (softmax ignores a shift shared by all adapters: its true
        # gradient is 0); with eps=1e-8 the default model ends 1.5e-4 apart, with 1e-5 below 1e-6, while
        # every other weight still moves ~lr per step.
        {"lr": 1e-3, "weight_decay": 0.01, "eps": 1e-5},
    ),
)


def training_head(case: TrainingCase) -> str:
    # not named like the fusion ("a,b"): head names cannot hold a comma
    return our_name("to_peer", case.case, "head")


def training_labels(case: TrainingCase, batch: int) -> torch.Tensor:
    return torch.randint(0, case.num_labels, (batch,), generator=torch.Generator().manual_seed(11))


def prepare_training(am: AdapterModel, case: TrainingCase, tmp: Path, seed: int, batch: int) -> dict:
    """Adapters and fusion as a to_peer case, value matrices moved to I + noise, and a random classification head."""
    job = prepare_to_peer(am, case.case, tmp, seed)
    job["id"] = f"train:{case.id}"
    fuse = our_composition("to_peer", case.case)
    folder = tmp / "to_peer" / case.id
    with torch.no_grad():  # near the paper's identity start, so the regulariser pulls on a realistic V
        for per_layer in am.fusions[fuse.name].layers.values():
            for layer in per_layer.values():
                layer.value.weight.add_(torch.eye(layer.value.weight.shape[0]))
    am.save_fusion(folder / "fusion", fuse)
    head = training_head(case)
    am.add_head(head, "sequence_classification", num_labels=case.num_labels)
    randomize(am.heads[head], seed + 300)
    am.save_head(folder / "head", head)
    job["head"] = {"name": head, "num_labels": case.num_labels, "weights": str(folder / "head" / "weights.safetensors")}
    job.update(labels=training_labels(case, batch).tolist(), optimizer=case.optimizer, hyper=case.hyper,
               steps=case.steps)
    return job


@dataclass
class TrainedSide:
    """One side's result of a training case: weights after training (xadapt names), losses per step, what trained."""

    fusion: dict[str, torch.Tensor]
    head: dict[str, torch.Tensor]
    losses: list[float]
    regularization: list[float]
    trainable: int
    adapters_moved: float  # the largest absolute change of any fused adapter's weight


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def xadapt_train(run: "PeerRun", case: TrainingCase) -> TrainedSide:
    """xadapt's side of a training case, on the run's model (only this case's fusion and head change)."""
    am = run.model
    fuse, head = our_composition("to_peer", case.case), training_head(case)
    start = run.training_start[case.id]  # from the weights the peer got, also when called again
    am.fusions[fuse.name].load_state_dict(start["fusion"])
    am.heads[head].load_state_dict(start["head"])
    adapters = [am.adapters[n] for n in fuse.children]
    before = [_snapshot(a) for a in adapters]
    am.train_adapter(fuse, heads=head)
    am.eval()  # no dropout: deterministic steps
    trainable = am.trainable_parameter_count()
    optimizer = getattr(torch.optim, case.optimizer)([p for p in am.parameters() if p.requires_grad], **case.hyper)
    labels = training_labels(case, run.inputs["input_ids"].shape[0])
    losses, regularization = [], []
    for _ in range(case.steps):
        optimizer.zero_grad()
        out = am(**run.inputs, composition=fuse, head=head, labels=labels)
        reg = am.fusion_regularization_loss(fuse)
        loss = out.loss + reg
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        regularization.append(reg.item())
    moved = max((a.state_dict()[k] - v).abs().max().item() for a, s in zip(adapters, before) for k, v in s.items())
    return TrainedSide(
        _snapshot(am.fusions[fuse.name]), _snapshot(am.heads[head]), losses, regularization, trainable, moved
    )


def peer_trained(run: "PeerRun", case: TrainingCase) -> TrainedSide:
    key = f"train:{case.id}"
    record = run.peer_training[key]

    def part(name: str) -> dict[str, torch.Tensor]:
        prefix = f"{key}:{name}:"
        return {k[len(prefix) :]: v for k, v in run.peer_outputs.items() if k.startswith(prefix)}

    return TrainedSide(
        part("fusion"), part("head"), record["losses"], record["regularization"], record["trainable"],
        record["adapters_moved"],
    )


@dataclass
class PeerRun:
    """One model spec, both sides: xadapt's model (to_peer and imported from_peer adapters) and the peer's results."""

    model: AdapterModel
    inputs: dict[str, torch.Tensor]
    base_output: torch.Tensor
    peer_outputs: dict[str, torch.Tensor]
    peer_counts: dict[str, dict[str, int]]
    cases: dict[str, Case] = field(default_factory=dict)
    peer_training: dict[str, dict] = field(default_factory=dict)  # training.json: per training case
    training_start: dict[str, dict[str, dict[str, torch.Tensor]]] = field(default_factory=dict)  # case -> fusion/head


def peer_python() -> Path:
    venv = Path(os.environ.get("XADAPT_PEER_VENV") or REPO / ".venv-peer")
    python = venv / "bin" / "python"
    if not python.is_file():
        pytest.fail(f"the peer venv is missing ({python} not found); run `{SETUP}` first", pytrace=False)
    return python


def default_model_dir() -> Path | None:
    if os.environ.get("XADAPT_DEFAULT_MODEL_DIR"):
        return Path(os.environ["XADAPT_DEFAULT_MODEL_DIR"])
    try:
        from xadapt.models import resolve_model
    except ImportError:
        return None
    return resolve_model("multilingual-e5-small")


def build_encoder(spec: str, tmp: Path) -> tuple[torch.nn.Module, Path]:
    """The base encoder of a model spec and a safetensors file with its weights."""
    torch.manual_seed(0)
    if spec == "tiny-bert":
        encoder = BertModel(BertConfig(**TINY, max_position_embeddings=64), add_pooling_layer=False)
    elif spec == "tiny-xlmr":
        config = XLMRobertaConfig(
            **TINY, max_position_embeddings=66, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2
        )
        encoder = XLMRobertaModel(config, add_pooling_layer=False)
    else:
        model_dir = default_model_dir()
        if model_dir is None:
            pytest.skip(
                "default model unavailable: set XADAPT_DEFAULT_MODEL_DIR or provide xadapt.models.resolve_model"
            )
        encoder = AutoModel.from_pretrained(str(model_dir), add_pooling_layer=False)
    weights = tmp / "base.safetensors"
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(weights))
    return encoder.eval(), weights


def make_inputs(config) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    ids = torch.randint(3, config.vocab_size, (3, 9), generator=generator)
    mask = torch.ones_like(ids)
    for row, length in ((1, 6), (2, 4)):
        mask[row, length:] = 0
        ids[row, length:] = config.pad_token_id
    return {"input_ids": ids, "attention_mask": mask}


def prepare_to_peer(am: AdapterModel, case: Case, tmp: Path, seed: int) -> dict:
    """Add the case's adapters to xadapt with random weights, save them, and describe them for the peer.

    The peer uses the same (case-unique) adapter names: it does not forget every part of a deleted
    adapter, so a reused name could pick up a stale prefix or invertible block.
    """
    folder = tmp / "to_peer" / case.id
    job: dict[str, Any] = {"id": f"to_peer:{case.id}", "direction": "to_peer", "adapters": []}
    job["composition"] = to_data(our_composition("to_peer", case))
    for i, adapter in enumerate(case.adapters):
        name = our_name("to_peer", case, adapter.name)
        am.add_adapter(name, make_config(adapter.method, **adapter.options))
        randomize(am.adapters[name], seed + i)
        am.save_adapter(folder / adapter.name, name)
        job["adapters"].append(
            {"name": name, "peer_config": adapter.peer, "weights": str(folder / adapter.name / "weights.safetensors")}
        )
    if case.fusion:
        fuse = our_composition("to_peer", case)
        am.add_fusion(fuse)
        randomize(am.fusions[fuse.name], seed + 100)
        am.save_fusion(folder / "fusion", fuse)
        job["fusion"] = str(folder / "fusion" / "weights.safetensors")
    if case.mlm_head:
        head = our_name("to_peer", case, "mlm")
        am.add_head(head, "masked_lm")
        randomize(am.heads[head], seed + 200)
        am.save_head(folder / "head", head)
        job["head"] = {"name": "mlm", "weights": str(folder / "head" / "weights.safetensors")}
    return job


def prepare_from_peer(case: Case, tmp: Path) -> dict:
    folder = tmp / "from_peer" / case.id
    adapters = [
        # The first adapter is saved as safetensors, the others as the peer's default pickle (the
        # peer cannot write prefixes as safetensors: it stores their tensors under several names).
        {
            "name": our_name("from_peer", case, a.name),
            "peer_config": a.peer,
            "save_dir": str(folder / a.name),
            "safetensors": i == 0 and a.method not in ("prefix", "mam"),
        }
        for i, a in enumerate(case.adapters)
    ]
    composition = to_data(our_composition("from_peer", case))
    return {"id": f"from_peer:{case.id}", "direction": "from_peer", "composition": composition, "adapters": adapters}


def run_peer(spec: str, tmp: Path) -> PeerRun:
    python = peer_python()
    encoder, weights = build_encoder(spec, tmp)
    am = AdapterModel(encoder).eval()
    inputs = make_inputs(encoder.config)
    save_file(inputs, str(tmp / "inputs.safetensors"))
    jobs = []
    for seed, case in enumerate(CASES):
        if "to_peer" in case.directions:
            jobs.append(prepare_to_peer(am, case, tmp, 10 * seed))
        if "from_peer" in case.directions:
            jobs.append(prepare_from_peer(case, tmp))
    exports = [prepare_export(am, case, tmp, 1000 + 10 * seed) for seed, case in enumerate(EXPORT_CASES)]
    batch = inputs["input_ids"].shape[0]
    trainings = [prepare_training(am, case, tmp, 2000 + 10 * seed, batch) for seed, case in enumerate(TRAINING_CASES)]
    start = {
        case.id: {
            "fusion": _snapshot(am.fusions[our_composition("to_peer", case.case).name]),
            "head": _snapshot(am.heads[training_head(case)]),
        }
        for case in TRAINING_CASES
    }
    config = {k: getattr(encoder.config, k) for k in CONFIG_KEYS if getattr(encoder.config, k, None) is not None}
    job = {
        "model": {"model_type": encoder.config.model_type, "config": config, "weights": str(weights)},
        "inputs": str(tmp / "inputs.safetensors"),
        "out": str(tmp),
        "cases": jobs,
        "exports": exports,
        "trainings": trainings,
        "peft_saves": [{"id": f"peft:{name}", "folder": str(tmp / "peft" / name), "config": config}
                       for name, config in PEFT_SAVES.items()],
    }
    (tmp / "job.json").write_text(json.dumps(job, indent=2))
    done = subprocess.run(
        [str(python), str(PEER_SIDE), str(tmp / "job.json")], capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        pytest.fail(f"peer side failed ({done.returncode}):\n{done.stderr[-4000:]}", pytrace=False)
    for case in CASES:
        if "from_peer" in case.directions:
            for adapter in case.adapters:
                am.import_peer_adapter(
                    tmp / "from_peer" / case.id / adapter.name, our_name("from_peer", case, adapter.name)
                )
    for name in PEFT_SAVES:
        am.import_peer_adapter(tmp / "peft" / name, f"peft_{name}")
    with torch.no_grad():
        base = am(**inputs).last_hidden_state
    counts = json.loads((tmp / "counts.json").read_text())
    training = json.loads((tmp / "training.json").read_text())
    outputs = load_file(str(tmp / "outputs.safetensors"))
    return PeerRun(am, inputs, base, outputs, counts, {c.id: c for c in CASES}, training, start)


SPECS = ("tiny-bert", "tiny-xlmr", "default")


def xadapt_output(run: PeerRun, case: Case, direction: str) -> torch.Tensor:
    composition = our_composition(direction, case)
    with torch.no_grad():
        if case.mlm_head:
            return run.model(**run.inputs, composition=composition, head=our_name(direction, case, "mlm")).logits
        return run.model(**run.inputs, composition=composition).last_hidden_state
