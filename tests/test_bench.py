"""Every benchmark runs: each module of bench/ is imported, and its README command run at a tiny size (SQLite), so
a broken benchmark fails CI instead of the next person who types the command."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The command-line arguments of each benchmark's tiny run (seconds, not minutes).
TINY = {
    "bench_barcodes": ["--rounds", "1", "--sizes", "300"],
    "bench_cities": ["--queries", "30"],
    "bench_dispatch": ["--sizes", "300", "--rounds", "2"],
    "bench_feed": ["--sizes", "300"],
    "bench_load": ["--users", "4", "--seconds", "1", "--listings", "300"],
    "bench_memory": ["--rounds", "2", "--listings", "300"],
    "bench_orders": ["--tickets", "2000", "--rounds", "1"],
    "bench_sweeps": ["--sizes", "6000", "--no-explain"],
}


def test_every_benchmark_has_a_tiny_run() -> None:
    assert {path.stem for path in (ROOT / "bench").glob("bench_*.py")} == set(TINY)


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_benchmark_runs(name: str) -> None:
    importlib.import_module(f"bench.{name}")
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *TINY[name]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "a benchmark prints its figures"
