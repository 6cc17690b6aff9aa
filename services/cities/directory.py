"""The city directory at run time: real cities read from the data file built by services.cities.build, and the
search the city picker calls.

Search is by every folded name of a city (English, the Latin and Cyrillic alternates geonames knows, colloquial
aliases), folded the same way as the query (see services.cities.names). Results come in tiers: a name starts with
the query, then a word inside a name starts with it, then (3+ characters) the query is anywhere in a name, then
(4+ characters, when fewer than `limit` were found) a name with the same first letter close to it by edit
distance (rapidfuzz: a transposed, missing or extra letter: "Novosibirks"). Inside a tier, the cities of the
reader's own country first (Russian readers: Russia), then a match on a name the reader knows the city by (its
English name, and for Russian readers its Russian name: "Kaz" is Kazan before Nazran's "Kazran" or Casablanca's
"Kazablanka"), each by population.

How it stays fast (a query well under a millisecond or two, the first as fast as the hundredth: everything is
built at load, nothing on first use):
  - `_SortedNames`: every name and every word suffix of a name, sorted in one string; a binary search gives the
    range of names starting with the query, whose cities are then sorted (few, since the prefix is rare);
  - `_RankedText`, one per script and ranking: all names, city after city in rank order; for a common prefix
    (more than `_DENSE` names) and for substring matches, `str.find` walks it best-ranked city first and stops at
    `limit`.
"""

from __future__ import annotations

import gzip
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import NamedTuple

from babel import Locale
from rapidfuzz import fuzz, process

from services.cities.names import normalize_query

DATA_FILE = Path(__file__).with_name("cities.tsv.gz")
_NAMES_SEPARATOR = "|"
# The reader's own country, whose cities come first for them.
_HOME = {"ru": "RU"}
# Country names Babel spells too long for a button.
_SHORT_COUNTRY = {("en", "US"): "US", ("ru", "US"): "США", ("en", "GB"): "UK"}


def _language(lang: str) -> str:
    return "ru" if lang.lower().startswith("ru") else "en"


@cache
def country_name(code: str, lang: str) -> str:
    """The country's name in the reader's language: "Россия", "Germany", "US"."""
    language = _language(lang)
    return _SHORT_COUNTRY.get((language, code)) or Locale(language).territories.get(code) or code


@dataclass(frozen=True, slots=True)
class City:
    id: int  # geonameid
    name: str  # English
    name_ru: str  # Russian when geonames has it, else English
    country_code: str  # ISO 3166-1 alpha-2
    timezone: str  # IANA
    population: int
    region: str = ""  # the US state ("Moscow, Idaho, US"); elsewhere a namesake's ("Troitsk, Moscow, Russia")
    region_ru: str = ""

    def display_name(self, lang: str) -> str:
        return self.name_ru if _language(lang) == "ru" else self.name

    def parts(self, lang: str) -> tuple[str, ...]:
        """Name, region where needed, country, in the reader's language: ("Moscow", "Idaho", "US")."""
        region = self.region_ru if _language(lang) == "ru" else self.region
        return tuple(part for part in (self.display_name(lang), region, country_name(self.country_code, lang)) if part)

    def label(self, lang: str) -> str:
        """The city told apart from every other: "Москва, Россия", "Moscow, Idaho, US"."""
        return ", ".join(self.parts(lang))


class Entry(NamedTuple):
    """A city and its folded names, by script: the English name first of the Latin ones, the Russian name first of
    the Cyrillic ones."""

    city: City
    latin: tuple[str, ...]
    cyrillic: tuple[str, ...]


_FIELDS = 10


def write_entries(entries: Iterable[Entry], path: Path) -> None:
    """The data file: one city a line, tab-separated, gzip-compressed (mtime 0: the same data, the same bytes)."""
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as data:
        for city, latin, cyrillic in entries:
            names = (_NAMES_SEPARATOR.join(latin), _NAMES_SEPARATOR.join(cyrillic))
            fields = (city.id, city.name, city.name_ru, city.country_code, city.timezone, city.population,
                      city.region, city.region_ru, *names)  # fmt: skip
            data.write(("\t".join(map(str, fields)) + "\n").encode())


def read_entries(path: Path = DATA_FILE) -> list[Entry]:
    with gzip.open(path, "rt", encoding="utf-8") as data:
        rows = [line.rstrip("\n").split("\t", _FIELDS - 1) for line in data]
    return [
        Entry(City(int(i), name, ru, country, zone, int(people), region, region_ru), _names(latin), _names(cyrillic))
        for i, name, ru, country, zone, people, region, region_ru, latin, cyrillic in rows
    ]


