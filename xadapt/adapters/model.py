"""`AdapterModel`: a frozen transformers encoder with named adapters, fusion layers and heads.

The model owns three name-keyed collections (`adapters`, `fusions`, `heads`) next to the patched
encoder. Which adapters run is decided per call: `model(..., composition=Stack("sw", "ner"))`, or
for a block of code `with model.active(Stack("sw", "ner")): ...`. Nothing about the active
composition is stored on the model, so one model can serve concurrent requests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoModel, PreTrainedModel
from transformers.modeling_outputs import ModelOutput

from xadapt import upstream
from xadapt.adapters import attention, io, peer
from xadapt.adapters.base import AdapterModule
from xadapt.adapters.bottleneck import SITES
from xadapt.adapters.composition import Composition, Fuse, Stack, activate, active_composition, as_stack
from xadapt.adapters.config import AdapterConfig, ModelFacts
from xadapt.adapters.fusion import Fusion, FusionConfig
from xadapt.adapters.heads import HeadInput, MaskedLMHead, head_class, mlm_state_from_checkpoint
from xadapt.adapters.inject import family, inject
from xadapt.adapters.forward_plan import ForwardPlan, running
from xadapt.adapters.registry import build_adapter, config_from_dict, make_config
from xadapt.errors import XadaptError

_FROM_CONTEXT = object()  # forward's default: use the composition of the innermost `active()` block


class AdapterModel(nn.Module):
    """A BERT / RoBERTa / XLM-R encoder with adapters; see `xadapt.adapters` for the API tour."""

    def __init__(self, encoder: PreTrainedModel):
        super().__init__()
        self.family = family(encoder.config)
        self.encoder = encoder
        self.facts = ModelFacts.from_config(encoder.config)
        self.adapters = nn.ModuleDict()
        self.fusions = nn.ModuleDict()
        self.heads = nn.ModuleDict()
        # Identifies this model's patched modules to the running plan (a copy of the model gets its own).
        self._owner = object()
        inject(encoder, self._owner)

    @classmethod
    def from_pretrained(cls, model_dir: str | Path, **kwargs: Any) -> AdapterModel:
        """Load the encoder (without pooler: heads pool themselves) from a local transformers directory."""
        try:
            encoder = AutoModel.from_pretrained(str(model_dir), add_pooling_layer=False, **kwargs)
        except (OSError, ValueError) as err:
            raise XadaptError(f"cannot load a transformers encoder from {model_dir}: {err}") from err
        return cls(encoder)

    # ----- building -------------------------------------------------------------------------------

    def _new_name(self, name: str, collection: nn.ModuleDict, what: str) -> str:
        if not name or not isinstance(name, str) or any(c in name for c in ".,"):
            raise XadaptError(f"{what} name {name!r} must be a non-empty string without '.' or ','")
        if name in collection:
            raise XadaptError(f"this model already has {what} {name!r}; delete it first or choose another name")
        return name

    def _place(self, module: nn.Module) -> nn.Module:
        """Give a new part the encoder's device, floating dtype and train/eval mode."""
        weight = self.encoder.get_input_embeddings().weight
        return module.to(device=weight.device, dtype=weight.dtype).train(self.training)

    def add_adapter(self, name: str, config: AdapterConfig | str = "seq_bn", **options: Any) -> None:
        """Add adapter `name` built from a config object or a method name (with option overrides)."""
        self._new_name(name, self.adapters, "adapter")
        if isinstance(config, str):
            config = make_config(config, **options)
        elif options:
            config = config.replace(**options)
        self.adapters[name] = self._place(build_adapter(config, self.facts))

    def delete_adapter(self, name: str) -> None:
        """Remove adapter `name` and every fusion layer that uses it."""
        self._require(name, self.adapters, "adapter")
        for fusion_name in [f for f, fusion in self.fusions.items() if name in fusion.names]:
            del self.fusions[fusion_name]
        del self.adapters[name]

    def add_fusion(self, fuse: Fuse, config: FusionConfig | None = None) -> None:
        """Add the AdapterFusion layers for `fuse` at every site where all its adapters have a bottleneck."""
        config = config or FusionConfig()
        self._new_fusion(fuse)
        self.fusions[fuse.name] = self._place(self._build_fusion(fuse, config))

    def _new_fusion(self, fuse: Fuse) -> None:
        if fuse.name in self.fusions:
            raise XadaptError(f"this model already has a fusion layer for {fuse}")

    def _build_fusion(self, fuse: Fuse, config: FusionConfig) -> Fusion:
        adapters = [self._require(n, self.adapters, "adapter") for n in fuse.children]
        sites = {}
        for i in range(self.facts.num_hidden_layers):
            shared = [s for s in SITES if all(a.bottleneck(i, s) is not None for a in adapters)]
            if shared:
                sites[i] = shared
        if not sites:
            raise XadaptError(f"{fuse} has no site where all its adapters have a bottleneck block to fuse")
        dropout = config.dropout if config.dropout is not None else self.encoder.config.attention_probs_dropout_prob
        return Fusion(fuse.children, config, self.facts, sites, dropout)

    def add_head(
        self, name: str, kind: str, *, num_labels: int | None = None, from_checkpoint: str | Path | None = None,
        pooling: str = "first",
    ) -> None:
        """Add a head: "sequence_classification", "token_classification", "multiple_choice" or "masked_lm".

        A sentence-level head (sequence classification, multiple choice) reads the first token, or with
        `pooling="mean"` the mean of the real tokens; the other heads read every token and ignore `pooling`.

        A masked-LM head starts fresh unless `from_checkpoint` names a transformers checkpoint
        (directory or .safetensors) with `cls.predictions.*` (BERT) or `lm_head.*` (RoBERTa) weights.
        """
        self._new_name(name, self.heads, "head")
        config = self.encoder.config
        dropout = getattr(config, "classifier_dropout", None)
        dropout = config.hidden_dropout_prob if dropout is None else dropout
        options: dict[str, Any] = {
            "sequence_classification": {"num_labels": num_labels, "dropout": dropout, "pooling": pooling},
            "token_classification": {"num_labels": num_labels, "dropout": dropout},
            "multiple_choice": {"dropout": dropout, "pooling": pooling},
            "masked_lm": {
                "activation_name": self.family.mlm_activation or config.hidden_act,
                "layer_norm_eps": config.layer_norm_eps,
            },
        }.get(kind, {})
        head = head_class(kind)(self.facts, **options)
        if from_checkpoint is not None:
            if not isinstance(head, MaskedLMHead):
                raise XadaptError("from_checkpoint is only for masked_lm heads")
            prefix = self.family.mlm_checkpoint_prefix
            state = mlm_state_from_checkpoint(io.read_checkpoint_tensors(from_checkpoint, prefix), prefix)
            if not state:
                raise XadaptError(
                    f"{from_checkpoint} has no pretrained MLM head ({prefix}* weights); "
                    "leave out from_checkpoint to create a fresh head"
                )
            io.load_strict(head, state, f"MLM head in {from_checkpoint}")
        self.heads[name] = self._place(head)

    # ----- choosing what runs and what trains ----------------------------------------------------

    def _require(self, name: str, collection: nn.ModuleDict, what: str) -> nn.Module:
        if name not in collection:
            raise XadaptError(f"this model has no {what} {name!r}; it has {sorted(collection.keys()) or 'none'}")
        return collection[name]

    def check_composition(self, composition: Any) -> Composition | None:
        """Return `composition` if every name in it exists here (and every Fuse has a fusion layer)."""
        if composition is None:
            return None
        if not isinstance(composition, (str, Stack, Fuse)):
            raise XadaptError(f"a composition is an adapter name, Stack(...) or Fuse(...), got {composition!r}")
        for element in as_stack(composition):
            for n in (element,) if isinstance(element, str) else element.children:
                self._require(n, self.adapters, "adapter")
            if isinstance(element, Fuse) and element.name not in self.fusions:
                raise XadaptError(f"no fusion layer for {element}; call add_fusion({element}) or load_fusion() first")
        return composition

    @contextmanager
    def active(self, composition: Composition | None) -> Iterator[None]:
        """Use `composition` for this model's calls inside the block (in this thread or task only)."""
        with activate(self._owner, self.check_composition(composition)):
            yield

    def train_adapter(self, target: Composition, heads: str | Sequence[str] | None = None) -> None:
        """Freeze everything except what `target` trains, plus its head(s).

        A name trains that adapter; `Stack(language, task)` trains only its last element (the
        language adapter stays frozen, as in MAD-X); `Fuse(...)` trains only the fusion layer.
        `heads` defaults to the head named like the trained adapter or fusion, if there is one.
        """
        if self.check_composition(target) is None:
            raise XadaptError("train_adapter needs an adapter name, Stack(...) or Fuse(...)")
        last = as_stack(target)[-1]
        trained = self.fusions[last.name] if isinstance(last, Fuse) else self.adapters[last]
        if heads is None:
            name = last.name if isinstance(last, Fuse) else last
            heads = [name] if name in self.heads else []
        head_modules = [self._require(h, self.heads, "head") for h in ([heads] if isinstance(heads, str) else heads)]
        self.requires_grad_(False)
        for module in (trained, *head_modules):
            module.requires_grad_(True)

    def train_all(self) -> None:
        """Full fine-tuning: every encoder weight and every head trains; adapters and fusions are frozen."""
        self.requires_grad_(False)
        self.encoder.requires_grad_(True)
        self.heads.requires_grad_(True)

    def parameter_counts(self) -> dict[str, dict[str, int]]:
        """Total and trainable parameter counts per part (encoder, adapters, fusions, heads)."""
        counts = {}
        for part in ("encoder", "adapters", "fusions", "heads"):
            params = list(getattr(self, part).parameters())
            counts[part] = {
                "total": sum(p.numel() for p in params),
                "trainable": sum(p.numel() for p in params if p.requires_grad),
            }
        return counts

    def trainable_parameter_count(self) -> int:
        """How many parameters the optimiser will update."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def fusion_regularization_loss(self, fuse: Fuse) -> torch.Tensor:
        """The AdapterFusion paper's value-matrix regulariser, to add to the loss when training `fuse`."""
        return self._require(fuse.name, self.fusions, "fusion").regularization_loss()

    # ----- running ------------------------------------------------------------------------------

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        *,
        head: str | None = None,
        labels: torch.Tensor | None = None,
        composition: Any = _FROM_CONTEXT,
        **encoder_kwargs: Any,
    ) -> ModelOutput:
        """Encode (and predict with `head`); `composition` overrides the one from `active()` for this call.

        Without a head the encoder's output is returned (e.g. for representation analysis).
        Multiple-choice inputs are shaped (batch, choices, length).
        """
        if composition is _FROM_CONTEXT:
            composition = active_composition(self._owner)
        plan = ForwardPlan(self._owner, self.check_composition(composition), self.adapters, self.fusions)
        if self.training and upstream.activation_checkpointing(self.encoder):
            raise XadaptError(
                "activation (gradient) checkpointing is not supported with adapters; disable it on the encoder"
            )
        selected = upstream.attention_implementation(self.encoder.config)
        if selected != attention.NAME:
            raise XadaptError(
                f"the encoder's attn_implementation was changed to {selected!r}; adapters need {attention.NAME!r} "
                f"(model.encoder.set_attn_implementation({attention.NAME!r}))"
            )
        head_module = self._require(head, self.heads, "head") if head is not None else None
        num_choices = None
        if head_module is not None and head_module.kind == "multiple_choice":
            num_choices = input_ids.shape[1]
            input_ids, attention_mask, token_type_ids = (
                t.flatten(0, 1) if t is not None else None for t in (input_ids, attention_mask, token_type_ids)
            )
        with running(plan):
            out = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, **encoder_kwargs
            )
            if head_module is None:
                return out
            embeddings = self.encoder.get_input_embeddings().weight
            inputs = HeadInput(out.last_hidden_state, labels, embeddings, plan.invertible(), num_choices, attention_mask)
            return head_module(inputs)

    # ----- saving and loading -------------------------------------------------------------------

    def save_adapter(self, directory: str | Path, name: str) -> Path:
        """Write adapter `name` (config, weights, base model facts) into `directory`."""
        module = self._require(name, self.adapters, "adapter")
        return io.save_component(
            directory, "adapter", {"name": name, "config": module.config.to_dict()}, module, self.facts
        )

    def load_adapter(self, directory: str | Path, name: str | None = None) -> str:
        """Load an adapter saved by `save_adapter`; returns its name here (the saved one unless `name`)."""
        document = io.read_description(directory, "adapter", self.facts)
        module = build_adapter(config_from_dict(document["config"]), self.facts)
        io.load_strict(module, io.read_weights(directory), f"adapter at {directory}")
        return self._attach(name or document["name"], module)

    def import_peer_adapter(self, directory: str | Path, name: str | None = None) -> str:
        """Load an adapter saved by the `adapters` library (`model.save_adapter(dir, name)`), e.g. from AdapterHub."""
        saved_name, config, tensors = peer.read_peer_adapter(directory, self.facts)
        module = build_adapter(config, self.facts)
        io.load_strict(module, tensors, f"`adapters` adapter at {directory}")
        return self._attach(name or saved_name, module)

    def _attach(self, name: str, module: AdapterModule) -> str:
        self._new_name(name, self.adapters, "adapter")
        self.adapters[name] = self._place(module)
        return name

    def save_fusion(self, directory: str | Path, fuse: Fuse) -> Path:
        """Write the fusion layers of `fuse` into `directory` (the adapters are saved separately)."""
        fusion = self._require(fuse.name, self.fusions, "fusion")
        description = {"names": list(fusion.names), "config": fusion.config.to_dict()}
        return io.save_component(directory, "fusion", description, fusion, self.facts)

    def load_fusion(self, directory: str | Path, names: Sequence[str] | None = None) -> Fuse:
        """Load fusion layers saved by `save_fusion`; the fused adapters must already be here, under their
        saved names or, in the saved order, under `names` (a model holding several runs names them apart)."""
        document = io.read_description(directory, "fusion", self.facts)
        if names is not None and len(names) != len(document["names"]):
            raise XadaptError(f"the fusion at {directory} fuses {len(document['names'])} adapters, not {len(names)}")
        fuse = Fuse(*(names if names is not None else document["names"]))
        self._new_fusion(fuse)
        fusion = self._build_fusion(fuse, FusionConfig.from_dict(document["config"]))
        io.load_strict(fusion, io.read_weights(directory), f"fusion at {directory}")
        self.fusions[fuse.name] = self._place(fusion)
        return fuse

    def save_head(self, directory: str | Path, name: str) -> Path:
        """Write head `name` (kind, options, weights) into `directory`."""
        head = self._require(name, self.heads, "head")
        description = {"name": name, "head_kind": head.kind, "options": head.options}
        return io.save_component(directory, "head", description, head, self.facts)

    def load_head(self, directory: str | Path, name: str | None = None) -> str:
        """Load a head saved by `save_head`; returns its name here."""
        document = io.read_description(directory, "head", self.facts)
        head = head_class(document["head_kind"])(self.facts, **document["options"])
        io.load_strict(head, io.read_weights(directory), f"head at {directory}")
        name = self._new_name(name or document["name"], self.heads, "head")
        self.heads[name] = self._place(head)
        return name
