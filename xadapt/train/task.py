"""Train one task run — whatever its training method (`xadapt.methods`) set up to train — and evaluate it.

The training loop is transformers' `Trainer` (dynamic padding, batches of similar length in random
order from `xadapt.train.sampling`, linear warm-up and decay, AdamW). Full fine-tuning trains only
the word-embedding rows the training set uses, with dense AdamW's result
(`xadapt.train.embedding_rows`). After every epoch the model is evaluated on the training
language's dev split (loss and task metric: the learning curve), and the trainable weights of the
best epoch are kept in memory, so the final test evaluation can report both the best-dev-epoch
score and the last-epoch score without a second training run.

Training stops on the first of three rules, checked after each epoch's dev evaluation: `patience`
epochs without a better dev score (early stopping), the maximum number of epochs, or a time
budget. The rule that stopped a run is recorded (`StopReason`), so a study can count the runs a
bound cut off while they were still improving.
"""

import math
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import torch
from torch import nn
from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments, set_seed

from xadapt import upstream
from xadapt.adapters import AdapterModel
from xadapt.errors import XadaptError
from xadapt.precision import FP32, autocast
from xadapt.train.embedding_rows import CompactWordEmbedding, token_ids_of, trainable_state, used_rows_only
from xadapt.train.evaluate import Evaluation
from xadapt.train.sampling import LengthBucketSampler, example_length
from xadapt.train.tracking import Tracking

TASK = "task"  # name of the task adapter and head inside a run's AdapterModel


class TrainingDiverged(XadaptError):
    """The loss became NaN or infinite; the run is recorded as failed."""


@dataclass
class TrainSettings:
    """Optimisation settings of one run (the study decides them)."""

    lr: float
    epochs: int
    batch_size: int
    seed: int
    weight_decay: float = 0.01
    warmup: float = 0.1  # fraction of steps spent warming the learning rate up
    patience: int | None = None  # stop after this many epochs without a better dev score; None: train every epoch
    time_budget: float | None = None  # seconds of training after which no further epoch starts; None: no limit


class StopReason:
    """Why a run stopped training: the rule that fired first."""

    PATIENCE = "patience"  # the dev score stopped improving: converged by the study's rule
    MAX_EPOCHS = "max_epochs"  # a bound: the maximum number of epochs
    TIME_BUDGET = "time_budget"  # a bound: the run's time budget
    DESCRIPTIONS = {PATIENCE: "patience (the dev score stopped improving)", MAX_EPOCHS: "the maximum number of epochs",
                    TIME_BUDGET: "its time budget"}


class ComposedModel(nn.Module):
    """An `AdapterModel` seen through one composition and one head: what `Trainer` calls.

    The composition is this object's own state, passed to every forward call, so two
    `ComposedModel`s over one `AdapterModel` never disturb each other. So is the precision every
    forward call (training and evaluation) computes in (`xadapt.precision`: fp32 or bf16 autocast).
    """

    def __init__(self, model: AdapterModel, composition, head: str = TASK, precision: str = FP32,
                 extra_loss: Callable[[], torch.Tensor | None] = lambda: None):
        super().__init__()
        self.model, self.composition, self.head, self.precision = model, composition, head, precision
        self.extra_loss = extra_loss  # a training method's term added to the loss in training (AdapterFusion's regulariser)
        self.config = model.encoder.config

    def forward(self, **batch):
        device_type = self.model.encoder.device.type
        with autocast(self.precision, device_type):
            out = self.model(**batch, head=self.head, composition=self.composition)
        if out.loss is not None and self.training:
            extra = self.extra_loss()
            if extra is not None:
                out.loss = out.loss + extra
        if out.loss is not None and self.training and not torch.isfinite(out.loss):
            raise TrainingDiverged(f"loss became {out.loss.item()} during training")
        return out

    @contextmanager
    def computing_in(self, precision: str) -> Iterator["ComposedModel"]:
        """This model computing in `precision` for the duration (a measurement in fp32, say)."""
        before, self.precision = self.precision, precision
        try:
            yield self
        finally:
            self.precision = before


class _EpochEvaluation(TrainerCallback):
    """Evaluate on dev after each epoch; keep the best epoch's trainable weights."""

    def __init__(
        self,
        composed: ComposedModel,
        score: Callable[[ComposedModel], Evaluation],
        metric: str,
        on_epoch: Callable[[dict], None],
        settings: TrainSettings,
    ):
        self.composed, self.score, self.metric, self.on_epoch = composed, score, metric, on_epoch
        self.patience, self.time_budget = settings.patience, settings.time_budget
        self.curve: list[dict] = []
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_epoch = 0
        self.last_train_loss = math.nan
        self.stop_reason = StopReason.MAX_EPOCHS  # unless a rule below fires first
        self.started = time.perf_counter()
        self.log: Callable[[dict], None] | None = None  # `Trainer.log` when a tracker follows the run

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.last_train_loss = logs["loss"]

    def on_epoch_end(self, args, state, control, **kwargs):
        dev = self.score(self.composed)
        epoch = len(self.curve) + 1
        point = {"epoch": epoch, "train_loss": self.last_train_loss, "dev_loss": dev.loss, "dev_score": dev.scores[self.metric]}
        self.curve.append(point)
        if self.log is not None:
            self.log({"dev_loss": dev.loss, f"dev_{self.metric}": point["dev_score"]})
        if self.best_state is None or point["dev_score"] > self.curve[self.best_epoch - 1]["dev_score"]:
            self.best_epoch = epoch
            self.best_state = trainable_state(self.composed)
        if self.patience is not None and epoch - self.best_epoch >= self.patience:
            self.stop_reason, control.should_training_stop = StopReason.PATIENCE, True
        elif epoch < args.num_train_epochs and self.time_budget is not None and time.perf_counter() - self.started >= self.time_budget:
            self.stop_reason, control.should_training_stop = StopReason.TIME_BUDGET, True
        self.on_epoch({**point, "epochs": args.num_train_epochs})


