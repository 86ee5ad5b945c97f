"""Precision: what `auto` picks on which hardware, what stays fp32 under bf16, and that bf16 trains like fp32."""

from dataclasses import asdict

import pytest
import torch
from transformers import AutoTokenizer, DataCollatorForTokenClassification

from xadapt.data import get_task, load_split
from xadapt.environment import cpu
from xadapt.errors import XadaptError
from xadapt.models import resolve_model
from xadapt.precision import BF16, FP32, choose_precision, resolve_precision
from xadapt.train.evaluate import evaluate
from xadapt.train.features import encode
from xadapt.train.language import LanguageAdapterSettings, cache_dir, language_adapter_model, mlm_head_dir
from xadapt.methods import build_run_model
from xadapt.train.task import ComposedModel, TrainSettings, seeded, train

AVX2 = ["AVX2"]
AVX512 = ["AVX-512", "AVX2"]
AVX512_BF16 = ["AVX512-BF16", "AVX-512", "AVX2"]
AMX = ["AMX", "AVX512-BF16", "AVX-512", "AVX2"]


@pytest.mark.parametrize(("requested", "cuda", "cuda_bf16", "isa", "expected"), [
    ("auto", False, False, AMX, BF16),
    ("auto", False, False, AVX512_BF16, BF16),
    ("auto", False, False, AVX512, FP32),  # AVX-512 without bf16 instructions emulates bf16: slower
    ("auto", False, False, AVX2, FP32),
    ("auto", True, True, AVX2, BF16),  # a GPU with bf16, whatever the host CPU
    ("auto", True, False, AMX, FP32),  # a GPU without bf16: the GPU decides, not the host
    ("fp32", False, False, AMX, FP32),
    ("fp32", True, True, AMX, FP32),
    ("bf16", False, False, AVX2, BF16),  # asked for: given, with the reason it will be slow
])
def test_auto_picks_bf16_only_where_the_hardware_multiplies_bf16(requested, cuda, cuda_bf16, isa, expected):
    chosen = choose_precision(requested, cuda=cuda, cuda_bf16=cuda_bf16, cpu_isa=isa)
    assert chosen.name == expected
    assert chosen.reason


def test_bf16_on_an_avx2_cpu_says_it_is_slower():
    assert "slower" in choose_precision("bf16", cuda=False, cuda_bf16=False, cpu_isa=AVX2).reason


def test_bf16_on_a_gpu_without_it_is_refused_and_unknown_names_are_listed():
    with pytest.raises(XadaptError, match="does not support bf16"):
        choose_precision("bf16", cuda=True, cuda_bf16=False, cpu_isa=AMX)
    with pytest.raises(XadaptError, match="auto, fp32, bf16"):
        choose_precision("fp16", cuda=False, cuda_bf16=False, cpu_isa=AMX)


def test_this_machine_resolves_by_its_own_instruction_sets():
    native = {"AMX", "AVX512-BF16"} & set(cpu()["isa"])
    expected = BF16 if native or (torch.cuda.is_available() and torch.cuda.is_bf16_supported()) else FP32
    assert resolve_precision("auto").name == expected


@pytest.fixture(scope="module")
def model_dir():
    return resolve_model("multilingual-e5-small")


