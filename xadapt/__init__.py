"""xadapt: language and task adapters vs full fine-tuning for cross-lingual, low-resource NLP."""

__version__ = "0.1.0"
