"""Languages and the codes each benchmark spells them with, resolved through `langcodes`.

Benchmarks disagree on language codes: Swahili is ``sw`` in WikiANN, XNLI, XCOPA and AfriSenti,
``swa`` in MasakhaNER and the raw-text corpora, and ``swh_Latn`` in SIB-200. Users type any of
them. Every public function takes whatever the user typed and works with the *canonical* code:
the ISO 639-1 two-letter code where one exists (``sw``, ``en``, ``yo``), else the ISO 639-3 code
(``pcm``, ``fon``). Benchmark modules ask a `Language` for the spelling their files use: ``code``,
``iso3`` (ISO 639-3) or ``flores`` (FLORES-200's ``<iso3>_<Script>``).

Any code `langcodes` knows resolves — ISO 639-1 (``rw``), ISO 639-3 (``kin``), BCP-47 variants
(``SW-ke``, ``zh-Hans``) and FLORES-style ``kin_Latn`` — with its ISO 639-3 code, the likely script
and the English name from `langcodes` (names through its `language_data` package, offline). The
table below keeps only what no library resolves the way these benchmarks need: macro-language vs
individual-language conventions (``swa``/``swh``, ``ara``/``arb``, ``que``/``quy``), Tagalog
(``tl``/``tgl``, which CLDR folds into Filipino) and the Mandarin alias ``cmn``. A code CLDR has
deprecated or merged keeps the code written (``prs`` stays Dari), and a script other than a
language's usual one is refused, not silently swapped for it. A test checks that `langcodes` gets every entry of it wrong, so the table
never regrows.
"""

from dataclasses import dataclass
from functools import cache

import langcodes

from xadapt.errors import XadaptError


@dataclass(frozen=True)
class Language:
    """A language and its codes. ``flores`` is the FLORES-200 code SIB-200 uses."""

    code: str
    iso3: str
    name: str
    flores: str | None = None
    aliases: tuple[str, ...] = ()

    def spelled(self, style: str) -> str | None:
        """This language's code in a benchmark's ``style``: ``code``, ``iso3`` or ``flores``."""
        return getattr(self, style)


CONVENTIONS = (
    # SIB-200 (FLORES) has Standard Arabic, arb; the other benchmarks label theirs with the macro-language.
    Language("ar", "ara", "Arabic", "arb_Arab", aliases=("arb",)),
    # SIB-200 has Ayacucho Quechua (quy); WikiANN and XCOPA label theirs with the macro-language `qu`.
    Language("qu", "que", "Quechua", "quy_Latn", aliases=("quy", "quz")),
    # `swa` is the macro-language (MasakhaNER, raw text), `swh` the individual language (SIB-200).
    Language("sw", "swa", "Swahili", "swh_Latn", aliases=("swh",)),
    # WikiANN's `tl` and FLORES's `tgl_Latn` are Tagalog; CLDR folds both into Filipino (`fil`).
    Language("tl", "tgl", "Tagalog", "tgl_Latn"),
    # XNLI and XCOPA's `zh` is Mandarin, which some tools tag `cmn`.
    Language("zh", "zho", "Chinese", "zho_Hans", aliases=("chi", "cmn")),
)

_CONVENTIONS: dict[str, Language] = {lang.code: lang for lang in CONVENTIONS}
_BY_SPELLING: dict[str, str] = {
    spelling.lower(): lang.code
    for lang in CONVENTIONS
    for spelling in (lang.code, lang.iso3, lang.flores, *lang.aliases)
    if spelling
}


NOT_LANGUAGES = ("mis", "mul", "und", "zxx")  # ISO 639's codes for "uncoded", "multiple", "undetermined", "none"


def _not_a_language(code: str) -> bool:
    """ISO 639's special codes and its private-use range qaa–qtz name no language a benchmark has."""
    return code in NOT_LANGUAGES or (len(code) == 3 and "qaa" <= code <= "qtz")


def _parse(code: str) -> tuple[langcodes.Language, langcodes.Language, str]:
    """The tag as written, as langcodes normalises it, and the language it names. Normalisation maps a
    3-letter code to its 2-letter one (``kin`` → ``rw``), which is kept, but it also replaces codes
    CLDR has deprecated or merged (``tl`` → ``fil``, ``prs`` → ``fa``), which would send a
    benchmark's files to another language: those keep the code as written."""
    text = code.strip().replace("_", "-")
    raw, normalised = langcodes.Language.get(text, normalize=False), langcodes.Language.get(text)
    same = normalised.language == raw.language or normalised.to_alpha3() == raw.language
    return raw, normalised, normalised.language if same else raw.language


def from_langcodes(code: str) -> Language | None:
    """What `langcodes` makes of `code` (a FLORES ``_`` counts as a BCP-47 ``-``), or None if it is no language.

    Raises `XadaptError` for a script other than the language's usual one (``zho_Hant``, ``srp_Latn``):
    a language is identified by its code alone here, so its other script's files would load unannounced."""
    try:
        raw, normalised, language = _parse(code)
        if not language or not langcodes.tag_is_valid(language) or _not_a_language(language):
            return None
        plain = langcodes.Language.get(language, normalize=False)
        iso3 = plain.to_alpha3()
        # likely scripts and names are CLDR's, which knows a deprecated code only by what replaced it
        known = plain if language == normalised.language else langcodes.Language.get(normalised.language)
        usual = known.maximize().script
        name = plain.display_name()  # the language's name, not its region's variant
        if name.startswith("Unknown language"):
            name = known.display_name()
    except (ValueError, LookupError):
        return None
    if raw.script and usual and raw.script != usual:
        raise XadaptError(f"{code!r} is {name} in the {raw.script} script; xadapt knows a language by its code, and "
                          f"{language} means the {usual} script ({iso3}_{usual}); other scripts are not supported")
    return Language(language, iso3, name, f"{iso3}_{usual}" if usual else None)


@cache
def get_language(code: str) -> Language:
    """The language of any spelling of it (``swa``, ``swh_Latn``, ``SW-ke``, ``kin``, ``kin_Latn``)."""
    key = code.strip().lower()
    if key in _BY_SPELLING:
        return _CONVENTIONS[_BY_SPELLING[key]]
    found = from_langcodes(code.strip())
    if found is None:
        raise XadaptError(
            f"unknown language {code!r}: not an ISO 639-1 or ISO 639-3 code, a BCP-47 tag or a FLORES code "
            "(for example sw, swa, swh_Latn, rw, kin, kin_Latn)."
        )
    known = _CONVENTIONS.get(found.code, found)
    script = langcodes.Language.get(key.replace("_", "-"), normalize=False).script
    if known is not found and script and known.flores and not known.flores.endswith(f"_{script}"):
        raise XadaptError(f"{code!r} is {known.name} in the {script} script; the benchmarks' {known.name} is "
                          f"{known.flores}, and other scripts are not supported")
    return known


def normalize_lang(code: str) -> str:
    """The canonical code for any spelling a benchmark or a user uses (``swa`` → ``sw``)."""
    return get_language(code).code


def language_name(code: str) -> str:
    """English display name of a language (``sw`` → ``Swahili``)."""
    return get_language(code).name


def language_of_spelling(spelled: str, style: str) -> str | None:
    """The canonical code whose ``style`` spelling is ``spelled`` (a file or folder name on disk), or None.

    Only an exact round trip counts: ``swh_Latn`` names Swahili in FLORES style, but ``swa_Latn`` does
    not, because SIB-200 would never spell Swahili that way."""
    try:
        language = get_language(spelled)
    except XadaptError:
        return None
    return language.code if language.spelled(style) == spelled else None
