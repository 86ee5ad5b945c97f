"""MAD-X (Pfeiffer et al. 2020): a task adapter stacked on the training language's frozen language adapter.

At evaluation the language adapter under the task adapter is swapped for the target language's:
zero-shot cross-lingual transfer. The language adapters are trained first (masked-LM on raw text,
`xadapt.train.language`) and shared by every MAD-X run through the cache.
"""

from xadapt.adapters import AdapterModel, Stack
from xadapt.methods.adapter import TaskAdapterMethod
from xadapt.methods.base import Composer, Prepared
from xadapt.methods.registry import register


@register
class MadX(TaskAdapterMethod):
    name = "madx"
    summary = "MAD-X: a seq_bn task adapter stacked on a language adapter, swapped for the target's at evaluation"
    trains = "a seq_bn task adapter and the head; the encoder and the language adapter stay frozen"
    demo_title = "MAD-X task adapter"
    seconds_per_example = 0.016
    needs_language_adapters = True
    adapter_method = "seq_bn"

    def build(self, model: AdapterModel, name: str, prepared: Prepared) -> Composer:
        for lang, directory in prepared.language_adapters.items():
            model.load_adapter(directory, name=lang)
        model.add_adapter(name, "seq_bn")
        model.train_adapter(name)
        return self.compose(name)

    def compose(self, name: str) -> Composer:
        return lambda language: Stack(language, name)
