"""The language table: every benchmark's spelling of a language maps to one canonical code."""

import pytest

from xadapt.errors import XadaptError
from xadapt.languages import LANGUAGES, get_language, language_name, normalize_lang


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("sw", "sw"),
        ("swa", "sw"),  # MasakhaNER, raw text
        ("swh", "sw"),
        ("swh_Latn", "sw"),  # SIB-200
        ("SW", "sw"),
        (" sw ", "sw"),
        ("sw-KE", "sw"),  # a BCP-47 tag, parsed by langcodes
        ("en", "en"),
        ("eng", "en"),
        ("eng_Latn", "en"),
        ("arb_Arab", "ar"),
        ("quy", "qu"),
        ("twi", "tw"),
        ("zho_Hans", "zh"),
        ("zh-Hans", "zh"),
        ("pcm", "pcm"),  # no two-letter code: the three-letter code is canonical
        ("bbj", "bbj"),
    ],
)
def test_normalize_lang_maps_every_spelling(typed, canonical):
    assert normalize_lang(typed) == canonical


def test_unknown_language_lists_known_codes():
    with pytest.raises(XadaptError) as err:
        normalize_lang("klingon")
    message = str(err.value)
    assert "'klingon'" in message and "Known codes" in message
    assert "sw" in message.split("Known codes")[1] and "yo" in message


def test_canonical_code_is_two_letters_where_iso_639_1_exists():
    for code, language in LANGUAGES.items():
        assert language.code == code
        assert len(code) == 2 or code == language.iso3, code


def test_no_spelling_belongs_to_two_languages():
    seen: dict[str, str] = {}
    for language in LANGUAGES.values():
        for spelling in {language.code, language.iso3, language.flores, *language.aliases} - {None}:
            assert seen.setdefault(spelling.lower(), language.code) == language.code, spelling


def test_every_spelling_round_trips():
    for language in LANGUAGES.values():
        for spelling in (language.code, language.iso3, language.flores, *language.aliases):
            if spelling:
                assert normalize_lang(spelling) == language.code


def test_names_and_benchmark_spellings():
    assert language_name("swa") == "Swahili"
    assert language_name("yo") == "Yorùbá"
    swahili = get_language("sw")
    assert (swahili.spelled("code"), swahili.spelled("iso3"), swahili.spelled("flores")) == ("sw", "swa", "swh_Latn")
    assert get_language("pcm").spelled("flores") is None