@pytest.fixture(scope="module")
def tagging(model_dir, real_data):
    """40 WikiANN sw training sentences and 40 dev sentences, encoded, with their collator."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    train_split = load_split("wikiann", "sw", "train", real_data).select(range(40))
    dev_split = load_split("wikiann", "sw", "dev", real_data).select(range(40))
    return (encode(train_split, "token_classification", tokenizer, 64), encode(dev_split, "token_classification", tokenizer, 64),
            DataCollatorForTokenClassification(tokenizer), tokenizer)


def test_under_bf16_matrix_products_are_bf16_and_layernorm_losses_and_weights_stay_fp32(model_dir, tagging):
    train_set, _, collator, _ = tagging
    model, composition_for = build_run_model("adapter", model_dir, "token_classification", len(get_task("wikiann").labels))
    composed = ComposedModel(model, composition_for("sw"), precision=BF16)
    norms = []
    for module in model.modules():
        if isinstance(module, torch.nn.LayerNorm):
            module.register_forward_hook(lambda module, inputs, output: norms.append((inputs[0].dtype, output.dtype)))
    out = composed(**collator([train_set[i] for i in range(8)]))
    assert out.logits.dtype == torch.bfloat16  # the classifier's matrix product ran in bf16
    assert out.loss.dtype == torch.float32  # cross-entropy (and its softmax) in fp32
    assert norms and set(norms) == {(torch.float32, torch.float32)}  # the residual stream and every LayerNorm: fp32
    out.loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g.dtype == torch.float32 for g in grads)  # master weights and their gradients stay fp32
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_the_masked_lm_head_runs_its_layernorm_and_the_invertible_inverse_in_fp32(model_dir, tagging):
    *_, tokenizer = tagging
    composed = language_adapter_model(model_dir, "sw", precision=BF16)
    model = composed.model
    inverse_inputs = []
    adapter = next(m for m in model.modules() if hasattr(m, "f") and hasattr(m, "g"))  # the NICE block
    adapter.register_forward_pre_hook(lambda module, args, kwargs: inverse_inputs.append((args[0].dtype, torch.is_autocast_enabled("cpu"), kwargs.get("rev"))),
                                      with_kwargs=True)
    batch = tokenizer(["Habari ya leo ni nzuri sana", "Watu wengi wanaishi mjini"], return_tensors="pt", padding=True)
    labels = batch["input_ids"].clone()
    labels[:, ::2] = -100
    out = composed(**batch, labels=labels)
    assert out.loss.dtype == torch.float32
    forward, inverse = inverse_inputs[0], inverse_inputs[-1]
    assert inverse == (torch.float32, False, True)  # the inverse: fp32 input, autocast off
    assert forward[1] is True  # the forward direction runs under autocast like the rest
    with composed.computing_in(FP32):
        exact = composed(**batch, labels=labels).loss
    assert composed.precision == BF16  # restored after the fp32 measurement
    assert abs(out.loss.item() - exact.item()) < 0.01 * exact.item()


def test_bf16_trains_like_fp32(model_dir, tagging):
    """The same run (seed, data, steps) in both precisions: the same first loss to within 1%, and
    after 4 epochs dev losses within 2% of each other (measured: 1.5356 and 1.5357 on a Zen 4).
    Scores of converged runs are compared by `python -m bench --cases precision_grid`."""
    train_set, dev_set, collator, _ = tagging
    outcome = {}
    for precision in (FP32, BF16):
        seeded(0)
        model, composition_for = build_run_model("adapter", model_dir, "token_classification", len(get_task("wikiann").labels))
        composed = ComposedModel(model, composition_for("sw"), precision=precision)
        first = composed(**collator([train_set[i] for i in range(8)])).loss.item()
        settings = TrainSettings(lr=1e-3, epochs=4, batch_size=8, seed=0)
        train(composed, train_set, collator, settings)
        dev = evaluate(composed, dev_set, collator, head="token_classification", labels=get_task("wikiann").labels)
        outcome[precision] = (first, dev.loss)
    (first32, loss32), (first16, loss16) = outcome[FP32], outcome[BF16]
    assert abs(first16 - first32) < 0.01 * first32
    assert abs(loss16 - loss32) < 0.02 * loss32, outcome
    assert loss32 < first32 and loss16 < first16  # both learned


def test_language_adapters_and_heads_trained_in_bf16_are_cached_apart_and_fp32_keeps_its_folders(model_dir, real_data, tmp_path, monkeypatch):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))
    settings = LanguageAdapterSettings()
    fp32, bf16 = cache_dir(model_dir, "sw", settings), cache_dir(model_dir, "sw", settings, BF16)
    assert bf16.name == f"{fp32.name}-bf16" and cache_dir(model_dir, "sw", settings, FP32) == fp32
    assert mlm_head_dir(model_dir, settings, real_data, BF16) != mlm_head_dir(model_dir, settings, real_data) \
        == mlm_head_dir(model_dir, settings, real_data, FP32)


def test_a_runs_id_changes_with_bf16_and_not_with_fp32(model_dir, real_data, monkeypatch):
    """fp32 stays out of the hash, so runs recorded before precision was a choice keep their ids."""
    from xadapt.precision import Precision
    from xadapt.study import runner
    from xadapt.study.config import StudyConfig
    from xadapt.study.plan import make_plan
    from xadapt.study.results import run_id

    monkeypatch.setattr(runner, "resolve_precision", lambda requested: Precision(requested, "test"))
    study = StudyConfig(sizes=[20], seeds=[0], methods=["adapter"], source=None)
    run = make_plan(study).runs[0]
    keys = {}
    for precision in (FP32, BF16):
        context = runner.RunContext(StudyConfig(**{**study.__dict__, "precision": precision}), real_data)
        keys[precision] = runner.run_key(context, run)
        assert runner.protocol(context, run)["precision"] == precision
    # what the id hashed before precision (and the fused adapters of AdapterFusion runs) were part of a run
    facts = {**{k: v for k, v in asdict(run).items() if k != "fuse"},
             **{k: v for k, v in runner.protocol(context, run).items() if k != "precision"}, "model": context.identity["fingerprint"]}
    assert keys[FP32] == run_id(facts) != keys[BF16]


def test_the_estimate_shrinks_with_bf16_and_two_workers():
    from xadapt.study.config import StudyConfig
    from xadapt.study.plan import make_plan
    from xadapt.study.sweep import estimate_seconds

    study = StudyConfig()
    plan = make_plan(study)
    runs, adapters = list(plan.runs), list(plan.language_adapters)
    fp32 = estimate_seconds(study, runs, adapters)
    bf16 = estimate_seconds(study, runs, adapters, precision=BF16)
    both = estimate_seconds(study, runs, adapters, precision=BF16, workers=2)
    assert both < bf16 < fp32
    assert estimate_seconds(study, [], adapters, precision=BF16, workers=2) == estimate_seconds(study, [], adapters, precision=BF16)
