"""City names: the one folding of names and queries, and the choice of a city's Russian name among geonames'
alternate names (used when the directory's data file is built, see services.cities.build).

The Russian name. geonames' alternate names carry no language tags: for Moscow they hold Москва, but also Масква
(Belarusian), Москъва (Bulgarian), Мәскеу (Kazakh), Москох, Муско and more. `pick_russian_name` chooses:
  1. when the time zone's CLDR exemplar city (Babel's Russian data, e.g. Europe/Paris -> Париж) names this very
     city and is among its variants, that name (this settles Москва against Москова, Париж against Парис);
  2. candidates: Cyrillic variants written only with the Russian alphabet (no і ї є ґ ў ј љ њ ә ү ө қ ..., no ъ
     except before е ё ю я, not an abbreviation like "СПб"), without Ukrainian or Belarusian spellings (ць, ськ,
     шч) when others remain; of spellings differing only by a final ь or й, a soft л or hyphens, the fullest
     (Казань not Казан, Грозный not Грозны, Санкт-Петербург not Санкт Петербург);
  3. the candidate with the lowest score = A * distance(transliteration, English name) + mean distance to all the
     Cyrillic variants (the Russian form is the one the other languages' forms cluster around) - 0.1 per exact
     duplicate of it. A = 1 for Russian cities (geonames' English names of Russian cities are BGN/PCGN
     transliterations of the Russian ones), 0.1 for the others (exonyms such as Paris/Париж mislead). Distances
     are rapidfuzz's normalised Levenshtein distances.
Without step 1, on the 259 CLDR exemplar cities whose CLDR Russian name is among their geonames variants: 20 of 21
Russian ones right (not Moscow: Москова), 197 of 238 foreign ones (83 %). The names of the 400 largest Russian
cities were reviewed by eye.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping

from rapidfuzz.distance import Levenshtein

# ---------------------------------------------------------------------------------------------------------------
# Folding: the one normalisation applied to indexed names and to queries alike.

CITY_BREAK = "\x1e"  # between two cities' names while folding in bulk; never in a folded name
KEEP = "\x1f"  # marks the English name and aliases so that the filters keep them; folding drops it
_APOSTROPHES = re.compile("['’ʼ`ʻ‘´]")
_COMBINING_MARKS = re.compile("[\u0300-\u036f]+")
_LATIN_SPECIAL = {"ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
_NOT_KEY = re.compile(r"[^0-9a-z\u0400-\u04ff\n\x1e]+")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def fold_names(text: str) -> str:
    """Lower case; apostrophes dropped; diacritics dropped (é -> e, ё -> е, but й stays й); anything but Latin
    letters, Cyrillic letters and digits -> one space; no space at the ends of a line. Works line by line on many
    names joined with "\\n" in a few C-level passes."""
    text = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text.casefold()))
    text = _COMBINING_MARKS.sub("", text.replace("и\u0306", "й"))
    for letter, plain in _LATIN_SPECIAL.items():
        text = text.replace(letter, plain)
    text = _NOT_KEY.sub(" ", text).replace(" \n", "\n").replace("\n ", "\n")
    return text.strip(" ")


def normalize_query(text: str) -> str:
    """A query folded exactly as the indexed names are (see `_fold`): "Санкт-Петербург" -> "санкт петербург"."""
    return fold_names(" ".join(text.replace(CITY_BREAK, " ").splitlines()))


# ---------------------------------------------------------------------------------------------------------------
# The Russian name.

_RUSSIAN_ONLY = re.compile(r"[А-ЯЁ][а-яёА-ЯЁ]*(?:[ -][А-ЯЁа-яё][а-яёА-ЯЁ]*)*")
_HARD_SIGN_MISPLACED = re.compile(r"ъ(?![еёюя])")
_WORD_SPLIT = re.compile(r"[ -]")
_VOWELS_AND_SIGNS = set("аеёиоуыэюяьъ -")
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "ë", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "-": " ",
}  # fmt: skip
_WEIGHT_RU = 1.0
_WEIGHT_OTHER = 0.1


def _transliterate(russian: str) -> str:
    """BGN/PCGN-like romanisation, the system of geonames' English names of Russian places."""
    low = russian.lower()
    out = []
    for i, ch in enumerate(low):
        if ch in "её" and (i == 0 or low[i - 1] in _VOWELS_AND_SIGNS):
            out.append("y" + _TRANSLIT[ch])
        else:
            out.append(_TRANSLIT.get(ch, ch))
    return "".join(out)


