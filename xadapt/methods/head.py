"""The linear-probe baseline: the encoder stays frozen and only the task head trains.

It is the floor every other method has to clear: what the pretrained representations give a task
without changing them. (Its drift from the base model is nil by construction.) A sentence-level head
reads the mean of the token states, the sentence embedding multilingual-e5 was trained to produce
(its first token was never trained to summarise the sentence); a token-level head reads each token.
"""

from xadapt.adapters import AdapterModel
from xadapt.methods.base import HEAD_DIR, Composer, Prepared, TrainingMethod
from xadapt.methods.registry import register


@register
class HeadOnly(TrainingMethod):
    name = "head"
    summary = "linear-probe baseline: the frozen encoder's states, only the head trains"
    trains = "the head alone; the encoder stays frozen"
    lr = 1e-3  # a fresh head on frozen features (the rate the shared MLM head is fitted at)
    parts = (HEAD_DIR,)
    demo_title = "head on the frozen encoder (probe)"
    seconds_per_example = 0.006  # no backward pass through the encoder
    head_pooling = "mean"

    def build(self, model: AdapterModel, name: str, prepared: Prepared) -> Composer:
        model.requires_grad_(False)
        model.heads[name].requires_grad_(True)
        return lambda language: None
