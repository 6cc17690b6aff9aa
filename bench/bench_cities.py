"""City directory and input parsing figures: load time, memory (the bot process's RSS after start-up), the first
search against the hundredth, search and parse latency.

Run: python -m bench.bench_cities [--queries 400]   (or python bench/bench_cities.py)
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
import zlib
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.amounts import parse_amount
from services.cities import CityDirectory
from services.cities.directory import DATA_FILE
from services.dates import parse_event_datetime
from services.errors import DomainError
from services.seats import parse_seat


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return f"p50 {at(0.50):.3f} ms, p95 {at(0.95):.3f} ms, max {ordered[-1] * 1000:.3f} ms (n={len(samples)})"


def _queries(directory: CityDirectory, count: int, seed: int = 7) -> list[str]:
    """Prefixes of real names (English and Russian, 1-8 letters, as people type them), whole names, words from
    inside names, typos and garbage."""
    rng = random.Random(seed)
    cities = list(directory)
    queries: list[str] = []
    while len(queries) < count:
        city = rng.choice(cities)
        name = rng.choice([city.name, city.name_ru])
        kind = rng.random()
        if kind < 0.6:
            queries.append(name[: rng.randint(1, 8)])
        elif kind < 0.75:
            queries.append(name)
        elif kind < 0.85:
            queries.append(name.split()[-1][:5])
        elif kind < 0.95:
            queries.append(name[:4] + "zq")
        else:
            queries.append(rng.choice(["zzzz", "qqqxx", "щщщщ", "!!!", "", "12345"]))
    return queries


_RSS_PROBE = """
import resource, time
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) / 1024
import bot.app, handlers  # everything the bot imports at start-up
before = rss()
from services.cities import get_directory
started, cpu = time.perf_counter(), time.process_time()
directory = get_directory()
loaded, loaded_cpu = time.perf_counter() - started, time.process_time() - cpu
started = time.perf_counter()
directory.search("Новосибирск")
first = time.perf_counter() - started
for query in ["Mosc", "Kazan", "екб", "Tbilisi", "новгород"] * 20:
    directory.search(query)
started = time.perf_counter()
directory.search("Новосибирск")
hundredth = time.perf_counter() - started
print(f"{before:.0f} {rss():.0f} {loaded:.3f} {loaded_cpu:.3f} {first * 1000:.3f} {hundredth * 1000:.3f}")
"""


def _bot_process() -> None:
    """A fresh process as the bot starts: its imports, then the directory; RSS and the first search."""
    done = subprocess.run([sys.executable, "-c", _RSS_PROBE], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)  # fmt: skip
    before, after, loaded, loaded_cpu, first, hundredth = done.stdout.split()
    print(
        f"bot process: RSS {before} MiB after its imports, {after} MiB with the directory loaded "
        f"({loaded} s, {loaded_cpu} s of CPU)"
    )
    print(f"search 'Новосибирск' in that process: first {first} ms, after 100 others {hundredth} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=400, help="queries of the latency samples")
    args = parser.parse_args()
    _bot_process()
    gc.collect()
    started = time.perf_counter()
    directory = CityDirectory.load()
    load = time.perf_counter() - started
    print(f"cities: {len(directory)} (geonames, population >= 15 000)")
    print(f"load (data file + index): {load:.3f} s (reading and decompressing the file alone: ", end="")
    started = time.perf_counter()
    data = DATA_FILE.read_bytes()
    zlib.decompress(data[data.index(b"\n") + 1 :])  # after the file's first line, its format's name
    print(f"{time.perf_counter() - started:.3f} s)")

    del directory
    gc.collect()
    tracemalloc.start()
    directory = CityDirectory.load()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory: peak {peak / 2**20:.0f} MiB while loading, {retained / 2**20:.0f} MiB kept by the directory")

    queries = _queries(directory, args.queries)
    fresh = CityDirectory.load()
    cold: list[float] = []
    for query in queries:
        started = time.perf_counter()
        fresh.search(query)
        cold.append(time.perf_counter() - started)
    print(f"search, first time: {_percentiles(cold)}")
    warm: list[float] = []
    for _ in range(3):
        for query in queries:
            started = time.perf_counter()
            fresh.search(query)
            warm.append(time.perf_counter() - started)
    print(f"search, warm: {_percentiles(warm)}")
    by_query: dict[str, list[float]] = {}
    for query, took in zip(queries * 3, warm, strict=True):
        by_query.setdefault(query, []).append(took)
    slowest = sorted(by_query, key=lambda query: statistics.median(by_query[query]), reverse=True)[:3]
    print("  slowest: " + ", ".join(f"{q!r} {statistics.median(by_query[q]) * 1000:.1f} ms" for q in slowest))
    for query in ("м", "мос", "санкт", "Mosc", "новгород", "zzzz", "Novosibirks", "Kaz"):
        runs = []
        for _ in range(200):
            started = time.perf_counter()
            fresh.search(query)
            runs.append(time.perf_counter() - started)
        print(f"  {query!r}: {statistics.median(runs) * 1000:.3f} ms")

    now = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    texts = ["25.12 19:00", "25 декабря 2026 в 19:00", "December 25, 7:30 pm", "завтра 20:00", "hello there"]
    timings = []
    for _ in range(400):
        for text in texts:
            started = time.perf_counter()
            with contextlib.suppress(DomainError):
                parse_event_datetime(text, "Europe/Moscow", now)
            timings.append(time.perf_counter() - started)
    print(f"parse_event_datetime: {_percentiles(timings)}")
    timings = []
    for _ in range(400):
        for amount, seat in (("2 500 ₽", "Партер, ряд 5, место 12"), ("2500,00", "A/5/12"), ("abc", "танцпол")):
            started = time.perf_counter()
            with contextlib.suppress(DomainError):
                parse_amount(amount)
            parse_seat(seat)
            timings.append(time.perf_counter() - started)
    print(f"parse_amount + parse_seat: {_percentiles(timings)}")


if __name__ == "__main__":
    main()
