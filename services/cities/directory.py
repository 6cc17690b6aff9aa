"""The city directory at run time: real cities read from the index built by services.cities.build, and the search
the city picker calls.

Search is by every folded name of a city (English, the Latin and Cyrillic alternates geonames knows, colloquial
aliases), folded the same way as the query (see services.cities.names). Results come in tiers: a name starts with
the query, then a word inside a name starts with it, then (3+ characters) the query is anywhere in a name, then
(4+ characters, when fewer than `limit` were found) a name with the same first letter close to it by edit
distance (rapidfuzz: a transposed, missing or extra letter: "Novosibirks"). Inside a tier, the cities of the
reader's own country first (Russian readers: Russia), then a match on a name the reader knows the city by (its
English name, and for Russian readers its Russian name: "Kaz" is Kazan before Nazran's "Kazran" or Casablanca's
"Kazablanka"), each by population.

The data file (`pack` writes it, `CityDirectory` reads it) is the index itself, zlib-compressed: a few flat
strings and `array`s, so loading is a decompression and a few copies (about 0.1 s, some 15 MiB), no sort and no
object per city; a `City` is made when it is first asked for (`get`, a search result) and kept. A query takes well
under a millisecond or two, the first as fast as the hundredth:
  - `_SortedNames`: every name and every word suffix of a name, sorted, in one UTF-8 string; a binary search gives
    the range of names starting with the query, whose cities are then sorted (few, since the prefix is rare);
  - `_RankedText`, one per script and ranking: all names, city after city in rank order; for a common prefix
    (more than `_DENSE` names) and for substring matches, `str.find` walks it best-ranked city first and stops at
    `limit`;
  - the fuzzy tier hands rapidfuzz the names starting with the query's first letter, one string split when asked.
"""

from __future__ import annotations

import re
import struct
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import NamedTuple

from babel import Locale
from rapidfuzz import fuzz, process

from services.cities.names import normalize_query

DATA_FILE = Path(__file__).with_name("cities.idx")
_MAGIC = b"stroboscope cities 2\n"
# The reader's own country, whose cities come first for them (`pack` ranks Russia's first: the one home).
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
    region: str = ""  # a namesake's region: "Moscow, Idaho, US", "Troitsk, Moscow, Russia"
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


_WHOLE, _SUFFIX = "\x00", "\x01"
_CODES = re.compile(rb"([\x00\x01])(\d+)\n")
_SUFFIXES = re.compile(r" (?=([^\n\x00]+\x00\d+))")


def _uints(values: Iterable[int]) -> bytes:
    return array("I", values).tobytes()


def _steps(values: Sequence[int], typecode: str = "H") -> bytes:
    """A non-decreasing sequence as its steps (compresses to a fraction of the values); see `_Sections.sums`."""
    return array(typecode, (b - a for a, b in zip((0, *values), values, strict=False))).tobytes()


