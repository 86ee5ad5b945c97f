"""Malformed and quirky input: every error names the file and the line."""

import re
import shutil

import pytest

from xadapt.data import load_split
from xadapt.data.readers import count_conll, count_rows, read_conll, read_jsonl, read_labelled_tsv
from xadapt.data.wikiann import LABELS as NER_LABELS
from xadapt.errors import XadaptError

SIB_FIELDS = ("index_id", "category", "text")
SIB_LABELS = ["sports", "health"]


def test_conll_line_without_tag(malformed):
    path = malformed / "conll_missing_tag.txt"
    with pytest.raises(XadaptError, match=rf"{re.escape(str(path))}:3: expected 'token<SPACE>tag', found 'Nairobi'"):
        read_conll(path, NER_LABELS, " ")


def test_conll_unknown_tag(malformed):
    path = malformed / "conll_unknown_tag.tsv"
    expected = rf"{re.escape(str(path))}:2: unknown label 'B-GPE'; expected one of O, B-PER"
    with pytest.raises(XadaptError, match=expected):
        read_conll(path, NER_LABELS, "\t")


def test_tsv_row_with_missing_field(malformed):
    path = malformed / "tsv_missing_field.tsv"
    with pytest.raises(XadaptError, match=rf"{re.escape(str(path))}:3: expected 3 tab-separated fields .*found 2"):
        read_labelled_tsv(path, SIB_FIELDS, {"text": "text", "label": "category"}, SIB_LABELS, header=True)


def test_tsv_wrong_header(malformed):
    path = malformed / "tsv_bad_header.tsv"
    with pytest.raises(XadaptError, match=rf"{re.escape(str(path))}:1: expected the header"):
        read_labelled_tsv(path, SIB_FIELDS, {"text": "text", "label": "category"}, SIB_LABELS, header=True)


def test_jsonl_broken_json(malformed):
    path = malformed / "jsonl_bad_json.jsonl"
    with pytest.raises(XadaptError, match=rf"{re.escape(str(path))}:2: not valid JSON"):
        list(read_jsonl(path, ("premise",)))


def test_xcopa_label_out_of_range(malformed, tmp_path):
    path = tmp_path / "xcopa/data/sw/val.sw.jsonl"
    path.parent.mkdir(parents=True)
    shutil.copy(malformed / "xcopa_bad_label.jsonl", path)
    with pytest.raises(XadaptError, match=rf"{re.escape(str(path))}:2: label must be 0 or 1, found 2"):
        load_split("xcopa", "sw", "dev", data_dir=tmp_path)


def test_load_split_reports_file_and_line(broken_data):
    with pytest.raises(XadaptError) as err:
        load_split("sib200", "sw", "train", data_dir=broken_data)
    assert "swh_Latn/train.tsv:4: unknown label 'weather'" in str(err.value)


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"Juma B-PER\nNai\xffrobi B-LOC\n")
    with pytest.raises(XadaptError, match=rf"{re.escape(str(path))}:2: not valid UTF-8"):
        read_conll(path, NER_LABELS, " ")


def test_crlf_bom_and_empty_token_quirks(tmp_path):
    path = tmp_path / "quirks.txt"
    # BOM on line 1 (MasakhaNER luo), CRLF endings (XNLI), an empty token tagged O (MasakhaNER xho)
    path.write_bytes("\ufeffJii O\r\n O\r\nKisumu B-LOC\r\n\r\nOyuma B-PER\r\n".encode())
    columns = read_conll(path, NER_LABELS, " ")
    assert columns["tokens"] == [["Jii", "Kisumu"], ["Oyuma"]]
    assert columns["tags"] == [[0, 5], [1]]
    assert count_conll(path) == 2


def test_empty_token_with_an_entity_tag_is_an_error(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("Juma B-PER\n B-LOC\n", encoding="utf-8")
    with pytest.raises(XadaptError, match=rf"{re.escape(str(path))}:2: empty token with tag 'B-LOC'"):
        read_conll(path, NER_LABELS, " ")


def test_counters_agree_with_readers(tiny_data):
    sib = tiny_data / "sib200/data/annotated/swh_Latn/train.tsv"
    assert count_rows(sib, header=True) == 12
    assert count_conll(tiny_data / "wikiann/xtreme_panx/train-sw.tsv") == 3
    assert count_conll(tiny_data / "wikiann/xtreme_panx/dev-sw.tsv") == 2
