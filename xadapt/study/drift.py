"""Representation drift: how far a trained model's sentence representations move from the base model's.

Ruidan He et al. (2021) compare each layer of a tuned model with the pretrained one by
representational similarity analysis (RSA): embed the same held-out sentences with both, build
each model's sentence-by-sentence cosine-similarity matrix, and correlate the two matrices'
upper triangles (Pearson). 1.0 means the geometry of the layer is unchanged.
"""

import torch


@torch.inference_mode()
def layer_representations(model, tokenizer, texts: list[str], composition=None, max_length: int = 128) -> torch.Tensor:
    """Mean-pooled sentence vectors for every layer (embeddings = layer 0): [layers + 1, sentences, hidden]."""
    was_training = model.training
    model.eval()
    pooled = []
    for start in range(0, len(texts), 32):
        batch = tokenizer(texts[start : start + 32], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        out = model(**batch, composition=composition, output_hidden_states=True)
        mask = batch["attention_mask"].unsqueeze(-1).to(out.hidden_states[0].dtype)
        pooled.append(torch.stack([(h * mask).sum(1) / mask.sum(1) for h in out.hidden_states]))
    model.train(was_training)
    return torch.cat(pooled, dim=1).float()


def rsa(first: torch.Tensor, second: torch.Tensor) -> float:
    """Pearson correlation between the upper triangles of two [n, hidden] sets' cosine-similarity matrices."""
    def similarities(x: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.normalize(x, dim=-1)
        rows, cols = torch.triu_indices(len(x), len(x), offset=1)
        return (x @ x.T)[rows, cols]

    a, b = similarities(first), similarities(second)
    a, b = a - a.mean(), b - b.mean()
    return float((a @ b) / (a.norm() * b.norm()).clamp_min(1e-12))


def drift_per_layer(base: torch.Tensor, tuned: torch.Tensor) -> list[float]:
    """RSA similarity to the base model for every layer."""
    return [rsa(b, t) for b, t in zip(base, tuned)]
