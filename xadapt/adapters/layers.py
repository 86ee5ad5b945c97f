"""Small building blocks shared by the adapter methods: the activation lookup and a two-layer MLP.

Bottleneck adapters, the NICE coupling functions and the prefix reparametrisation are all
"down-project, non-linearity, up-project"; one `MLP` class gives them the same parameter names
(`down`, `up`), which keeps saved files and the peer-import name mapping simple.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.activations import ACT2FN


def activation(name: str) -> nn.Module:
    """The activation module for `name`, as transformers (and so the `adapters` library) defines it."""
    if name == "leakyrelu":
        return nn.LeakyReLU()
    return ACT2FN[name]


class MLP(nn.Module):
    """`up(act(down(x)))`.

    `identity_init=True` makes a fresh MLP output exactly zero, so an adapter built from it starts as
    the identity; otherwise PyTorch's default `nn.Linear` initialisation is kept (prefix tuning).
    """

    def __init__(self, d_in: int, d_hidden: int, d_out: int, non_linearity: str, *, identity_init: bool = True):
        super().__init__()
        self.down = nn.Linear(d_in, d_hidden)
        self.act = activation(non_linearity)
        self.up = nn.Linear(d_hidden, d_out)
        if identity_init:
            # Down-projection like BERT's initialiser (std 0.02); a zero up-projection still receives
            # gradient (it multiplies the non-zero activations), so training starts from the identity.
            with torch.no_grad():
                nn.init.normal_(self.down.weight, std=0.02)
                nn.init.zeros_(self.down.bias)
                nn.init.zeros_(self.up.weight)
                nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.act(self.down(x)))