def pack(entries: Iterable[Entry]) -> bytes:
    """The data file's bytes: the index of `entries`, compressed (the same entries, the same bytes). Sections, each
    preceded by its length, in the order `CityDirectory.__init__` reads them."""
    ordered = sorted(entries, key=lambda entry: (-entry.city.population, entry.city.id))
    fields = [(c.id, c.name, c.name_ru, c.country_code, c.timezone, c.population, c.region, c.region_ru)
              for c, _, _ in ordered]  # fmt: skip
    records = ["\t".join(map(str, record)).encode() for record in fields]
    ids = [entry.city.id for entry in ordered]
    by_id = sorted(range(len(ids)), key=ids.__getitem__)
    latin = ["".join("\n" + n for n in entry.latin) for entry in ordered]
    cyrillic = ["".join("\n" + n for n in entry.cyrillic) for entry in ordered]
    tagged = "".join(f"{n}{_WHOLE}{i}\n" for i, entry in enumerate(ordered) for n in (*entry.latin, *entry.cyrillic))
    suffixes = "\n".join(_SUFFIXES.findall(tagged)).replace(_WHOLE, _SUFFIX)
    unique = {*tagged.split("\n"), *suffixes.split("\n")}
    names = [name.encode() for name in sorted(unique) if name >= "\x02"]  # drop "" and untagged lines
    by_initial: dict[str, tuple[list[str], list[int]]] = {}
    for i, entry in enumerate(ordered):
        for name in (*entry.latin, *entry.cyrillic):
            lines, owners = by_initial.setdefault(name[0], ([], []))
            lines.append(name)
            owners.append(i)
    sections = [
        b"\n".join(records),
        _steps([0, *accumulate(len(record) + 1 for record in records)]),
        _steps([ids[i] for i in by_id], "I"),
        _uints(by_id),
        "".join(latin).encode(),
        _steps([0, *accumulate(map(len, latin))]),
        "".join(cyrillic).encode(),
        _steps([0, *accumulate(map(len, cyrillic))]),
        "".join(entry.city.country_code for entry in ordered).encode(),
        _uints(sorted(range(len(ordered)), key=lambda i: ordered[i].city.country_code != "RU")),
        b"".join(name + b"\n" for name in names),
        _steps([0, *accumulate(len(name) + 1 for name in names)]),
        bytes(bool(entry.cyrillic) and entry.city.name_ru != entry.city.name for entry in ordered),
        "".join(by_initial).encode(),
    ]
    for lines, owners in by_initial.values():
        sections += ["\n".join(lines).encode(), _steps(owners)]
    raw = b"".join(struct.pack("<I", len(section)) + section for section in sections)
    return _MAGIC + zlib.compress(raw, 9)


class _Sections:
    """Reads `pack`'s sections one after the other."""

    def __init__(self, raw: bytes) -> None:
        self._view = memoryview(raw)
        self._at = 0

    def bytes(self) -> bytes:
        (size,) = struct.unpack_from("<I", self._view, self._at)
        self._at += 4 + size
        return bytes(self._view[self._at - size : self._at])

    def text(self) -> str:
        return self.bytes().decode()

    def uints(self, typecode: str = "I") -> array[int]:
        values = array(typecode)
        values.frombytes(self.bytes())
        return values

    def sums(self, typecode: str = "H") -> array[int]:
        """A sequence `_steps` wrote."""
        return array("I", accumulate(self.uints(typecode)))


class _RankedText:
    """Names, city after city in rank order (a piece a city, maybe empty), each name preceded by "\\n". `str.find`
    walks it best-ranked city first, so a scan can stop as soon as it has `limit` cities."""

    __slots__ = ("blob", "order", "starts")

    def __init__(self, pieces: list[str], order: Sequence[int]) -> None:
        self.blob = "".join(pieces) + "\n"
        self.starts = array("I", accumulate(map(len, pieces), initial=0))  # the last one: the final "\n"
        self.order = order  # rank -> city index

    @classmethod
    def ranked(cls, text: str, starts: array[int], order: Sequence[int]) -> _RankedText:
        """`text`: the cities' pieces in index order, city i's from starts[i] to starts[i + 1]."""
        return cls([text[starts[i] : starts[i + 1]] for i in order], order)

    def first_name(self, rank: int) -> str | None:
        piece = self.blob[self.starts[rank] + 1 : self.starts[rank + 1]]
        return piece.split("\n", 1)[0] if piece else None

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


class _SortedNames:
    """Every name, and every word suffix of a name ("нижний новгород" -> "новгород"), sorted, in one UTF-8 string
    (whose byte order is the characters' order): one entry a line, "name\\x00index" for a whole name,
    "suffix\\x01index" for a suffix. The entries starting with a query are one contiguous range, found by binary
    search."""

    __slots__ = ("blob", "starts")

    def __init__(self, blob: bytes, starts: array[int]) -> None:
        self.blob = blob
        self.starts = starts  # entry i from starts[i] to starts[i + 1] - 1, then "\n"

    def _entry(self, i: int) -> bytes:
        return self.blob[self.starts[i] : self.starts[i + 1] - 1]

    def _lower_bound(self, text: bytes) -> int:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self._entry(mid) < text:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def matches(self, prefix: str, dense: int) -> list[tuple[bool, int]] | None:
        """(is a suffix, city index) of the entries starting with `prefix`; None when more than `dense`."""
        key = prefix.encode()
        lo = self._lower_bound(key)
        hi = self._lower_bound(key + b"\xff")  # above every UTF-8 string starting with the key
        if hi - lo > dense:
            return None
        if lo == hi:
            return []
        segment = self.blob[self.starts[lo] : self.starts[hi]]
        return list({(tag == _SUFFIX.encode(), int(index)) for tag, index in _CODES.findall(segment)})


