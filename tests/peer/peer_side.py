"""The `adapters`-library side of the peer comparison; run with the peer venv's python.

Usage: python tests/peer/peer_side.py JOB.json

The job (written by tests/peer/conftest.py) names a base model (config + safetensors weights),
the inputs, and a list of cases. Each case adds adapters with the `adapters` library's own config
classes and then either
- "to_peer":   loads the weights xadapt saved (mapping xadapt's parameter names onto the peer's), or
- "from_peer": gives the adapters random non-identity weights and saves them with `save_adapter`,
runs the encoder with the case's composition and records the outputs, plus the trainable
parameter count of each adapter after `train_adapter(name)`. Each export (written by xadapt's
`xadapt.adapters.peer_export` / `peft_lora`) is loaded as a user would load it — `load_adapter(folder,
use_safetensors=True)` with its head, or `PeftModel.from_pretrained` on a plain transformers encoder —
and run. Each PEFT save is a random LoRA made with PEFT and written by its `save_pretrained`, for
xadapt to import. Each training loads xadapt's adapters, fusion layer and classification head,
freezes with `train_adapter_fusion`, and takes a few optimiser steps on the classification loss plus
`get_fusion_regularization_loss()`; the trained weights go back under xadapt's parameter names.
Results go to OUT/outputs.safetensors, OUT/counts.json and OUT/training.json. Only the peer venv
(transformers 4.57 + adapters 1.3) can import this file.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import adapters
import torch
from adapters import BertAdapterModel, Fuse, Stack, XLMRobertaAdapterModel
from safetensors.torch import load_file, save_file
from transformers import BertConfig, XLMRobertaConfig

MODELS = {
    "bert": (BertConfig, BertAdapterModel, "bert"),
    "xlm-roberta": (XLMRobertaConfig, XLMRobertaAdapterModel, "roberta"),
}
RANDOM_STD = 0.05  # weight scale for "from_peer" adapters: far enough from identity to make outputs differ


def build_model(spec: dict) -> tuple[torch.nn.Module, str]:
    config_class, model_class, prefix = MODELS[spec["model_type"]]
    config = config_class(**spec["config"])
    model = model_class(config).eval()
    base = {}
    for key, tensor in load_file(spec["weights"]).items():
        key = re.sub(r"^(bert|roberta)\.", "", key)
        if not key.startswith(("cls.", "lm_head.", "pooler.")):
            base[f"{prefix}.{key}"] = tensor
    missing, unexpected = model.load_state_dict(base, strict=False)
    # The pooler is unused here and prompt tuning keeps a second reference to the word embeddings.
    stray = [k for k in missing if not k.startswith((f"{prefix}.pooler.", "heads.", f"{prefix}.prompt_tuning."))]
    if stray or unexpected:
        raise SystemExit(f"base weights do not fit: missing {stray[:5]}, unexpected {unexpected[:5]}")
    return model, prefix


def peer_config(spec: dict):
    if spec["class"] == "MAMConfig":
        return adapters.MAMConfig(
            prefix_tuning=adapters.PrefixTuningConfig(**spec["prefix"]), adapter=adapters.ParBnConfig(**spec["adapter"])
        )
    return getattr(adapters, spec["class"])(**spec.get("kwargs", {}))


def composition(data):
    if isinstance(data, str):
        return data
    if "fuse" in data:
        return Fuse(*data["fuse"])
    return Stack(*[composition(c) for c in data["stack"]])


_SITES = {"attention": "attention.output", "ffn": "output"}
_MATRICES = {"q": "query", "k": "key", "v": "value"}
_HALVES = {"down": "0", "up": "2"}


def peer_name(key: str, name: str, prefix: str) -> str:
    """The peer's parameter name for xadapt's adapter parameter `key` (independent of xadapt's own mapping)."""
    rules = [
        (
            r"blocks\.(\d+)\.(\w+)\.mlp\.down\.(\w+)",
            lambda m: f"encoder.layer.{m[1]}.{_SITES[m[2]]}.adapters.{name}.adapter_down.0.{m[3]}",
        ),
        (
            r"blocks\.(\d+)\.(\w+)\.mlp\.up\.(\w+)",
            lambda m: f"encoder.layer.{m[1]}.{_SITES[m[2]]}.adapters.{name}.adapter_up.{m[3]}",
        ),
        (r"blocks\.(\d+)\.(\w+)\.scale", lambda m: f"encoder.layer.{m[1]}.{_SITES[m[2]]}.adapters.{name}.scaling"),
        (
            r"invertible\.([fg])\.(down|up)\.(\w+)",
            lambda m: f"invertible_adapters.{name}.{m[1].upper()}.{_HALVES[m[2]]}.{m[3]}",
        ),
        (
            r"deltas\.(\d+)\.([qkv])\.(lora_[AB])",
            lambda m: f"encoder.layer.{m[1]}.attention.self.{_MATRICES[m[2]]}.loras.{name}.{m[3]}",
        ),
        (r"generator\.wte\.weight", lambda m: f"prefix_tuning.prefix_tunings.{name}.self_prefix.wte.weight"),
        (
            r"generator\.mlp\.(down|up)\.(\w+)",
            lambda m: f"prefix_tuning.prefix_tunings.{name}.self_prefix.control_trans.{_HALVES[m[1]]}.{m[2]}",
        ),
        (
            r"layers\.(\d+)\.(\w+)\.(query|key|value)\.(\w+)",
            lambda m: f"encoder.layer.{m[1]}.{_SITES[m[2]]}.adapter_fusion_layer.{name}.{m[3]}.{m[4]}",
        ),
    ]
    for pattern, target in rules:
        match = re.fullmatch(pattern, key)
        if match:
            return f"{prefix}.{target(match)}"
    raise SystemExit(f"no peer name for xadapt parameter {key!r}")


def load_into_peer(model, tensors: dict, name: str, prefix: str) -> None:
    """Copy xadapt-saved weights of adapter/fusion `name` into the peer model, requiring full coverage."""
    mapped = {peer_name(k, name, prefix): v for k, v in tensors.items()}
    own = {k for k in model.state_dict() if f".{name}." in k and "prefix_tuning.pool" not in k}
    missing, unexpected = sorted(own - set(mapped)), sorted(set(mapped) - set(model.state_dict()))
    if missing or unexpected:
        raise SystemExit(f"{name}: peer parameters not covered {missing[:5]}, unknown {unexpected[:5]}")
    model.load_state_dict(mapped, strict=False)


def load_head(model, tensors: dict, name: str, prefix: str) -> None:
    """xadapt's MLM head (dense, layer_norm, bias) into the peer's masked-LM head (0, 2, 3; 3 tied to embeddings)."""
    mapping = {"dense": "0", "layer_norm": "2"}
    state = {f"heads.{name}.{mapping[k.split('.')[0]]}.{k.split('.')[1]}": v for k, v in tensors.items() if k != "bias"}
    state[f"heads.{name}.3.bias"] = tensors["bias"]
    model.load_state_dict(state, strict=False)
    decoder = model.heads[name][3]
    if decoder.weight.data_ptr() != model.get_input_embeddings().weight.data_ptr():
        raise SystemExit("the peer's masked-LM decoder is not tied to the word embeddings")


def randomize(model, name: str) -> None:
    generator = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for key, param in model.named_parameters():
            if f".{name}." in key:
                if key.endswith(".scaling"):
                    param.fill_(1.5)
                else:
                    param.copy_(torch.randn(param.shape, generator=generator) * RANDOM_STD)


def trainable(model) -> int:
    return sum(p.numel() for p in model.base_model.parameters() if p.requires_grad)


def run_case(model, prefix: str, case: dict, inputs: dict) -> tuple[torch.Tensor, dict]:
    counts = {}
    for adapter in case["adapters"]:
        name = adapter["name"]
        model.add_adapter(name, config=peer_config(adapter["peer_config"]))
        model.train_adapter(name)
        counts[name] = trainable(model)
        if case["direction"] == "to_peer":
            load_into_peer(model, load_file(adapter["weights"]), name, prefix)
        else:
            randomize(model, name)
            Path(adapter["save_dir"]).mkdir(parents=True, exist_ok=True)
            model.save_adapter(adapter["save_dir"], name, use_safetensors=adapter.get("safetensors", False))
    setup = composition(case["composition"])
    if case.get("fusion"):
        fuse = setup if isinstance(setup, Fuse) else setup[-1]
        model.add_adapter_fusion(fuse)
        load_into_peer(model, load_file(case["fusion"]), fuse.name, prefix)
    model.set_active_adapters(setup)
    model.eval()
    with torch.no_grad():
        if case.get("head"):
            model.add_masked_lm_head(case["head"]["name"])
            load_head(model, load_file(case["head"]["weights"]), case["head"]["name"], prefix)
            out = model(**inputs, head=case["head"]["name"]).logits
        else:
            out = getattr(model, prefix)(**inputs).last_hidden_state
    if case.get("head"):  # heads stay trainable under the peer's freezing: leave none behind for later cases
        model.delete_head(case["head"]["name"])
    for adapter in case["adapters"]:
        model.delete_adapter(adapter["name"])
    return out, counts


_CLASSIFIER = {"scorer.dense": "1", "scorer.out_proj": "4"}  # xadapt's pooled scorer -> the peer's head modules


def load_classification_head(model, tensors: dict, name: str) -> dict[str, str]:
    """xadapt's sequence-classification head into the peer's (dropout, dense, tanh, dropout, out).

    Returns xadapt key -> peer key.
    """
    keys = {}
    for key in tensors:
        module, parameter = key.rsplit(".", 1)
        keys[key] = f"heads.{name}.{_CLASSIFIER[module]}.{parameter}"
    own = {k for k in model.state_dict() if k.startswith(f"heads.{name}.")}
    if own != set(keys.values()):
        raise SystemExit(f"head {name}: peer parameters {sorted(own)} != mapped {sorted(keys.values())}")
    model.load_state_dict({keys[k]: v for k, v in tensors.items()}, strict=False)
    return keys


def run_training(model, prefix: str, job: dict, inputs: dict) -> tuple[dict, dict]:
    """Train the fusion layer (and head) a few steps as the peer does; trained weights under xadapt's names."""
    names = [adapter["name"] for adapter in job["adapters"]]
    for adapter in job["adapters"]:
        model.add_adapter(adapter["name"], config=peer_config(adapter["peer_config"]))
        load_into_peer(model, load_file(adapter["weights"]), adapter["name"], prefix)
    fuse = composition(job["composition"])
    model.add_adapter_fusion(fuse)
    fusion_weights = load_file(job["fusion"])
    load_into_peer(model, fusion_weights, fuse.name, prefix)
    head = job["head"]
    model.add_classification_head(head["name"], num_labels=head["num_labels"], layers=2,
                                  activation_function="tanh", use_pooler=False)
    head_keys = load_classification_head(model, load_file(head["weights"]), head["name"])

    model.train_adapter_fusion(fuse)
    model.eval()  # train_adapter_fusion switched to train mode; no dropout, deterministic steps
    adapter_keys = [k for k in model.state_dict() if any(f".adapters.{n}." in k for n in names)]
    adapters_before = {k: model.state_dict()[k].clone() for k in adapter_keys}
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    optimizer = getattr(torch.optim, job["optimizer"])(list(trainable.values()), **job["hyper"])
    labels = torch.tensor(job["labels"])
    losses, regularization = [], []
    for _ in range(job["steps"]):
        optimizer.zero_grad()
        out = model(**inputs, head=head["name"], labels=labels)
        reg = model.base_model.get_fusion_regularization_loss()  # what AdapterTrainer backpropagates
        if reg is None:
            raise SystemExit("the peer found no trainable value matrix to regularise")
        loss = out.loss + reg
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        regularization.append(reg.item())

    state = model.state_dict()
    tensors = {f"{job['id']}:fusion:{k}": state[peer_name(k, fuse.name, prefix)].clone() for k in fusion_weights}
    tensors.update({f"{job['id']}:head:{k}": state[v].clone() for k, v in head_keys.items()})
    moved = max((state[k] - v).abs().max().item() for k, v in adapters_before.items())
    record = {"losses": losses, "regularization": regularization, "adapters_moved": moved,
              "trainable": sum(p.numel() for p in trainable.values()), "trainable_names": sorted(trainable)}
    model.delete_head(head["name"])
    model.delete_adapter_fusion(fuse)
    for name in names:
        model.delete_adapter(name)
    return tensors, record


def plain_encoder(spec: dict) -> torch.nn.Module:
    """The base encoder as plain transformers builds it (no adapters library), for PEFT."""
    from transformers import AutoModel

    model = AutoModel.from_config(MODELS[spec["model_type"]][0](**spec["config"]), add_pooling_layer=False).eval()
    weights = {re.sub(r"^(bert|roberta)\.", "", k): v for k, v in load_file(spec["weights"]).items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise SystemExit(f"base weights do not fit the plain encoder: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model


def run_export(model, prefix: str, spec: dict, export: dict, inputs: dict) -> torch.Tensor:
    """Load folders that xadapt exported, with the library a user would load them with, and run them."""
    with torch.no_grad():
        if export["format"] == "peft":
            from peft import PeftModel

            peft_model = PeftModel.from_pretrained(plain_encoder(spec), export["folders"][0]).eval()
            return peft_model(**inputs).last_hidden_state
        names = [model.load_adapter(folder, use_safetensors=True) for folder in export["folders"]]
        model.set_active_adapters(composition(export["composition"]))
        model.eval()
        if export.get("head"):
            out = model(**inputs, head=export["head"]).logits
            model.delete_head(export["head"])
        else:
            out = getattr(model, prefix)(**inputs).last_hidden_state
        for name in names:
            model.delete_adapter(name)
        return out


def save_peft(spec: dict, save: dict, inputs: dict) -> torch.Tensor:
    """A PEFT LoRA on the plain encoder with random weights, saved with `save_pretrained`; its output."""
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(plain_encoder(spec), LoraConfig(**save["config"]))
    generator = torch.Generator().manual_seed(4321)
    with torch.no_grad():
        for key, param in model.named_parameters():
            if "lora_" in key:
                param.copy_(torch.randn(param.shape, generator=generator) * RANDOM_STD)
    model.save_pretrained(save["folder"])
    model.eval()
    with torch.no_grad():
        return model(**inputs).last_hidden_state


def main(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    torch.manual_seed(0)
    model, prefix = build_model(job["model"])
    inputs = load_file(job["inputs"])
    outputs, counts = {}, {}
    for case in job["cases"]:
        outputs[case["id"]], counts[case["id"]] = run_case(model, prefix, case, inputs)
    for export in job.get("exports", []):
        outputs[export["id"]] = run_export(model, prefix, job["model"], export, inputs)
    for save in job.get("peft_saves", []):
        outputs[save["id"]] = save_peft(job["model"], save, inputs)
    training = {}
    for train in job.get("trainings", []):
        tensors, training[train["id"]] = run_training(model, prefix, train, inputs)
        outputs.update(tensors)
    out = Path(job["out"])
    save_file({k: v.contiguous() for k, v in outputs.items()}, str(out / "outputs.safetensors"))
    (out / "counts.json").write_text(json.dumps(counts, indent=2))
    (out / "training.json").write_text(json.dumps(training, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
