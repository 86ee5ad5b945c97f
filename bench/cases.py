"""The training and inference cases: who runs each side, on which workload, with which settings.

Both sides of a case get the same workload file, batch size, learning rate (AdamW, the Trainer
default on both sides), weight decay, number of steps and thread count. A repetition is one pass's
worth of steps over the workload; `bench.protocol.WARMUP_STEPS` untimed steps come first.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bench.flops import Workload
from bench.harness import REPO, Side
from bench.workloads import LANG, num_labels

PEER_PYTHON = REPO / ".venv-peer" / "bin" / "python"  # created by tests/peer/setup_peer_env.sh
XADAPT = Side("xadapt", Path(sys.executable), "bench.sides.xadapt_side")
# the MLM head scoring only the tokens of the Swahili corpus (MaskedLMHead.restrict_vocabulary)
XADAPT_CORPUS_VOCABULARY = Side("xadapt corpus-vocab", Path(sys.executable), "bench.sides.xadapt_side", {"vocabulary": "corpus"})
ADAPTERS = Side("adapters", PEER_PYTHON, "bench.sides.adapters_side")
PEFT = Side("peft", PEER_PYTHON, "bench.sides.hf_side")
TRANSFORMERS = Side("transformers", Path(sys.executable), "bench.sides.hf_side")  # same transformers as xadapt


def in_bf16(side: Side) -> Side:
    """`side` training under bf16 autocast: xadapt's `precision="bf16"`, a peer's `Trainer(bf16=True)`."""
    return Side(f"{side.tool} bf16", side.python, side.module, {**side.options, "precision": "bf16"})


def side_precision(side: Side) -> str:
    return side.options.get("precision", "fp32")


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    peer: Side
    workload: str  # field of bench.workloads.Workloads
    flops: Workload
    method: str  # what the sides build: language_adapter, adapter, lora, finetune (ignored for inference)
    padding: str = "fixed"  # "fixed": every row padded to the file's widest; "dynamic": each tool's own collation
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 16
    logits_everywhere: tuple[str, ...] = ()  # tools whose MLM head computes logits at every position
    notes: str = ""
    kind: str = "training"  # or "inference"
    variants: tuple[Side, ...] = ()  # further xadapt sides, each compared with the peer too
    peer_variants: tuple[Side, ...] = ()  # further peer sides (the peer in bf16)
    group: str = ""  # a name selecting several cases at once (`--cases precision`)

    def sides(self) -> list[Side]:
        return [XADAPT, *self.variants, self.peer, *self.peer_variants]

    def settings(self) -> dict:
        """The settings both sides share."""
        return {
            "case": self.id, "kind": self.kind, "method": self.method, "workload": self.workload, "padding": self.padding,
            "lr": self.lr, "weight_decay": self.weight_decay, "batch_size": self.batch_size, "lang": LANG,
            "num_labels": num_labels(),
        }

    def spec(self, model_dir: Path, workload: Path) -> dict:
        """What each side process is told (bench.protocol reads it)."""
        return {**self.settings(), "model_dir": str(model_dir), "workload": str(workload)}


CASES = (
    Case(
        "mlm", "Language adapter: masked LM (`seq_bn_inv` + MLM head), Swahili text", ADAPTERS, "mlm",
        Workload(("seq_bn_inv",), "mlm"), "language_adapter", logits_everywhere=("adapters",),
        variants=(XADAPT_CORPUS_VOCABULARY,),
        notes="16 x 64-token rows, no padding; the same 15% masked positions on both sides",
    ),
    Case(
        "task_fixed", "Task adapter (`seq_bn`), WikiANN sw, identical padding", ADAPTERS, "tagging",
        Workload(("seq_bn",), "tagging", num_labels()), "adapter",
        notes="every row padded to the longest example; the same collator on both sides",
    ),
    Case(
        "task_pipeline", "Task adapter (`seq_bn`), WikiANN sw, each tool's default pipeline", ADAPTERS, "pipeline",
        Workload(("seq_bn",), "tagging", num_labels()), "adapter", padding="dynamic", variants=(in_bf16(XADAPT),),
        notes="320 sentences; xadapt: dynamic padding + length-bucketed batches in random order; adapters (run_ner.py defaults): dynamic padding, random order",
    ),
    Case(
        "lora", "LoRA (r 8, alpha 8, query + value), WikiANN sw, identical padding", PEFT, "tagging",
        Workload(("lora",), "tagging", num_labels()), "lora",
    ),
    Case(
        "finetune", "Full fine-tuning, WikiANN sw, identical padding", TRANSFORMERS, "tagging",
        Workload((), "tagging", num_labels(), trains_all=True), "finetune", lr=5e-5, weight_decay=0.01,
        notes="the peer runs with xadapt's own transformers and torch",
    ),
    *(Case(
        f"precision_{name}", f"{title}: fp32 and bf16 autocast on each side", peer, workload, flops, method, lr=lr,
        weight_decay=decay, logits_everywhere=logits, variants=(in_bf16(XADAPT),), peer_variants=(in_bf16(peer),),
        group="precision", notes="identical padding; weights and optimiser state fp32 on every side",
    ) for name, title, peer, workload, flops, method, lr, decay, logits in (
        ("mlm", "Language adapter: masked LM, Swahili text", ADAPTERS, "mlm", Workload(("seq_bn_inv",), "mlm"), "language_adapter",
         1e-3, 0.0, ("adapters", "adapters bf16")),
        ("adapter", "Task adapter (`seq_bn`), WikiANN sw", ADAPTERS, "tagging", Workload(("seq_bn",), "tagging", num_labels()),
         "adapter", 1e-3, 0.0, ()),
        ("finetune", "Full fine-tuning, WikiANN sw", TRANSFORMERS, "tagging", Workload((), "tagging", num_labels(), trains_all=True),
         "finetune", 5e-5, 0.01, ()),
    )),
    Case(
        "inference", "Inference: `Stack(sw language adapter, task adapter)` + tagging head, WikiANN sw test", ADAPTERS,
        "evaluation", Workload(("seq_bn_inv", "seq_bn"), "tagging", num_labels(), trains=False), "stack",
        batch_size=64, kind="inference", notes="batches of 64, shortest sentences first, each padded to its longest",
    ),
)
