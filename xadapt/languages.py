"""One table of the languages xadapt knows, and the codes each benchmark spells them with.

Benchmarks disagree on language codes: Swahili is ``sw`` in WikiANN, XNLI, XCOPA and AfriSenti,
``swa`` in MasakhaNER and the raw-text corpora, and ``swh_Latn`` in SIB-200. Users type any of
them. Every public function takes whatever the user typed and works with the *canonical* code:
the ISO 639-1 two-letter code where one exists (``sw``, ``en``, ``yo``), else the ISO 639-3 code
(``pcm``, ``fon``). Benchmark modules ask a `Language` for the spelling their files use.

The table is explicit on purpose: macro-language vs individual-language codes (``swa``/``swh``,
``ara``/``arb``, ``que``/``quy``) are benchmark conventions that no general library resolves the
way these benchmarks need. `langcodes` only helps to parse variants the table does not list
(``SW-ke``, ``zh-Hans``, ``ZHO``); display names are kept here too, because langcodes needs the
extra ``language_data`` package for names and xadapt must work offline.
"""

from dataclasses import dataclass

import langcodes

from xadapt.errors import XadaptError


@dataclass(frozen=True)
class Language:
    """A language and its codes. ``flores`` is the FLORES-200 code SIB-200 uses, when it has one."""

    code: str
    iso3: str
    name: str
    flores: str | None = None
    aliases: tuple[str, ...] = ()

    def spelled(self, style: str) -> str | None:
        """This language's code in a benchmark's ``style``: ``code``, ``iso3`` or ``flores``."""
        return getattr(self, style)


_TABLE = (
    Language("am", "amh", "Amharic", "amh_Ethi"),
    Language("ar", "ara", "Arabic", "arb_Arab", aliases=("arb",)),
    Language("bbj", "bbj", "Ghomálá'"),
    Language("bg", "bul", "Bulgarian", "bul_Cyrl"),
    Language("bm", "bam", "Bambara", "bam_Latn"),
    Language("de", "deu", "German", "deu_Latn", aliases=("ger",)),
    Language("ee", "ewe", "Ewe", "ewe_Latn"),
    Language("el", "ell", "Greek", "ell_Grek", aliases=("gre",)),
    Language("en", "eng", "English", "eng_Latn"),
    Language("es", "spa", "Spanish", "spa_Latn"),
    Language("et", "est", "Estonian", "est_Latn"),
    Language("fon", "fon", "Fon", "fon_Latn"),
    Language("fr", "fra", "French", "fra_Latn", aliases=("fre",)),
    Language("gn", "grn", "Guarani", "grn_Latn"),
    Language("ha", "hau", "Hausa", "hau_Latn"),
    Language("hi", "hin", "Hindi", "hin_Deva"),
    Language("ht", "hat", "Haitian Creole", "hat_Latn"),
    Language("id", "ind", "Indonesian", "ind_Latn"),
    Language("ig", "ibo", "Igbo", "ibo_Latn"),
    Language("ilo", "ilo", "Ilocano", "ilo_Latn"),
    Language("is", "isl", "Icelandic", "isl_Latn", aliases=("ice",)),
    Language("it", "ita", "Italian", "ita_Latn"),
    Language("jv", "jav", "Javanese", "jav_Latn"),
    Language("lg", "lug", "Luganda", "lug_Latn"),
    Language("luo", "luo", "Dholuo", "luo_Latn"),
    Language("mi", "mri", "Māori", "mri_Latn", aliases=("mao",)),
    Language("mos", "mos", "Mooré", "mos_Latn"),
    Language("my", "mya", "Burmese", "mya_Mymr", aliases=("bur",)),
    Language("ny", "nya", "Chichewa", "nya_Latn"),
    Language("pcm", "pcm", "Nigerian Pidgin"),
    # SIB-200 has Ayacucho Quechua (quy); WikiANN and XCOPA label theirs with the macro-language `qu`.
    Language("qu", "que", "Quechua", "quy_Latn", aliases=("quy", "quz")),
    Language("ru", "rus", "Russian", "rus_Cyrl"),
    Language("sn", "sna", "Shona", "sna_Latn"),
    Language("so", "som", "Somali", "som_Latn"),
    # `swa` is the macro-language (MasakhaNER, raw text), `swh` the individual language (SIB-200).
    Language("sw", "swa", "Swahili", "swh_Latn", aliases=("swh",)),
    Language("ta", "tam", "Tamil", "tam_Taml"),
    Language("th", "tha", "Thai", "tha_Thai"),
    Language("tn", "tsn", "Setswana", "tsn_Latn"),
    Language("tr", "tur", "Turkish", "tur_Latn"),
    Language("tw", "twi", "Twi", "twi_Latn"),
    Language("ur", "urd", "Urdu", "urd_Arab"),
    Language("vi", "vie", "Vietnamese", "vie_Latn"),
    Language("wo", "wol", "Wolof", "wol_Latn"),
    Language("xh", "xho", "isiXhosa", "xho_Latn"),
    Language("yo", "yor", "Yorùbá", "yor_Latn"),
    Language("zh", "zho", "Chinese", "zho_Hans", aliases=("chi", "cmn")),
    Language("zu", "zul", "isiZulu", "zul_Latn"),
)

LANGUAGES: dict[str, Language] = {lang.code: lang for lang in _TABLE}

_BY_SPELLING: dict[str, str] = {
    spelling.lower(): lang.code
    for lang in _TABLE
    for spelling in (lang.code, lang.iso3, lang.flores, *lang.aliases)
    if spelling
}


def normalize_lang(code: str) -> str:
    """The canonical code for any spelling a benchmark or a user uses (``swa`` → ``sw``).

    Raises `XadaptError` listing the known codes when the language is not in the table.
    """
    key = code.strip().lower()
    if key in _BY_SPELLING:
        return _BY_SPELLING[key]
    parsed = _parse_tag(key)
    if parsed is not None and parsed in _BY_SPELLING:
        return _BY_SPELLING[parsed]
    known = ", ".join(sorted(LANGUAGES))
    raise XadaptError(
        f"unknown language {code!r}. Known codes: {known} "
        "(ISO 639-3 codes such as 'swa' and FLORES codes such as 'swh_Latn' work too)."
    )


def get_language(code: str) -> Language:
    """The table entry for any spelling of a language."""
    return LANGUAGES[normalize_lang(code)]


def language_name(code: str) -> str:
    """English display name of a language (``sw`` → ``Swahili``)."""
    return get_language(code).name


def _parse_tag(key: str) -> str | None:
    """The language subtag of a BCP-47-like tag (``sw-ke``, ``swh_latn``), or None if unparseable."""
    try:
        return langcodes.Language.get(key.replace("_", "-")).language
    except (ValueError, LookupError):
        return None
