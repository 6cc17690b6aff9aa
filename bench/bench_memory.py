"""The bot's memory after start and the cost of its first clicks: a fresh process (as `python -m bot` would be)
imports bot.app, runs `build_app` over a SQLite database loaded with a small market, then takes a few rounds of
bench_dispatch's updates (/start of a registered user, the feed, Next page, a type filter, a search, Buy ->
invoice, a sell wizard text step) through a Bot whose session answers locally.

Printed: VmRSS after each stage (the process's resident memory, MiB) and VmHWM (its peak); for each update the
latency of its first run against the median of the later rounds (what a first click costs more), and the pydantic
models built while an update ran (none expected: bot.lazy_types.prebuild builds them at start-up); then what the
libraries imported on first use cost when they come (a barcode drawn, a text sealed). The issue's goal: RSS after
start under 150 MiB.

Run: python -m bench.bench_memory [--rounds 5] [--listings 1000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_MIB = 150


def rss() -> dict[str, float]:
    """The process's resident memory now and at its peak, MiB (Linux's /proc/self/status)."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found


async def _child(database: Path, rounds: int) -> dict[str, Any]:
    """Runs in the fresh process: the stages, measured as they happen."""
    stages: dict[str, float] = {"python": rss()["VmRSS"]}
    started = time.perf_counter()
    import bot.app

    stages["import bot.app"] = rss()["VmRSS"]
    imported = time.perf_counter() - started
    from pydantic._internal import _model_construction

    from bench.bench_dispatch import STEPS, Chatter, LocalSession, bot_on
    from bot.factory import create_bot

    built: list[str] = []  # the models pydantic completes (a deferred one on first use, a new Response[T])
    complete = _model_construction.complete_model_class

    def spy(cls: type, *args: Any, **kwargs: Any) -> Any:
        built.append(cls.__qualname__)
        return complete(cls, *args, **kwargs)

    _model_construction.complete_model_class = spy

    async with bot_on(f"sqlite+aiosqlite:///{database}", database.parent) as app:
        assert isinstance(app, bot.app.App)
        stages["build_app (after start)"] = rss()["VmRSS"]
        session = LocalSession()
        speaker = create_bot(app.settings, session)
        first: dict[str, float] = {}
        later: dict[str, list[float]] = {}
        inside: list[str] = []
        for index in range(rounds):
            for number, (label, step) in enumerate(STEPS.items()):
                chatter = Chatter(1 + index * len(STEPS) + number, session)

                async def feed(update: Any) -> None:
                    await app.dispatcher.feed_update(speaker, update)

                update = await step(chatter, feed)  # the bench's own User, Chat... models are built here
                built.clear()
                took = time.perf_counter()
                await feed(update)
                took = time.perf_counter() - took
                inside.extend(f"{name} ({label})" for name in built)
                if index == 0:
                    first[label] = took
                else:
                    later.setdefault(label, []).append(took)
            if index == 0:
                stages["after one round of updates"] = rss()["VmRSS"]
        stages[f"after {rounds} rounds"] = rss()["VmRSS"]
        stages["peak (VmHWM)"] = rss()["VmHWM"]
        on_first_use = _on_first_use(app)
    return {
        "rss": stages,
        "import_seconds": imported,
        "first_ms": {label: took * 1000 for label, took in first.items()},
        "later_ms": {label: statistics.median(times) * 1000 for label, times in later.items()},
        "built_inside_updates": inside,
        "on_first_use": on_first_use,
    }


def _on_first_use(app: Any) -> dict[str, tuple[float, float]]:
    """What each library left out of start-up costs when first needed: (ms, MiB of RSS), one after the other."""
    drawn: list[bytes] = []

    def draw() -> None:
        from services.barcodes import render_barcode_png

        drawn.append(render_barcode_png("QRCode", "TICKET-1"))

    def scan() -> None:
        from services.barcodes import scan_photo

        scan_photo(drawn[0], max_bytes=10 * 1024 * 1024)

    def pdf() -> None:
        from services import tickets_pdf  # noqa: F401

    steps = {
        "a text sealed (cryptography)": lambda: app.secrets.open_text(app.secrets.seal_text("TICKET-1")),
        "a barcode drawn (numpy, Pillow, pyzbar)": draw,
        "then a photo scanned (scipy's DCT, pHash)": scan,
        "a PDF read (pypdfium2)": pdf,
    }
    costs = {}
    for what, call in steps.items():
        before, started = rss()["VmRSS"], time.perf_counter()
        call()
        costs[what] = ((time.perf_counter() - started) * 1000, rss()["VmRSS"] - before)
    return costs


def measure(rounds: int = 5, listings: int = 1000) -> dict[str, Any]:
    """A market loaded here, then the stages measured in a fresh interpreter."""
    from bench._load import load_sqlite, market

    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        asyncio.run(load_sqlite(database, market(listings)))
        done = subprocess.run(
            [sys.executable, "-m", "bench.bench_memory", "--child", str(database), "--rounds", str(rounds)],
            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(done.stderr[-3000:])
        result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
        return result


def report(result: dict[str, Any]) -> None:
    print(f"    {'stage':<28} {'VmRSS MiB':>9}")
    for stage, mib in result["rss"].items():
        print(f"    {stage:<28} {mib:9.1f}")
    print(f"    import bot.app took {result['import_seconds']:.2f} s; goal after start: < {GOAL_MIB} MiB")
    print(f"    {'update':<24} {'first ms':>8} {'later p50':>9}")
    for label, took in result["first_ms"].items():
        print(f"    {label:<24} {took:8.1f} {result['later_ms'].get(label, float('nan')):9.2f}")
    print(f"    models built inside an update: {', '.join(result['built_inside_updates']) or 'none'}")
    for what, (took, mib) in result["on_first_use"].items():
        print(f"    first use: {what:<42} {took:6.0f} ms {mib:+5.1f} MiB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds of updates after start (the first is timed apart)"
    )
    parser.add_argument("--listings", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # the fresh process's side
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_child(args.child, args.rounds))))
        return
    result = measure(args.rounds, args.listings)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"SQLite, {args.listings:,} listings, a fresh process")
        report(result)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