_DENSE = 2048  # a prefix shared by more names than this is common: walk the ranked text instead
_FUZZY_FROM = 4  # characters: shorter queries are prefixes still being typed
_FUZZY_CUTOFF = 80  # rapidfuzz's ratio (0-100): one transposed letter in a 5-letter name still passes


class _Ranking(NamedTuple):
    """One order of the cities (the reader's country first, or by population alone), per script."""

    position: Sequence[int]  # city index -> rank
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
    """Load once (`get_directory()`), then `search` and `get`. Made from the data file's bytes (see `pack`)."""

    def __init__(self, data: bytes) -> None:
        if not data.startswith(_MAGIC):
            raise ValueError("not a city index: run python -m services.cities.build")
        sections = _Sections(zlib.decompress(memoryview(data)[len(_MAGIC) :]))
        self._records = sections.bytes()  # city index -> "id\tname\t...", see `_city`
        self._record_starts = sections.sums()
        self._sorted_ids = sections.sums("I")
        self._by_id = sections.uints()  # the city index of each of _sorted_ids
        count = len(self._sorted_ids)
        latin, latin_starts = sections.text(), sections.sums()
        cyrillic, cyrillic_starts = sections.text(), sections.sums()
        self._countries = sections.text()  # city index i -> its country code at 2 * i
        home_order = sections.uints()
        home_position = array("I", bytes(4 * count))
        for rank, i in enumerate(home_order):
            home_position[i] = rank
        self._rankings = {
            country: _Ranking(
                position,
                _RankedText.ranked(latin, latin_starts, order),
                _RankedText.ranked(cyrillic, cyrillic_starts, order),
            )
            for country, order, position in ((None, range(count), range(count)), ("RU", home_order, home_position))
        }
        self._sorted = _SortedNames(sections.bytes(), sections.sums())
        self._russian_known = sections.bytes()  # 1: a Russian name of its own (see `_known_by`)
        self._by_initial = {initial: _Names(sections.text(), sections.sums()) for initial in sections.text()}
        self._made: dict[int, City] = {}  # city index -> the City, made when first asked for

    @classmethod
    def load(cls, path: Path = DATA_FILE) -> CityDirectory:
        return cls(path.read_bytes())

    @classmethod
    def from_entries(cls, entries: Iterable[Entry]) -> CityDirectory:
        return cls(pack(entries))

    def __len__(self) -> int:
        return len(self._sorted_ids)

    def __iter__(self) -> Iterator[City]:
        return map(self._city, range(len(self)))

    def _city(self, index: int) -> City:
        city = self._made.get(index)
        if city is None:
            record = self._records[self._record_starts[index] : self._record_starts[index + 1] - 1]
            i, name, ru, country, zone, people, region, region_ru = record.decode().split("\t")
            city = self._made[index] = City(int(i), name, ru, country, zone, int(people), region, region_ru)
        return city

    def get(self, city_id: int) -> City | None:
        at = bisect_left(self._sorted_ids, city_id)
        if at == len(self._sorted_ids) or self._sorted_ids[at] != city_id:
            return None
        return self._city(self._by_id[at])

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
                abroad = home is not None and self._country(index) != home
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
        return [self._city(index) for index in found]

    def _country(self, index: int) -> str:
        return self._countries[2 * index : 2 * index + 2]

    def _known_by(self, index: int, language: str) -> tuple[str, ...]:
        """The folded names a reader knows a city by: English, and for Russian readers the Russian one too (the
        first of each script: see `Entry`)."""
        by_population = self._rankings[None]  # rank = index
        english = by_population.latin.first_name(index) or ""
        if _language(language) != "ru":
            return (english,)
        russian = by_population.cyrillic.first_name(index) if self._russian_known[index] else None
        return (russian or english, english)

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
