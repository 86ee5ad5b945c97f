"""Partial fine-tuning: only the encoder's top two transformer layers and the head train.

A classic middle ground between a frozen encoder (`head`) and full fine-tuning, and the README's
worked example of adding a training method: this module and its import in `xadapt/methods/__init__.py`.
"""

from xadapt.adapters import AdapterModel
from xadapt.methods.base import Composer, Prepared
from xadapt.methods.finetune import FineTune
from xadapt.methods.registry import register

TOP = 2  # transformer layers that train, counted from the top


@register
class TopLayers(FineTune):
    name = "top_layers"
    summary = f"partial fine-tuning: the top {TOP} transformer layers and the head train"
    trains = f"the top {TOP} encoder layers and the head"
    demo_title = f"model fine-tuned in its top {TOP} layers"
    seconds_per_example = 0.012  # assumed: the backward pass stops two layers down

    def build(self, model: AdapterModel, name: str, prepared: Prepared) -> Composer:
        model.requires_grad_(False)
        for layer in model.encoder.encoder.layer[-TOP:]:
            layer.requires_grad_(True)
        model.heads[name].requires_grad_(True)
        return lambda language: None
