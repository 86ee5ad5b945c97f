"""Training and evaluation: task runs (adapter, MAD-X, full fine-tuning) and masked-LM language adapters."""