def train(
    composed: ComposedModel,
    train_set,
    collator,
    settings: TrainSettings,
    dev_score: Callable | None = None,
    metric: str | None = None,
    on_epoch: Callable[[dict], None] = lambda point: None,
    callbacks: Sequence[TrainerCallback] = (),
    tracking: Tracking = Tracking(),
    run_name: str | None = None,
) -> tuple[_EpochEvaluation | None, float]:
    """Run the optimisation; return the per-epoch record (when `dev_score` is given) and the seconds it took.

    `on_epoch` receives each epoch's dev point (for progress displays); `callbacks` are further
    `TrainerCallback`s (the benchmark paces training with one); `tracking` reports the run, named
    `run_name`, to a tracker (`xadapt.train.tracking`)."""
    steps_per_epoch = math.ceil(len(train_set) / settings.batch_size)
    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(
            output_dir=scratch,
            per_device_train_batch_size=settings.batch_size,
            num_train_epochs=settings.epochs,
            learning_rate=settings.lr,
            weight_decay=settings.weight_decay,
            warmup_steps=settings.warmup,
            lr_scheduler_type="linear",
            seed=settings.seed,
            data_seed=settings.seed,
            eval_strategy="no",
            save_strategy="no",
            logging_strategy="steps",
            logging_steps=max(1, steps_per_epoch),
            report_to="none",  # trackers come as explicit callbacks (`tracking`), the same on every transformers release
            run_name=run_name,
            disable_tqdm=True,
            remove_unused_columns=False,
            dataloader_num_workers=0,
            dataloader_pin_memory=torch.cuda.is_available(),  # pinning needs an accelerator; on a CPU it only warns
            # no `bf16=`: `ComposedModel` applies its own precision, in training and evaluation alike
        )
        tracker = _EpochEvaluation(composed, dev_score, metric, on_epoch, settings) if dev_score is not None else None
        reporting = tracking.callbacks(run_name or "run")
        rows = _used_embedding_rows(composed, train_set)
        with used_rows_only(composed.model.encoder, rows) if rows is not None else nullcontext() as compact:
            trainer = _TaskTrainer(
                model=composed, args=args, train_dataset=train_set, data_collator=collator,
                callbacks=[*([tracker] if tracker else []), *callbacks, *reporting], compact_embedding=compact,
            )
            trainer.remove_callback(PrinterCallback)  # it prints every log dict; callers show their own progress
            if tracker is not None and reporting:
                tracker.log = trainer.log
            start = time.perf_counter()
            with tracking.grouped():
                try:
                    trainer.train()
                except BaseException:  # a diverged run: end its tracked run too, or the next run would join it
                    for callback in reporting:
                        callback.on_train_end(args, trainer.state, trainer.control, model=composed)
                    raise
            return tracker, time.perf_counter() - start


def _used_embedding_rows(composed: ComposedModel, train_set) -> torch.Tensor | None:
    """The token ids whose word-embedding rows full fine-tuning trains (`xadapt.train.embedding_rows`), with padding.

    None, and the whole matrix trains as usual, when the word embeddings are frozen or the head
    is a masked-LM head (its tied decoder reads every row)."""
    model = composed.model
    embedding = model.encoder.get_input_embeddings()
    if not embedding.weight.requires_grad or model.heads[composed.head].kind == "masked_lm":
        return None
    padding = {model.encoder.config.pad_token_id, embedding.padding_idx} - {None}
    return token_ids_of(train_set, padding)


class _TaskTrainer(Trainer):
    """`Trainer` drawing its training batches with `LengthBucketSampler` (similar lengths, random order), and
    telling a `CompactWordEmbedding` about each optimiser step (the decay of the rows it does not train)."""

    def __init__(self, *args, compact_embedding: CompactWordEmbedding | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.compact_embedding = compact_embedding
        self.sampler_signature = upstream.train_sampler_signature(Trainer)

    def create_optimizer(self, *args, **kwargs):
        fresh = self.optimizer is None
        optimizer = super().create_optimizer(*args, **kwargs)
        if fresh and self.compact_embedding is not None:
            self.compact_embedding.follow(optimizer)
        return optimizer

    def _get_train_sampler(self, *args, **kwargs):  # a private hook: see xadapt.upstream.TRAIN_SAMPLER_METHOD
        call = upstream.call_arguments(self.sampler_signature, self, args, kwargs)
        dataset = call[upstream.TRAIN_SAMPLER_ARGUMENT]
        dataset = dataset if dataset is not None else self.train_dataset
        lengths = [example_length(dataset[i]) for i in range(len(dataset))]
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        return LengthBucketSampler(lengths, self.args.train_batch_size, seed)


def seeded(seed: int) -> None:
    """Seed python, numpy and torch before a model is built, so heads and adapters start alike."""
    set_seed(seed, deterministic=False)