def _names(field: str) -> tuple[str, ...]:
    return tuple(field.split(_NAMES_SEPARATOR)) if field else ()


class _RankedText:
    """Names, city after city in rank order (a piece a city, maybe empty), each name preceded by "\\n". `str.find`
    walks it best-ranked city first, so a scan can stop as soon as it has `limit` cities."""

    __slots__ = ("blob", "order", "starts")

    def __init__(self, pieces: list[str], order: Sequence[int]) -> None:
        self.blob = "".join(pieces) + "\n"
        self.starts = array("I", accumulate(map(len, pieces), initial=0))  # the last one: the final "\n"
        self.order = order  # rank -> city index

    def scan(self, needle: str, out: list[int], seen: set[int], limit: int) -> None:
        """Append to `out` the indexes of the best-ranked cities with a name containing `needle`, up to `limit`."""
        blob, starts = self.blob, self.starts
        last = len(starts) - 1
        pos = blob.find(needle)
        while pos != -1 and len(out) < limit:
            rank = bisect_right(starts, pos) - 1  # the last piece starting at or before pos: empty ones are skipped
            if rank >= last:
                break
            index = self.order[rank]
            if index not in seen:
                seen.add(index)
                out.append(index)
            pos = blob.find(needle, starts[rank + 1])


_WHOLE, _SUFFIX = "\x00", "\x01"
_CODES = re.compile(r"([\x00\x01])(\d+)\n")
_SUFFIXES = re.compile(r" (?=([^\n\x00]+\x00\d+))")


class _SortedNames:
    """Every name, and every word suffix of a name ("нижний новгород" -> "новгород"), sorted, in one string: one
    entry a line, "name\\x00index" for a whole name, "suffix\\x01index" for a suffix. The entries starting with a
    query are one contiguous range, found by binary search."""

    __slots__ = ("blob", "ends")

    def __init__(self, tagged: str) -> None:
        """`tagged`: "name\\x00index" lines, all names of all cities."""
        suffixes = "\n".join(_SUFFIXES.findall(tagged)).replace(_WHOLE, _SUFFIX)
        unique = set(tagged.split("\n"))
        unique.update(suffixes.split("\n"))
        entries = sorted(unique)
        entries = entries[bisect_left(entries, "\x02") :]  # drop "" and untagged lines
        self.blob = "\n".join(entries) + "\n"
        self.ends = array("I", (end + i + 1 for i, end in enumerate(accumulate(map(len, entries)))))

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

    def matches(self, prefix: str, dense: int) -> list[tuple[bool, int]] | None:
        """(is a suffix, city index) of the entries starting with `prefix`; None when more than `dense`."""
        lo = self._lower_bound(prefix)
        hi = self._lower_bound(prefix + "\uffff")
        if hi - lo > dense:
            return None
        if lo == hi:
            return []
        segment = self.blob[(self.ends[lo - 1] if lo else 0) : self.ends[hi - 1]]
        return list({(tag == _SUFFIX, int(index)) for tag, index in _CODES.findall(segment)})


_DENSE = 2048  # a prefix shared by more names than this is common: walk the ranked text instead
_FUZZY_FROM = 4  # characters: shorter queries are prefixes still being typed
_FUZZY_CUTOFF = 80  # rapidfuzz's ratio (0-100): one transposed letter in a 5-letter name still passes


class _Ranking(NamedTuple):
    """One order of the cities (the reader's country first, or by population alone), per script."""

    position: array[int]  # city index -> rank
    latin: _RankedText
    cyrillic: _RankedText


class _Names(NamedTuple):
    """The names starting with one letter, for the fuzzy tier (a typo seldom hits the first letter), one a line
    (split when asked: a list of str objects would hold megabytes more), and name by name the city's index."""

    lines: str
    owners: array[int]


def is_cyrillic(name: str) -> bool:
    """A folded name or query in Cyrillic (folded text is Latin letters, Cyrillic letters and digits)."""
    return max(name) > "z"


