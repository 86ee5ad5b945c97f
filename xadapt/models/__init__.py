"""Models: resolve a `--model` name to a local transformers directory."""

from xadapt.models.packaged_models import DEFAULT_MODEL, PACKAGED_MODELS
from xadapt.models.resolve import model_identity, resolve_model

__all__ = ["DEFAULT_MODEL", "PACKAGED_MODELS", "resolve_model", "model_identity"]
