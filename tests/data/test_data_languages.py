"""Languages: every benchmark's spelling of a language maps to one canonical code, any language
`langcodes` knows resolves, and the conventions table holds only what `langcodes` gets wrong."""

import langcodes
import pytest

from xadapt.errors import XadaptError
from xadapt.languages import CONVENTIONS, from_langcodes, get_language, language_name, language_of_spelling, normalize_lang


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("sw", "sw"),
        ("swa", "sw"),  # MasakhaNER, raw text
        ("swh", "sw"),
        ("swh_Latn", "sw"),  # SIB-200
        ("SW", "sw"),
        (" sw ", "sw"),
        ("sw-KE", "sw"),  # a BCP-47 tag
        ("en", "en"),
        ("eng", "en"),
        ("eng_Latn", "en"),
        ("arb_Arab", "ar"),
        ("quy", "qu"),
        ("twi", "tw"),
        ("zho_Hans", "zh"),
        ("zh-Hans", "zh"),
        ("cmn", "zh"),
        ("pcm", "pcm"),  # no two-letter code: the three-letter code is canonical
        ("bbj", "bbj"),
        ("rw", "rw"),  # Kinyarwanda: in no benchmark of the shared data, resolved by langcodes alone
        ("kin", "rw"),
        ("kin_Latn", "rw"),
        ("tgl_Latn", "tl"),  # Tagalog, which CLDR folds into Filipino
        ("prs", "prs"),  # Dari: CLDR merges it into Persian, the benchmarks do not
    ],
)
def test_normalize_lang_maps_every_spelling(typed, canonical):
    assert normalize_lang(typed) == canonical


def test_a_language_outside_the_table_gets_every_spelling_from_langcodes():
    kinyarwanda = get_language("kin_Latn")
    assert (kinyarwanda.code, kinyarwanda.iso3, kinyarwanda.flores, kinyarwanda.name) == ("rw", "kin", "kin_Latn", "Kinyarwanda")
    assert language_name("yo") == "Yoruba" and get_language("yo").spelled("iso3") == "yor"


@pytest.mark.parametrize("typed", ["klingon", "zz", "", "x-private", "mul", "und", "qaa"])
def test_what_is_no_language_is_refused_with_examples(typed):
    with pytest.raises(XadaptError, match="unknown language .*for example sw, swa, swh_Latn"):
        normalize_lang(typed)


def test_the_conventions_table_holds_only_what_langcodes_resolves_otherwise():
    """Each entry must differ from what langcodes alone would give, or it does not belong in the table."""
    for language in CONVENTIONS:
        derived = from_langcodes(language.code)
        spellings = (language.iso3, language.flores, *language.aliases)
        differs = derived.flores != language.flores or any(
            (from_langcodes(spelling) or derived).code != language.code for spelling in spellings)
        assert differs, f"{language.code}: langcodes resolves it alone; drop it from CONVENTIONS"


def test_no_spelling_belongs_to_two_languages_and_every_one_round_trips():
    seen: dict[str, str] = {}
    for language in CONVENTIONS:
        for spelling in {language.code, language.iso3, language.flores, *language.aliases} - {None}:
            assert seen.setdefault(spelling.lower(), language.code) == language.code, spelling
            assert normalize_lang(spelling) == language.code


def test_canonical_codes_are_two_letters_where_iso_639_1_exists():
    for typed in ("swa", "yor", "eng", "kin", "pcm", "fon"):
        code = normalize_lang(typed)
        assert len(code) == 2 or langcodes.Language.get(code).language == code, typed


def test_names_and_benchmark_spellings():
    assert language_name("swa") == "Swahili"
    swahili = get_language("sw")
    assert (swahili.spelled("code"), swahili.spelled("iso3"), swahili.spelled("flores")) == ("sw", "swa", "swh_Latn")


def test_a_spelling_on_disk_names_a_language_only_when_it_round_trips():
    assert language_of_spelling("swh_Latn", "flores") == "sw"
    assert language_of_spelling("swa_Latn", "flores") is None  # SIB-200 never spells Swahili so
    assert language_of_spelling("kin_Latn", "flores") == "rw"
    assert language_of_spelling("swa", "iso3") == "sw" and language_of_spelling("sw", "iso3") is None
    assert language_of_spelling("README.md", "code") is None


@pytest.mark.parametrize("typed", ["zho_Hant", "zh-Hant", "srp_Latn", "arb_Latn"])
def test_a_script_other_than_the_languages_usual_one_is_refused_not_swapped(typed):
    with pytest.raises(XadaptError, match=f"'{typed}' is .* script.*not supported"):
        normalize_lang(typed)
