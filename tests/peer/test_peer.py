"""xadapt vs the `adapters` library on the same weights: equal outputs, equal trainable counts, peer import.

Each case runs in up to two directions: "to_peer" (xadapt's random adapter weights loaded into the
peer through an independent name mapping in peer_side.py) and "from_peer" (the peer's random
adapters saved with its `save_adapter` and loaded with `AdapterModel.import_peer_adapter`). The
export cases go through xadapt's own writers and the libraries' own loaders. The training cases
train AdapterFusion (fusion layer + classification head, with the value-matrix regulariser) a few
steps from identical weights on both sides and compare the trained weights.
"""

from __future__ import annotations

import pytest
import torch
from peer_cases import (
    CASES,
    EXPORT_CASES,
    EXPORT_TOLERANCE,
    PEFT_SAVES,
    TRAIN_MOVES,
    TRAIN_TOLERANCE,
    TRAINING_CASES,
    our_composition,
    our_name,
    peer_trained,
    training_head,
    xadapt_export_output,
    xadapt_output,
    xadapt_train,
)

DIRECTED = [
    pytest.param(direction, case, id=f"{direction}-{case.id}") for case in CASES for direction in case.directions
]


@pytest.mark.parametrize(("direction", "case"), DIRECTED)
def test_outputs_equal_peer(peer_run, direction, case):
    ours = xadapt_output(peer_run, case, direction)
    theirs = peer_run.peer_outputs[f"{direction}:{case.id}"]
    assert ours.shape == theirs.shape
    diff = (ours - theirs).abs().max().item()
    print(f"max abs difference {direction}:{case.id} = {diff:.2e}")
    assert diff <= case.tolerance
    if not case.mlm_head:  # the comparison means something only if the adapters change the output
        assert (ours - peer_run.base_output).abs().max().item() > 1e-3


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_trainable_parameter_counts_equal_peer(peer_run, case):
    for adapter in case.adapters:
        peer_run.model.train_adapter(our_name("to_peer", case, adapter.name), heads=[])
        ours = peer_run.model.trainable_parameter_count()
        assert ours == peer_run.peer_counts[f"to_peer:{case.id}"][our_name("to_peer", case, adapter.name)] > 0


def test_imported_peer_adapter_keeps_its_weights(peer_run):
    """The imported adapter carries the peer's random (non-identity) weights, not a fresh init."""
    case = peer_run.cases["seq_bn"]
    imported = peer_run.model.adapters[our_name("from_peer", case, "a")]
    up = imported.blocks["0"]["ffn"].mlp.up.weight
    assert up.abs().max().item() > 0
    assert torch.isfinite(up).all()


@pytest.mark.parametrize("case", EXPORT_CASES, ids=[c.id for c in EXPORT_CASES])
def test_exports_load_in_the_peer_library_with_equal_outputs(peer_run, case):
    """`load_adapter(folder, use_safetensors=True)` (with the head) or `PeftModel.from_pretrained` on xadapt's export."""
    ours = xadapt_export_output(peer_run, case)
    theirs = peer_run.peer_outputs[f"export:{case.id}"]
    assert ours.shape == theirs.shape
    diff = (ours - theirs).abs().max().item()
    print(f"max abs difference export:{case.id} = {diff:.2e}")
    assert diff <= EXPORT_TOLERANCE
    if not case.head:  # without a head, the output must differ from the base model's for the check to mean anything
        assert (ours - peer_run.base_output).abs().max().item() > 1e-3


@pytest.mark.parametrize("name", PEFT_SAVES)
def test_a_peft_lora_imports_with_equal_outputs(peer_run, name):
    """A LoRA made and saved by PEFT, imported with `import_peer_adapter`, computes what PEFT computes."""
    with torch.no_grad():
        ours = peer_run.model(**peer_run.inputs, composition=f"peft_{name}").last_hidden_state
    theirs = peer_run.peer_outputs[f"peft:{name}"]
    diff = (ours - theirs).abs().max().item()
    print(f"max abs difference peft:{name} = {diff:.2e}")
    assert diff <= EXPORT_TOLERANCE and (ours - peer_run.base_output).abs().max().item() > 1e-3


def _max_diff(ours: dict[str, torch.Tensor], theirs: dict[str, torch.Tensor]) -> float:
    assert ours.keys() == theirs.keys()
    return max((ours[k] - theirs[k]).abs().max().item() for k in ours)


@pytest.mark.parametrize("case", TRAINING_CASES, ids=[c.id for c in TRAINING_CASES])
def test_fusion_training_equals_peer(peer_run, case):
    """A few optimiser steps on AdapterFusion (+ head, + regulariser) end at the peer's weights; adapters stay put."""
    ours, theirs = xadapt_train(peer_run, case), peer_trained(peer_run, case)
    start = peer_run.training_start[case.id]
    fuse = our_composition("to_peer", case.case)
    # the same parameters train: exactly the fusion layer and the head (the peer trains every head it has)
    names = peer_run.peer_training[f"train:{case.id}"]["trainable_names"]
    head = training_head(case)
    assert all(f".adapter_fusion_layer.{fuse.name}." in n or n.startswith(f"heads.{head}.") for n in names)
    assert ours.trainable == theirs.trainable == sum(t.numel() for part in start.values() for t in part.values())
    for side in (ours, theirs):  # a real training: fusion and head moved well beyond the tolerance ...
        assert _max_diff(side.fusion, start["fusion"]) > TRAIN_MOVES
        assert _max_diff(side.head, start["head"]) > TRAIN_MOVES
        assert min(side.regularization) > 0
        assert side.adapters_moved == 0.0  # ... while the fused adapters stayed frozen
    fusion_diff, head_diff = _max_diff(ours.fusion, theirs.fusion), _max_diff(ours.head, theirs.head)
    # losses reach ~90 on the default model (384-wide value matrices): compare them relatively
    loss_diff = max(
        abs(a - b) / max(1.0, abs(b))
        for a, b in zip(ours.losses + ours.regularization, theirs.losses + theirs.regularization, strict=True)
    )
    print(f"max abs difference train:{case.id}: fusion {fusion_diff:.2e}, head {head_diff:.2e}, "
          f"losses (relative) {loss_diff:.2e}")
    assert fusion_diff <= TRAIN_TOLERANCE
    assert head_diff <= TRAIN_TOLERANCE
    assert loss_diff <= TRAIN_TOLERANCE