_ADJECTIVE_ENDING = re.compile(r"yy\b|(?<=[kgh])iy\b")  # -ый; -ий after к г х ж ш ч щ


def _transliterations(russian: str) -> set[str]:
    """BGN/PCGN, and the common English simplification of -ий/-ый to -y (Grozny, Volzhsky)."""
    strict = _transliterate(russian)
    return {strict, _ADJECTIVE_ENDING.sub("y", strict)}


def _english_for_likeness(name: str) -> str:
    """Folded like a query but keeping ë, BGN/PCGN's ё: Orël, Biryulëvo."""
    return "ë".join(normalize_query(part) for part in name.casefold().split("ë"))


def _is_russian_spelling(variant: str) -> bool:
    if not _RUSSIAN_ONLY.fullmatch(variant) or _HARD_SIGN_MISPLACED.search(variant):
        return False
    capitals = sum(ch.isupper() for ch in variant)
    return capitals <= len(_WORD_SPLIT.split(variant))  # "СПб", "ГИБДД": abbreviations


_SISTER_ORTHOGRAPHY = re.compile(r"ць|ськ|шч")  # Ukrainian Череповець, Камчатський; Belarusian шч
_SOFT_ENDINGS = re.compile(r"(?:ь|(?<=[иыо])й)\b|(?<=л)ь(?=[бвгджзклмнпрстфхцчшщ])")
_DUPLICATE_BONUS = 0.1


def _bare(variant: str) -> str:
    """Without the soft signs and final й other languages drop: Казань -> казан, Грозный -> грозны,
    Нальчик -> налчик; hyphens as spaces."""
    return _SOFT_ENDINGS.sub("", variant.lower()).replace("-", " ")


def _fullness(variant: str) -> tuple[int, int]:
    return (len(variant), variant.count("-"))


def pick_russian_name(
    english_name: str, country_code: str, alternates: Iterable[str], cldr_name: str | None = None
) -> str | None:
    """The Russian name among a city's alternate names (see the module's docstring), or None."""
    variants = [v for v in alternates if CYRILLIC.search(v)]
    if cldr_name is not None and cldr_name in variants:
        return cldr_name
    candidates = {v for v in variants if _is_russian_spelling(v)}
    if not candidates:
        return None
    candidates = {v for v in candidates if not _SISTER_ORTHOGRAPHY.search(v.lower())} or candidates
    # Of spellings that differ only by a final ь or й, a soft л or hyphens keep the fullest: Казань not Казан
    # (Tatar, Bulgarian), Грозный not Грозны (Belarusian), Нальчик not Налчик, Санкт-Петербург not Санкт Петербург.
    fullest: dict[str, str] = {}
    for variant in sorted(candidates):
        key = _bare(variant)
        kept = fullest.get(key)
        if kept is None or _fullness(variant) > _fullness(kept):
            fullest[key] = variant
    ordered = sorted(fullest.values())
    if len(ordered) == 1:
        return ordered[0]
    folded = Counter(v.lower().replace("-", " ") for v in variants)
    others_total = max(sum(folded.values()) - 1, 1)
    english = _english_for_likeness(english_name)
    weight = _WEIGHT_RU if country_code == "RU" else _WEIGHT_OTHER

    def score(candidate: str) -> tuple[float, bool, int, int, str]:
        own = candidate.lower().replace("-", " ")
        distance = Levenshtein.normalized_distance
        spread = sum(distance(own, v) * n for v, n in folded.items() if v != own) / others_total
        likeness = min(distance(form, english) for form in _transliterations(candidate))
        total = weight * likeness + spread - _DUPLICATE_BONUS * (folded[own] - 1)
        return (round(total, 9), "-" not in candidate, -candidate.count("ё"), len(candidate), candidate)

    return min(ordered, key=score)


def cldr_exemplar_cities() -> dict[str, tuple[str, str]]:
    """IANA zone -> (folded English exemplar city, Russian exemplar city), from Babel's CLDR data."""
    from babel import Locale
    from babel.core import get_global

    aliases: Mapping[str, str] = get_global("zone_aliases")
    english_zones = Locale("en").time_zones
    out: dict[str, tuple[str, str]] = {}
    for zone, data in Locale("ru").time_zones.items():
        russian = data.get("city")
        if not russian:
            continue
        english = (english_zones.get(zone) or {}).get("city") or zone.rsplit("/", 1)[-1].replace("_", " ")
        entry = (normalize_query(english), russian)
        out[zone] = entry
        out.setdefault(aliases.get(zone, zone), entry)
    return out
