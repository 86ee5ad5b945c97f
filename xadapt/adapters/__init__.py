"""Parameter-efficient adapters for frozen BERT / RoBERTa / XLM-R encoders (transformers 5).

Methods (one registry, `METHODS`; presets in `configs/adapters/<name>.yaml`):

    seq_bn         Pfeiffer bottleneck after the feed-forward block (reduction factor 16)
    double_seq_bn  Houlsby: bottlenecks after attention and after the feed-forward block
    par_bn         parallel adapter on the feed-forward block, fixed scale 4 (He et al. 2022)
    scaled_par_bn  parallel adapter with a learned scale
    seq_bn_inv     MAD-X language adapter: seq_bn (reduction 2) + invertible NICE adapter on the
                   embeddings, inverted before the MLM decoder
    lora           LoRA on the attention query/value projections
    prefix         prefix tuning with the reparametrising MLP
    mam            prefix tuning + scaled parallel adapter (He et al. 2022)

Every method except `prefix` and `mam` starts as an exact identity: a model with fresh adapters
returns the base model's outputs.

Usage:

    from xadapt.adapters import AdapterModel, Stack, Fuse, make_config

    am = AdapterModel.from_pretrained(model_dir)        # AutoModel encoder, no pooler
    am.add_adapter("sw", make_config("seq_bn_inv"))     # a config object ...
    am.add_adapter("ner", "seq_bn", reduction_factor=8) # ... or a method name with overrides
    am.add_head("ner", "token_classification", num_labels=7)
    am.add_head("mlm", "masked_lm")                     # fresh, or from_checkpoint=dir (cls.predictions.* / lm_head.*)

    am.train_adapter(Stack("sw", "ner"))   # trains "ner" (+ head "ner"); "sw" and the encoder stay frozen
    am.train_adapter("sw", heads="mlm")    # language adapter with the MLM head
    am.train_all()                         # full fine-tuning: encoder + heads
    am.trainable_parameter_count(); am.parameter_counts()

    with am.active(Stack("sw", "ner")):    # per thread / task; never global
        out = am(input_ids=ids, attention_mask=mask, head="ner", labels=labels)
    out = am(input_ids=ids, composition=Stack("de", "ner"), head="ner")   # zero-shot: swap the language adapter
    am(input_ids=ids)                      # no composition: exactly the base encoder; no head: encoder outputs

    am.add_fusion(Fuse("a", "b", "c")); am.train_adapter(Fuse("a", "b", "c"))
    loss = loss + am.fusion_regularization_loss(Fuse("a", "b", "c"))

    am.delete_adapter("de")                # also drops fusion layers that use it
    am.save_adapter(path, "ner"); am.load_adapter(path) -> name
    am.save_head(path, "ner");    am.load_head(path) -> name
    am.save_fusion(path, fuse);   am.load_fusion(path) -> Fuse
    am.import_peer_adapter(path) -> name   # folder written by the `adapters` library's save_adapter

Composition rules: in a `Stack`, bottleneck blocks run in order at every site; LoRA deltas of all
listed adapters add up; prefixes of all listed adapters are concatenated; the invertible block of
the first listed adapter runs on the embeddings (and its inverse before the MLM decoder).
`Fuse` fuses bottleneck adapters at the sites they all share.

Each saved folder holds a JSON description (config, base model name and shape facts) and
`weights.safetensors`; loading onto a model of another shape raises `XadaptError`, and pickled
weights are refused. MLM heads compute logits only at positions whose label is not -100.
"""

from xadapt.adapters.composition import Composition, Fuse, Stack
from xadapt.adapters.config import AdapterConfig, ModelFacts
from xadapt.adapters.fusion import FusionConfig
from xadapt.adapters.heads import HEAD_CLASSES
from xadapt.adapters.model import AdapterModel
from xadapt.adapters.registry import METHODS, load_config_file, make_config

__all__ = [
    "AdapterConfig",
    "AdapterModel",
    "Composition",
    "Fuse",
    "FusionConfig",
    "HEAD_CLASSES",
    "METHODS",
    "ModelFacts",
    "Stack",
    "load_config_file",
    "make_config",
]
