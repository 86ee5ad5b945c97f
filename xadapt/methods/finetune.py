"""Full fine-tuning: every encoder weight and the head train (the baseline adapters are compared with)."""

from pathlib import Path

from xadapt.adapters import AdapterModel
from xadapt.methods.base import HEAD_DIR, Composer, Prepared, TrainingMethod
from xadapt.methods.registry import register

MODEL_DIR = "model"  # inside a saved run: the fine-tuned encoder and its tokenizer


@register
class FineTune(TrainingMethod):
    name = "finetune"
    summary = "full fine-tuning: every encoder weight and the head train"
    trains = "the whole encoder and the head"
    lr = 5e-5  # the top of the usual 2e-5..5e-5 (He et al. 2021)
    weight_decay = 0.01  # BERT's; adapters train without it
    parts = (MODEL_DIR, HEAD_DIR)
    demo_title = "fine-tuned model"
    seconds_per_example = 0.021
    whole_encoder = True

    def build(self, model: AdapterModel, name: str, prepared: Prepared) -> Composer:
        model.train_all()
        return lambda language: None

    def save(self, model: AdapterModel, name: str, directory: Path, tokenizer) -> None:
        model.encoder.save_pretrained(directory / MODEL_DIR, safe_serialization=True)
        tokenizer.save_pretrained(directory / MODEL_DIR)
        super().save(model, name, directory, tokenizer)

    def encoder_dir(self, run_dir: Path, facts: dict) -> Path:
        return Path(run_dir) / MODEL_DIR
