"""AdapterFusion (Pfeiffer et al. 2021): a fusion layer and a head over task adapters trained before.

Knowledge extraction, then composition: the sweep first trains (and caches) one task adapter per
fused source, other tasks in the training language and/or the study's task in other languages
(`xadapt.study.fusion_sources`); a fusion run then learns, for the target task, the attention over
those frozen adapters at every layer, and a head, with the paper's value-matrix regulariser added
to the loss. A saved run holds copies of the fused adapters, so it is served without the cache.
"""

from pathlib import Path

import torch

from xadapt.adapters import AdapterModel, Fuse
from xadapt.adapters.io import read_description
from xadapt.methods.base import HEAD_DIR, Composer, Prepared, TrainingMethod
from xadapt.methods.registry import register

FUSED_DIR = "fused"  # inside a saved run: fused/<adapter name>/, one folder per fused adapter
FUSION_DIR = "fusion"  # inside a saved run: the fusion layers


@register
class AdapterFusion(TrainingMethod):
    name = "fusion"
    summary = "AdapterFusion: attention over frozen task adapters of other tasks or languages, and a head"
    trains = "the fusion layers and the head; the encoder and the fused adapters stay frozen"
    lr = 5e-5  # Pfeiffer et al. (2021) train the fusion layers at 5e-5 (1e-4 for the head-only variant)
    parts = (FUSED_DIR, FUSION_DIR, HEAD_DIR)
    demo_title = "AdapterFusion"
    # measured: 0.0445 s per example-epoch in bf16 fusing 2 adapters (SIB-200 sw, Zen 4, 2026-12-06); x1.43 for fp32
    seconds_per_example = 0.064
    fuses_adapters = True

    def build(self, model: AdapterModel, name: str, prepared: Prepared) -> Composer:
        names = sorted(prepared.fused_adapters)
        for adapter in names:
            model.load_adapter(prepared.fused_adapters[adapter], name=adapter)
        fuse = Fuse(*names)
        model.add_fusion(fuse)
        model.train_adapter(fuse, heads=name)
        return lambda language: fuse

    def extra_loss(self, model: AdapterModel, name: str) -> torch.Tensor | None:
        return model.fusion_regularization_loss(_trained_fuse(model))

    def save(self, model: AdapterModel, name: str, directory: Path, tokenizer) -> None:
        fuse = _trained_fuse(model)
        for adapter in fuse.children:
            model.save_adapter(directory / FUSED_DIR / adapter, adapter)
        model.save_fusion(directory / FUSION_DIR, fuse)
        super().save(model, name, directory, tokenizer)

    def attach(self, model: AdapterModel, run_dir: Path, name: str) -> Composer:
        run_dir = Path(run_dir)
        saved = read_description(run_dir / FUSION_DIR, "fusion", model.facts)["names"]
        names = [f"{name}:{adapter}" for adapter in saved]  # apart from another run's copies of the same adapters
        for adapter, inside in zip(saved, names):
            model.load_adapter(run_dir / FUSED_DIR / adapter, name=inside)
        fuse = model.load_fusion(run_dir / FUSION_DIR, names=names)
        super().attach(model, run_dir, name)
        return lambda language: fuse

    def describe(self, facts: dict) -> str:
        fused = ", ".join(f"{s['task']} {s['lang']}" for s in facts.get("fused", []))
        return f"{self.demo_title} of {fused}" if fused else self.demo_title


def _trained_fuse(model: AdapterModel) -> Fuse:
    """The one fusion a fusion run's model holds."""
    (fusion,) = model.fusions.values()
    return Fuse(*fusion.names)
