"""The city directory: real cities (geonames, 15,000 people or more), each with its IANA time zone, searched by
name in Russian and English, shown told apart from their namesakes ("Moscow, Idaho, US" / "Москва, Россия").

Handlers call `get_directory().search(query, language=...)`, `get_directory().get(city_id)` and `City.label(lang)`
(or `City.parts(lang)`); the bot calls `load_directory()` once at start-up, off the event loop."""

from __future__ import annotations

import threading

from services.cities.directory import City, CityDirectory, country_name
from services.cities.names import normalize_query

__all__ = ["City", "CityDirectory", "country_name", "get_directory", "load_directory", "normalize_query"]

_directory: CityDirectory | None = None
_lock = threading.Lock()


def get_directory() -> CityDirectory:
    """The process-wide directory, read from the data file on first use (load_directory() does it at start-up)."""
    global _directory
    if _directory is None:
        with _lock:
            if _directory is None:
                _directory = CityDirectory.load()
    return _directory


async def load_directory() -> CityDirectory:
    """Loads the directory (about 0.1 s) in a worker thread, so the event loop keeps serving while it is read."""
    import asyncio

    return await asyncio.to_thread(get_directory)
