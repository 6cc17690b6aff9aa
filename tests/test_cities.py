"""The city directory: real geonames data, Russian names, ranking, time zones."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.cities import (
    City,
    CityDirectory,
    _levenshtein,
    _pick_russian_name,
    get_directory,
    normalize_query,
)

MOSCOW, SAINT_PETERSBURG, YEKATERINBURG, KAZAN = 524901, 498817, 1486209, 551487
NOVOSIBIRSK, NIZHNIY_NOVGOROD, VLADIVOSTOK, ROSTOV_ON_DON = 1496747, 520555, 2013348, 501175
LONDON, BERLIN, TBILISI, ALMATY, PARIS = 2643743, 2950159, 611717, 1526384, 2988507


@pytest.fixture(scope="module")
def directory() -> CityDirectory:
    return get_directory()


def test_the_directory_is_loaded_once(directory: CityDirectory) -> None:
    assert get_directory() is directory
    assert len(directory) > 30000  # geonames cities of 15 000 people and more


@pytest.mark.parametrize(
    ("city_id", "english", "russian"),
    [
        (MOSCOW, "Moscow", "Москва"),
        (SAINT_PETERSBURG, "Saint Petersburg", "Санкт-Петербург"),
        (YEKATERINBURG, "Yekaterinburg", "Екатеринбург"),
        (KAZAN, "Kazan", "Казань"),
        (NOVOSIBIRSK, "Novosibirsk", "Новосибирск"),
        (NIZHNIY_NOVGOROD, "Nizhniy Novgorod", "Нижний Новгород"),
        (ROSTOV_ON_DON, "Rostov-on-Don", "Ростов-на-Дону"),
        (558418, "Grozny", "Грозный"),
        (473249, "Vladikavkaz", "Владикавказ"),
        (1508291, "Chelyabinsk", "Челябинск"),
        (LONDON, "London", "Лондон"),
        (BERLIN, "Berlin", "Берлин"),
        (TBILISI, "Tbilisi", "Тбилиси"),
        (ALMATY, "Almaty", "Алматы"),
        (PARIS, "Paris", "Париж"),
    ],
)
def test_russian_names(directory: CityDirectory, city_id: int, english: str, russian: str) -> None:
    city = directory.get(city_id)
    assert city is not None
    assert (city.name, city.name_ru) == (english, russian)


def test_labels(directory: CityDirectory) -> None:
    moscow = directory.get(MOSCOW)
    assert moscow is not None
    assert moscow.label("ru") == "Москва, RU"
    assert moscow.label("ru-RU") == "Москва, RU"
    assert moscow.label("en") == "Moscow, RU"
    assert moscow.display_name("en") == "Moscow"


@pytest.mark.parametrize(
    ("city_id", "timezone"),
    [
        (MOSCOW, "Europe/Moscow"),
        (SAINT_PETERSBURG, "Europe/Moscow"),
        (NOVOSIBIRSK, "Asia/Novosibirsk"),
        (VLADIVOSTOK, "Asia/Vladivostok"),
        (YEKATERINBURG, "Asia/Yekaterinburg"),
        (LONDON, "Europe/London"),
    ],
)
def test_time_zones(directory: CityDirectory, city_id: int, timezone: str) -> None:
    city = directory.get(city_id)
    assert city is not None
    assert city.timezone == timezone


def test_every_time_zone_is_known_to_zoneinfo(directory: CityDirectory) -> None:
    zones = {row.timezone for row in directory._rows.values()}
    for zone in zones:
        ZoneInfo(zone)


def test_get(directory: CityDirectory) -> None:
    city = directory.get(MOSCOW)
    assert isinstance(city, City)
    assert city.id == MOSCOW and city.country_code == "RU" and city.population > 10_000_000
    assert directory.get(MOSCOW) is city  # built once, kept
    assert directory.get(0) is None
    assert directory.get(-5) is None


def _ids(cities: list[City]) -> list[int]:
    return [city.id for city in cities]


def test_search_prefix_in_russian_and_english(directory: CityDirectory) -> None:
    assert directory.search("мос")[0].id == MOSCOW
    assert directory.search("Мос")[0].id == MOSCOW
    assert directory.search("Mosc")[0].id == MOSCOW
    assert directory.search("москва")[0].id == MOSCOW
    assert directory.search("санкт")[0].id == SAINT_PETERSBURG
    assert directory.search("Санкт-Петербург")[0].id == SAINT_PETERSBURG
    assert directory.search("санкт петербург")[0].id == SAINT_PETERSBURG
    assert directory.search("St. Petersburg")[0].id == SAINT_PETERSBURG
    assert directory.search("  kazan  ")[0].id == KAZAN
    assert directory.search("ЕКАТЕРИНБУРГ")[0].id == YEKATERINBURG
    assert directory.search("Tbilisi")[0].id == TBILISI
    assert directory.search("алматы")[0].id == ALMATY


def test_search_colloquial_names(directory: CityDirectory) -> None:
    assert directory.search("спб")[0].id == SAINT_PETERSBURG
    assert directory.search("питер")[0].id == SAINT_PETERSBURG
    assert directory.search("мск")[0].id == MOSCOW
    assert directory.search("екб")[0].id == YEKATERINBURG
    assert directory.search("новосиб")[0].id == NOVOSIBIRSK


def test_search_folds_yo_and_diacritics(directory: CityDirectory) -> None:
    oryol = directory.search("Орёл")[0]
    assert oryol.name == "Orël"
    assert directory.search("орел")[0].id == oryol.id
    assert directory.search("Orel")[0].id == oryol.id
    assert directory.search("München")[0].name == "Munich"
    assert directory.search("munchen")[0].name == "Munich"


def test_russian_cities_come_before_foreign_ones(directory: CityDirectory) -> None:
    results = directory.search("бер", limit=20)
    countries = [city.country_code for city in results]
    assert "RU" in countries and any(code != "RU" for code in countries)
    first_foreign = next(i for i, code in enumerate(countries) if code != "RU")
    assert all(code != "RU" for code in countries[first_foreign:])
    assert BERLIN in _ids(results)
    russian = [city for city in results if city.country_code == "RU"]
    assert [city.population for city in russian] == sorted((city.population for city in russian), reverse=True)


def test_prefix_matches_come_before_word_and_substring_matches(directory: CityDirectory) -> None:
    results = directory.search("новгород", limit=10)
    ids = _ids(results)
    assert ids[0] == 519336  # Velikiy Novgorod: a name (Новгород) starts with the query
    assert NIZHNIY_NOVGOROD in ids  # a word inside "Нижний Новгород" starts with it
    assert ids.index(519336) < ids.index(NIZHNIY_NOVGOROD)
    # "бург" is inside Санкт-Петербург but starts Бургас: the prefix match first
    ids = _ids(directory.search("бург", limit=30))
    assert SAINT_PETERSBURG in ids
    assert ids.index(SAINT_PETERSBURG) > 0


@pytest.mark.parametrize("query", ["", "   ", "!!!", "-", "123", "北京", "zzzzqqq", "щщщщщ", "x" * 500, "\x00\x01"])
def test_empty_or_garbage_queries_give_nothing(directory: CityDirectory, query: str) -> None:
    assert directory.search(query) == []


def test_limit(directory: CityDirectory) -> None:
    assert len(directory.search("м", limit=3)) == 3
    assert len(directory.search("м")) == 8
    assert directory.search("м", limit=0) == []
    assert len(directory.search("а", limit=50)) == 50
    assert len(set(_ids(directory.search("а", limit=50)))) == 50


def test_search_is_fast(directory: CityDirectory) -> None:
    queries = ["м", "мос", "Mosc", "санкт", "zzzz", "new york", "бург", "Kazan", "ова", "lodz"] * 5
    for query in queries:  # warm: build the City objects
        directory.search(query)
    started = time.perf_counter()
    for query in queries:
        directory.search(query)
    per_query = (time.perf_counter() - started) / len(queries)
    assert per_query < 0.01  # about 0.5 ms here; generous for a loaded CI machine


def test_a_small_directory_ranks_as_documented() -> None:
    def record(geonameid: int, name: str, country: str, population: int, *alternates: str) -> dict[str, object]:
        return {
            "geonameid": geonameid,
            "name": name,
            "countrycode": country,
            "timezone": "Europe/Moscow" if country == "RU" else "Europe/Berlin",
            "population": population,
            "alternatenames": list(alternates),
        }

    directory = CityDirectory(
        [
            record(1, "Bergstadt", "DE", 900_000, "Бергштадт"),
            record(2, "Berezovo", "RU", 20_000, "Березово"),
            record(3, "Bigberg", "RU", 500_000, "Бигберг"),
            record(4, "Berezniki", "RU", 140_000, "Березники", "Berezniki"),
            record(5, "Old Berlin", "DE", 50_000, "Старый Берлин"),
        ]
    )
    assert _ids(directory.search("бер")) == [4, 2, 1, 5, 3]  # prefix (RU, then others), word prefix, substring
    assert _ids(directory.search("ber")) == [4, 2, 1, 5, 3]
    assert _ids(directory.search("берл")) == [5]
    assert _ids(directory.search("be", limit=2)) == [4, 2]
    assert directory.get(4) == City(4, "Berezniki", "Березники", "RU", "Europe/Moscow", 140_000)
    assert directory.get(1) is not None and directory.get(1).name_ru == "Бергштадт"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("variants", "country", "english", "expected"),
    [
        (["Казан", "Казань", "Къазан", "Қазан"], "RU", "Kazan", "Казань"),
        (["Грозна", "Грозни", "Грозний", "Грозны", "Грозный"], "RU", "Grozny", "Грозный"),
        (["Налчик", "Налшык", "Нальчик"], "RU", "Nalchik", "Нальчик"),
        (["Череповетс", "Череповец", "Череповець", "Чарапавец"], "RU", "Cherepovets", "Череповец"),
        (["Омск", "Омськ", "Омбы"], "RU", "Omsk", "Омск"),
        (["Санкт Петербург", "Санкт-Петербург", "Питер", "СПб", "Ленинград"], "RU", "Saint Petersburg",
         "Санкт-Петербург"),
        (["Вена", "Виена", "Беч", "Відень"], "AT", "Vienna", "Вена"),
        (["Берлин", "Берлін", "Бэрлін"], "DE", "Berlin", "Берлин"),
        (["СПб"], "RU", "Saint Petersburg", None),
        ([], "RU", "Nowhere", None),
        (["Ꙁвѣзда"], "RU", "Zvezda", None),
    ],
)  # fmt: skip
def test_pick_russian_name(variants: list[str], country: str, english: str, expected: str | None) -> None:
    assert _pick_russian_name(english, country, variants) == expected


def test_pick_russian_name_prefers_the_cldr_name_when_it_is_a_variant() -> None:
    variants = ["Москва", "Москова", "Масква"]
    assert _pick_russian_name("Moscow", "RU", variants, "Москва") == "Москва"
    assert _pick_russian_name("Moscow", "RU", variants, "Моск") != "Моск"  # not a variant: ignored


def test_normalize_query() -> None:
    assert normalize_query("  Санкт-Петербург ") == "санкт петербург"
    assert normalize_query("Орёл") == "орел"
    assert normalize_query("Йошкар-Ола") == "йошкар ола"
    assert normalize_query("Kazan’") == "kazan"
    assert normalize_query("Ürümqi, Łódź") == "urumqi lodz"
    assert normalize_query("İstanbul") == "istanbul"
    assert normalize_query("a\nb") == "a b"


def _levenshtein_reference(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@given(st.text(alphabet="абвгдеabc -", max_size=70), st.text(alphabet="абвгдеabc -", max_size=70))
def test_bit_parallel_levenshtein_matches_the_textbook_one(a: str, b: str) -> None:
    assert _levenshtein(a, b) == _levenshtein_reference(a, b)
    assert _levenshtein(b, a) == _levenshtein(a, b)