class CityDirectory:
    """Load once (`get_directory()`), then `search` and `get`."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        ordered = sorted(entries, key=lambda entry: (-entry.city.population, entry.city.id))
        self._cities = [entry.city for entry in ordered]  # by index: population order
        self._index = {city.id: i for i, city in enumerate(self._cities)}
        latin = ["".join("\n" + n for n in entry.latin) for entry in ordered]
        cyrillic = ["".join("\n" + n for n in entry.cyrillic) for entry in ordered]
        self._rankings: dict[str | None, _Ranking] = {}
        for country in (None, *_HOME.values()):
            order = sorted(range(len(ordered)), key=lambda i: self._cities[i].country_code != country)
            position = array("I", bytes(4 * len(order)))
            for rank, i in enumerate(order):
                position[i] = rank
            self._rankings[country] = _Ranking(
                position,
                _RankedText([latin[i] for i in order], order),
                _RankedText([cyrillic[i] for i in order], order),
            )
        self._sorted = _SortedNames(
            "".join(f"{n}{_WHOLE}{i}\n" for i, entry in enumerate(ordered) for n in (*entry.latin, *entry.cyrillic))
        )
        by_initial: dict[str, tuple[list[str], array[int]]] = {}
        for i, entry in enumerate(ordered):
            for name in (*entry.latin, *entry.cyrillic):
                names, owners = by_initial.setdefault(name[0], ([], array("I")))
                names.append(name)
                owners.append(i)
        self._by_initial = {
            initial: _Names("\n".join(names), owners) for initial, (names, owners) in by_initial.items()
        }
        # The names a reader knows each city by (see `_known_by`), folded.
        self._english = [entry.latin[0] if entry.latin else "" for entry in ordered]
        self._russian = [
            entry.cyrillic[0] if entry.cyrillic and entry.city.name_ru != entry.city.name else english
            for entry, english in zip(ordered, self._english, strict=True)
        ]

    @classmethod
    def load(cls, path: Path = DATA_FILE) -> CityDirectory:
        return cls(read_entries(path))

    def __len__(self) -> int:
        return len(self._cities)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._cities)

    def get(self, city_id: int) -> City | None:
        index = self._index.get(city_id)
        return None if index is None else self._cities[index]

    def search(self, query: str, *, limit: int = 8, language: str = "ru") -> list[City]:
        """Cities with a name matching `query`, best first (see the module's docstring)."""
        if limit <= 0 or not isinstance(query, str) or len(query) > 100:
            return []
        q = normalize_query(query)
        if not any(ch.isalpha() for ch in q):
            return []
        ranking = self._rankings[_HOME.get(_language(language))]
        cyrillic = is_cyrillic(q)
        text = ranking.cyrillic if cyrillic else ranking.latin
        found: list[int] = []
        seen: set[int] = set()
        matches = self._sorted.matches(q, _DENSE)
        if matches is None:  # a common prefix: matches are dense in the ranked text, so walking it stops early
            text.scan("\n" + q, found, seen, limit)
            if len(found) < limit:
                text.scan(" " + q, found, seen, limit)
        else:
            home = _HOME.get(_language(language))

            def key(match: tuple[bool, int]) -> tuple[bool, bool, bool, int]:
                suffix, index = match
                known = any(name.startswith(q) for name in self._known_by(index, language))
                abroad = home is not None and self._cities[index].country_code != home
                return (suffix, abroad, not known, ranking.position[index])

            for _, index in sorted(matches, key=key):
                if index not in seen:
                    seen.add(index)
                    found.append(index)
                    if len(found) >= limit:
                        break
        if len(found) < limit and len(q) >= 3:
            text.scan(q, found, seen, limit)
        if len(found) < limit and len(q) >= _FUZZY_FROM:
            self._fuzzy(q, ranking, found, seen, limit)
        return [self._cities[index] for index in found]

    def _known_by(self, index: int, language: str) -> tuple[str, ...]:
        """The folded names a reader knows a city by: English, and for Russian readers the Russian one too."""
        if _language(language) == "ru":
            return (self._russian[index], self._english[index])
        return (self._english[index],)

    def _fuzzy(self, q: str, ranking: _Ranking, found: list[int], seen: set[int], limit: int) -> None:
        """The cities with a name closest to `q` by edit distance, closest first, then by rank."""
        candidates = self._by_initial.get(q[0])
        if candidates is None:
            return
        close = process.extract(
            q, candidates.lines.split("\n"), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=4 * limit
        )
        best: dict[int, float] = {}
        for _, score, at in close:
            index = candidates.owners[at]
            if index not in seen and score > best.get(index, -1):
                best[index] = score
        for index in sorted(best, key=lambda i: (-best[i], ranking.position[i]))[: limit - len(found)]:
            seen.add(index)
            found.append(index)
