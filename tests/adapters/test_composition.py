"""Stack / Fuse, per-call activation (argument or context), thread safety and what `train_adapter` trains."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from adapter_helpers import hidden, make_inputs, randomize, tiny_model

from xadapt.adapters import Fuse, Stack
from xadapt.adapters.composition import from_data, to_data
from xadapt.errors import XadaptError


@pytest.fixture
def madx():
    """Two language adapters and one task adapter, all with non-identity weights."""
    model = tiny_model()
    for seed, (name, method) in enumerate((("sw", "seq_bn_inv"), ("de", "seq_bn_inv"), ("ner", "seq_bn"))):
        model.add_adapter(name, method)
        randomize(model.adapters[name], seed=seed + 1)
    model.add_head("ner", "token_classification", num_labels=5)
    return model


def test_swapping_the_language_adapter_changes_outputs(madx):
    inputs = make_inputs()
    with torch.no_grad():
        sw = madx(**inputs, head="ner", composition=Stack("sw", "ner")).logits
        de = madx(**inputs, head="ner", composition=Stack("de", "ner")).logits
        task_only = madx(**inputs, head="ner", composition="ner").logits
    assert (sw - de).abs().max() > 1e-3
    assert (sw - task_only).abs().max() > 1e-3


def test_context_and_argument_select_the_same_composition(madx):
    inputs = make_inputs()
    explicit = hidden(madx, inputs, composition=Stack("sw", "ner"))
    with madx.active(Stack("sw", "ner")):
        assert torch.equal(hidden(madx, inputs), explicit)
        with madx.active("ner"):  # inner block wins, and is undone on exit
            assert torch.equal(hidden(madx, inputs), hidden(madx, inputs, composition="ner"))
        assert torch.equal(hidden(madx, inputs), explicit)
        assert torch.equal(hidden(madx, inputs, composition=None), hidden(madx, inputs, composition=None))
    base = hidden(madx, inputs, composition=None)
    assert torch.equal(hidden(madx, inputs), base)  # nothing stays active after the block


def test_activation_is_per_model():
    a, b = tiny_model(), tiny_model()
    for model in (a, b):
        model.add_adapter("x", "seq_bn")
        randomize(model.adapters["x"])
    inputs = make_inputs()
    with a.active("x"):
        assert torch.equal(hidden(b, inputs), hidden(b, inputs, composition=None))


def test_concurrent_calls_with_different_compositions_match_sequential(madx):
    inputs = make_inputs(batch=2, length=6)
    compositions = [None, "ner", Stack("sw", "ner"), Stack("de", "ner"), "sw", Stack("de", "sw", "ner")]
    expected = [hidden(madx, inputs, composition=c) for c in compositions]
    barrier = threading.Barrier(len(compositions))

    def worker(index: int) -> list[torch.Tensor]:
        barrier.wait()
        results = []
        for round_ in range(10):
            if round_ % 2:
                with madx.active(compositions[index]):
                    results.append(hidden(madx, inputs))
            else:
                results.append(hidden(madx, inputs, composition=compositions[index]))
        return results

    with ThreadPoolExecutor(len(compositions)) as pool:
        outcomes = list(pool.map(worker, range(len(compositions))))
    for index, results in enumerate(outcomes):
        for result in results:
            torch.testing.assert_close(result, expected[index], rtol=0, atol=1e-6)


def test_a_new_thread_does_not_inherit_the_active_composition(madx):
    inputs = make_inputs()
    seen = {}
    with madx.active(Stack("sw", "ner")):
        thread = threading.Thread(target=lambda: seen.update(out=hidden(madx, inputs)))
        thread.start()
        thread.join()
    assert torch.equal(seen["out"], hidden(madx, inputs, composition=None))


def test_train_adapter_on_a_stack_trains_only_its_last_element(madx):
    madx.train_adapter(Stack("sw", "ner"))
    trainable = {n.split(".")[1] for n, p in madx.named_parameters() if p.requires_grad}
    assert trainable == {"ner"}  # adapters.ner and heads.ner
    assert not any(p.requires_grad for p in madx.adapters["sw"].parameters())
    madx.train_adapter("sw", heads=[])
    assert {n for n, p in madx.named_parameters() if p.requires_grad} == {
        n for n, _ in madx.named_parameters() if n.startswith("adapters.sw.")
    }


def test_train_all_trains_encoder_and_heads_only(madx):
    madx.train_all()
    for name, param in madx.named_parameters():
        assert param.requires_grad == name.startswith(("encoder.", "heads.")), name


def test_fusion_trains_alone_and_round_trips(tmp_path):
    model = tiny_model()
    methods = {"lang": "seq_bn_inv", "a": "seq_bn", "b": "seq_bn", "c": "double_seq_bn"}
    for seed, (name, method) in enumerate(methods.items()):
        model.add_adapter(name, method)
        randomize(model.adapters[name], seed=seed + 1)
    fuse = Fuse("a", "b", "c")
    model.add_fusion(fuse)
    # fused where all three have blocks: the feed-forward site of both layers ("c" also has attention blocks)
    assert {(i, s) for i, d in model.fusions[fuse.name].layers.items() for s in d} == {("0", "ffn"), ("1", "ffn")}
    model.add_head("h", "sequence_classification", num_labels=3)
    model.train_adapter(fuse, heads="h")
    assert {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad} == {"fusions", "heads"}
    assert model.fusion_regularization_loss(fuse).item() == 0.0  # value matrices start as the identity

    randomize(model.fusions[fuse.name], seed=9)
    inputs = make_inputs()
    fused = hidden(model, inputs, composition=Stack("lang", fuse))
    assert (fused - hidden(model, inputs, composition=Stack("lang", "c"))).abs().max() > 1e-3
    model.save_fusion(tmp_path / "f", fuse)
    for name in methods:
        model.save_adapter(tmp_path / name, name)

    fresh = tiny_model()
    for name in methods:
        fresh.load_adapter(tmp_path / name)
    assert fresh.load_fusion(tmp_path / "f") == fuse
    assert torch.equal(hidden(fresh, inputs, composition=Stack("lang", fuse)), fused)


def test_compositions_are_checked():
    model = tiny_model()
    model.add_adapter("a", "seq_bn")
    model.add_adapter("b", "seq_bn")
    inputs = make_inputs()
    with pytest.raises(XadaptError, match="no adapter 'zz'"):
        model(**inputs, composition=Stack("a", "zz"))
    with pytest.raises(XadaptError, match="no fusion layer"):
        model(**inputs, composition=Fuse("a", "b"))
    with pytest.raises(XadaptError, match="composition is an adapter name"):
        model(**inputs, composition=["a", "b"])
    with pytest.raises(XadaptError, match="twice"):
        Stack("a", "a")
    with pytest.raises(XadaptError, match="at least two"):
        Fuse("a")
    model.add_adapter("l", "lora")
    with pytest.raises(XadaptError, match="no site"):
        model.add_fusion(Fuse("a", "l"))


def test_composition_data_round_trip():
    for composition in ("a", Stack("a", "b"), Fuse("a", "b"), Stack("lang", Fuse("a", "b"))):
        assert from_data(to_data(composition)) == composition
    assert Fuse("a", "b").name == "a,b"


def test_train_adapter_checks_before_freezing(madx):
    with pytest.raises(XadaptError, match="needs an adapter name"):
        madx.train_adapter(None)
    with pytest.raises(XadaptError, match="no head 'pos'"):
        madx.train_adapter("ner", heads="pos")
    assert all(p.requires_grad for p in madx.parameters())  # nothing was frozen by the failed calls
