"""Tiny random encoders of each supported family and helpers shared by the adapter tests.

(A module of its own rather than conftest.py: test files import it, and every test folder has a
conftest.py, so `from conftest import ...` would pick whichever was imported first.)
"""

from __future__ import annotations

import torch
from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel, XLMRobertaConfig, XLMRobertaModel

from xadapt.adapters import AdapterModel

TINY = dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
ROBERTA_LIKE = dict(max_position_embeddings=66, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2)
FAMILIES = {
    "bert": (BertConfig, BertModel, dict(max_position_embeddings=64)),
    "roberta": (RobertaConfig, RobertaModel, ROBERTA_LIKE),
    "xlm-roberta": (XLMRobertaConfig, XLMRobertaModel, ROBERTA_LIKE),
}


def tiny_encoder(family: str = "bert", seed: int = 0, **overrides) -> torch.nn.Module:
    """A random 2-layer encoder (hidden 32, vocab 100), identical for equal seeds."""
    config_class, model_class, extra = FAMILIES[family]
    torch.manual_seed(seed)
    return model_class(config_class(**{**TINY, **extra, **overrides}), add_pooling_layer=False).eval()


def tiny_model(family: str = "bert", seed: int = 0, **overrides) -> AdapterModel:
    return AdapterModel(tiny_encoder(family, seed, **overrides)).eval()


def randomize(module: torch.nn.Module, seed: int = 1, std: float = 0.05) -> None:
    """Give every parameter random non-identity values."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * std + (1.0 if param.numel() == 1 else 0.0))


def make_inputs(pad_token_id: int = 0, batch: int = 3, length: int = 8, seed: int = 3) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 100, (batch, length), generator=generator)
    mask = torch.ones_like(ids)
    mask[-1, length // 2 :] = 0
    ids[-1, length // 2 :] = pad_token_id
    return {"input_ids": ids, "attention_mask": mask}


def hidden(model: AdapterModel, inputs: dict, **kwargs) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs, **kwargs).last_hidden_state
