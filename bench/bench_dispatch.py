"""The cost of a click: the real Dispatcher (bot.app.build_app: every middleware and router, a real SQLite or
PostgreSQL database bulk-loaded with 10K and 1M listings) against a bare aiogram echo Dispatcher, both fed through
`Dispatcher.feed_update` with a Bot whose session answers Bot API calls locally, interleaved update by update in
one run.

The updates: /start of a registered user, open the feed, Next page, a type filter, a search (a rare word), Buy ->
hold + invoice, a sell wizard text step (the event name). The steps that only lead up to the measured one (the
search button before the search words, /sell and the type before the name) are fed untimed, and so are two
warm-up rounds. Each round takes a fresh registered user, so throttling never steps in. The feed's four pages are
measured three times a round: read from the database (each round's Buy changes the feed), for the next user kept in
memory (", kept": services.kept_pages), and after a change elsewhere grew the feed's version (", changed
elsewhere": read again, the same page). Printed per update:
updates/s, p50 / p95 of the product and of echo, the ratio of their rates and of their CPU time per update, and the
SQL statements and COMMITs of one update.

Run: python -m bench.bench_dispatch [--sizes 10000 1000000] [--rounds 200] [--postgresql URL] [--redis URL]
     [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import lazy_types  # noqa: F401  # before aiogram, as in the bot's process: its types built on first use (bot/lazy_types.py)

# isort: split
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update, User
from sqlalchemy import event, text

from bench._load import (
    NOW,
    RARE_WORD,
    load_postgresql,
    load_sqlite,
    market,
    percentiles,
    scratch_postgresql,
    telegram_id,
)
from bot.app import App, build_app, freeze_start_up_heap
from bot.factory import create_bot
from bot.i18n import i18n
from bot.settings import Settings
from services.clock import FrozenClock
from services.feed import PAGE_SIZE

TOKEN = "123456789:AAbenchdispatchbenchdispatchbench0000"
LANGUAGE = "ru"  # the loaded users' language
WARM_UP = 2  # untimed rounds first
# Update ids are unique across the run, as Telegram's are: aiogram caches `Update.event_type` by the update's hash
# (its id), and equal ids from different chats would make every lookup a deep comparison of two updates.
UPDATE_IDS = itertools.count(1)


class LocalSession(BaseSession):
    """Answers every Bot API call at once, as Telegram would (a message for the methods that send one, True for
    the others), through aiogram's own response parsing; keeps the reply markups a chat was sent."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1000)
        self.markups: dict[int, InlineKeyboardMarkup] = {}

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:  # noqa: ASYNC109
        returning = method.__returning__
        if Message in (returning, *get_args(returning)):
            chat_id = int(getattr(method, "chat_id", None) or 0)
            markup = getattr(method, "reply_markup", None)
            if isinstance(markup, InlineKeyboardMarkup):
                self.markups[chat_id] = markup
            result: Any = {
                "message_id": next(self._ids),
                "date": int(NOW.timestamp()),
                "chat": {"id": chat_id, "type": "private"},
                "text": getattr(method, "text", None) or "-",
            }
        elif returning is User:
            result = {"id": bot.id, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
        else:
            result = True
        content = json.dumps({"ok": True, "result": result})
        return self.check_response(bot=bot, method=method, status_code=200, content=content).result

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncIterator[bytes]:
        yield b""

    async def close(self) -> None:
        return None


def echo_dispatcher() -> Dispatcher:
    """The floor: a bare aiogram Dispatcher that echoes a message and answers a button, one Bot API call each."""
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "-")

    @router.callback_query()
    async def press(callback: CallbackQuery) -> None:
        await callback.answer()

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


@dataclass
class Chatter:
    """Updates from one registered user, as Telegram would send them."""

    user_id: int
    session: LocalSession
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def telegram_id(self) -> int:
        return telegram_id(self.user_id)

    def _user(self) -> User:
        return User(id=self.telegram_id, is_bot=False, first_name=f"Seller{self.user_id}", language_code=LANGUAGE)

    def _message(self, text: str) -> Message:
        chat = Chat(id=self.telegram_id, type="private")
        return Message(message_id=next(self._ids), date=NOW, chat=chat, from_user=self._user(), text=text)

    def text(self, text: str) -> Update:
        return Update(update_id=next(UPDATE_IDS), message=self._message(text))

    def press(self, key: str, **params: object) -> Update:
        """A press of the button the bot last drew in this chat whose text is the message `key`'s."""
        wanted = i18n.gettext(key, locale=LANGUAGE).format(**params)
        markup = self.session.markups.get(self.telegram_id)
        buttons = [button for row in markup.inline_keyboard for button in row] if markup else []
        data = next((button.callback_data for button in buttons if button.text == wanted), None)
        if data is None:
            raise LookupError(f"no button {wanted!r} ({key}) among {[button.text for button in buttons]}")
        query = CallbackQuery(
            id=str(next(self._ids)), from_user=self._user(), chat_instance="bench", data=data,
            message=self._message("-"),
        )  # fmt: skip
        return Update(update_id=next(UPDATE_IDS), callback_query=query)


Step = Callable[[Chatter, Callable[[Update], Awaitable[None]]], Awaitable[Update]]


async def _start(chatter: Chatter, feed: Callable[[Update], Awaitable[None]]) -> Update:
    return chatter.text("/start")


async def _feed(chatter: Chatter, feed: Callable[[Update], Awaitable[None]]) -> Update:
    return chatter.text("/feed")


async def _next(chatter: Chatter, feed: Callable[[Update], Awaitable[None]]) -> Update:
    await feed(chatter.text("/feed"))
    return chatter.press("feed-next")


async def _type_filter(chatter: Chatter, feed: Callable[[Update], Awaitable[None]]) -> Update:
    await feed(chatter.text("/feed"))
    await feed(chatter.press("feed-filter-type"))
    return chatter.press("feed-type-theatre")


async def _search(chatter: Chatter, feed: Callable[[Update], Awaitable[None]]) -> Update:
    await feed(chatter.text("/feed"))
    await feed(chatter.press("feed-filter-search"))
    return chatter.text(RARE_WORD)


async def _buy(chatter: Chatter, feed: Callable[[Update], Awaitable[None]]) -> Update:
    """Buy on the first card on sale (the ones held before have left the feed) that is not the viewer's own (no Buy
    under a seller's own card: at 1M listings some round's viewer sells the first one)."""
    await feed(chatter.text("/feed"))
    for number in range(1, PAGE_SIZE + 1):
        try:
            return chatter.press("feed-buy", number=number)
        except LookupError:
            continue
    raise LookupError("nothing to buy on the first page")


async def _wizard_step(chatter: Chatter, feed: Callable[[Update], Awaitable[None]]) -> Update:
    await feed(chatter.text("/sell"))
    await feed(chatter.press("feed-type-concert"))
    return chatter.text("Гамлет")


STEPS: dict[str, Step] = {
    "/start (registered)": _start,
    "open the feed": _feed,
    "Next page": _next,
    "type filter": _type_filter,
    "search (rare word)": _search,
    "Buy -> invoice": _buy,
    "sell wizard text step": _wizard_step,
}


# The feed's pages, measured three times a round: as read from the database (the round's Buy changed the feed, so
# the page kept from the round before is stale), again for another viewer right after, when the page is kept, and
# once more after a change elsewhere (a withdrawn ticket's price) grew the feed's version: read again, the same.
KEPT_AGAIN = ("open the feed", "Next page", "type filter", "search (rare word)")
ELSEWHERE = "UPDATE tickets SET price = price + 1 WHERE id = (SELECT min(id) FROM tickets)"


@dataclass
class Timings:
    product: dict[str, list[float]] = field(default_factory=dict)
    echo: dict[str, list[float]] = field(default_factory=dict)
    sql: dict[str, tuple[int, int]] = field(default_factory=dict)  # statements and COMMITs of the last measured one
    cpu: dict[str, list[float]] = field(default_factory=dict)  # the product's CPU time per update, then echo's
    echo_cpu: dict[str, list[float]] = field(default_factory=dict)


async def _timed(dispatcher: Dispatcher, bot: Bot, update: Update) -> tuple[float, float]:
    """Wall-clock and CPU time (`process_time`: every thread of the process) of one update."""
    started, cpu = time.perf_counter(), time.process_time()
    await dispatcher.feed_update(bot, update)
    return time.perf_counter() - started, time.process_time() - cpu


def _count_statements(app: App, counts: list[int]) -> None:
    """counts[0] + 1 for every SQL statement run, counts[1] + 1 for every COMMIT: on SQLite its trace callback sees
    them all (db.direct's transactions of their own too); on PostgreSQL SQLAlchemy's events see its own (asyncpg
    prepared statements, which asyncpg does not log) and asyncpg's query logger the rest and the COMMITs (db.direct's
    statements bypass SQLAlchemy's events; the pool's pre-ping, ";", counts too: it is a round trip). Other
    transaction control, and what SQLite runs inside a statement (a trigger's, FTS5's own: traced as "-- ..."),
    aside."""
    traced: set[int] = set()
    last = [""]

    def note(sql: object) -> None:
        query = sql.query if hasattr(sql, "query") else str(sql)
        if query == last[0] and "RETURNING" in query:  # SQLite traces a statement with RETURNING once per step
            return
        last[0] = query
        if query.startswith("COMMIT"):  # SQLite's trace and asyncpg's logger both see them
            counts[1] += 1
        elif not query.lstrip().upper().startswith(("--", "BEGIN", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            counts[0] += 1

    @event.listens_for(app.engine.sync_engine, "checkout")
    def _trace(dbapi_connection: Any, *_: Any) -> None:
        driver = dbapi_connection.driver_connection
        if id(driver) in traced:
            return
        traced.add(id(driver))
        if hasattr(driver, "add_query_logger"):  # asyncpg
            driver.add_query_logger(note)
            if len(traced) == 1:
                event.listen(app.engine.sync_engine, "before_cursor_execute", lambda *args: note(args[2]))
        else:  # aiosqlite over sqlite3
            driver._conn.set_trace_callback(note)


async def measure(app: App, rounds: int, profile: cProfile.Profile | None = None) -> Timings:
    """`rounds` times every step, each by a fresh registered user; echo is fed the same update right after."""
    session = LocalSession()
    bot = create_bot(app.settings, session)  # the product's Bot API middlewares over the local session
    echo, echo_bot = echo_dispatcher(), Bot(TOKEN, session=LocalSession())
    timings = Timings()
    users_ = itertools.count(1)
    counts = [0, 0]  # statements, COMMITs
    _count_statements(app, counts)

    async def feed(update: Update) -> None:
        await app.dispatcher.feed_update(bot, update)

    async with app.sessionmaker() as change:  # the ticket ELSEWHERE changes: in no page
        await change.execute(text("UPDATE tickets SET status = 'withdrawn' WHERE id = (SELECT min(id) FROM tickets)"))
        await change.commit()
    for _ in range(WARM_UP):  # aiogram and pydantic build their per-type models on first use
        for step in STEPS.values():
            chatter = Chatter(next(users_), session)
            await feed(await step(chatter, feed))
            await echo.feed_update(echo_bot, chatter.text("warm"))

    async def measured(label: str, step: Step) -> None:
        chatter = Chatter(next(users_), session)
        update = await step(chatter, feed)
        if profile is not None:
            profile.enable()
        counts[:] = [0, 0]
        took, cpu = await _timed(app.dispatcher, bot, update)
        if profile is not None:
            profile.disable()
        timings.sql[label] = (counts[0], counts[1])
        timings.product.setdefault(label, []).append(took)
        timings.cpu.setdefault(label, []).append(cpu)
        echo_took, echo_cpu = await _timed(echo, echo_bot, update)
        timings.echo.setdefault(label, []).append(echo_took)
        timings.echo_cpu.setdefault(label, []).append(echo_cpu)

    for _ in range(rounds):
        for label, step in STEPS.items():
            await measured(label, step)  # a feed page read: each round's Buy before it changed the feed
            if label in KEPT_AGAIN:  # the same page for the next viewer, kept in memory (services.kept_pages)
                await measured(f"{label}, kept", step)
                async with app.sessionmaker() as change:
                    await change.execute(text(ELSEWHERE))
                    await change.commit()
                await measured(f"{label}, changed elsewhere", step)
    await echo_bot.session.close()
    return timings


def report(timings: Timings) -> None:
    """Per update: rates and p50/p95 (ms) of both, the ratio of the rates, the ratio of their CPU time per update
    (less swayed by other processes on the cores than the wall-clock rates), SQL statements and COMMITs."""
    print(f"    {'update':<24} {'product/s':>9} {'p50':>6} {'p95':>6}   {'echo/s':>7} {'p50':>5} {'p95':>5}   ratio"
          "   CPU ratio   SQL/COMMIT")  # fmt: skip
    for label, samples in timings.product.items():
        echo = timings.echo[label]
        rate, echo_rate = len(samples) / sum(samples), len(echo) / sum(echo)
        cpu_ratio = sum(timings.echo_cpu[label]) / sum(timings.cpu[label])
        sql = "/".join(map(str, timings.sql[label]))
        p50, p95 = percentiles(samples)
        e50, e95 = percentiles(echo)
        print(f"    {label:<24} {rate:9.0f} {p50:6.2f} {p95:6.2f}   {echo_rate:7.0f} {e50:5.2f} {e95:5.2f}   "
              f"{rate / echo_rate:.3f}   {cpu_ratio:9.3f}   {sql}")  # fmt: skip


@asynccontextmanager
async def bot_on(database_url: str, data_dir: Path, redis_url: str | None = None) -> AsyncIterator[App]:
    settings = Settings(
        _env_file=None, bot_token=TOKEN, database_url=database_url, data_dir=data_dir, payment_provider_token=None,
        redis_url=redis_url,
    )  # type: ignore[call-arg]  # fmt: skip
    app = await build_app(settings, clock=FrozenClock(NOW))
    freeze_start_up_heap()  # as `python -m bot` does
    try:
        yield app
    finally:
        await app.close()


async def _run(
    database_url: str, folder: Path, rounds: int, profile_to: str | None, redis_url: str | None = None
) -> None:
    async with bot_on(database_url, folder, redis_url) as app:
        profile = cProfile.Profile() if profile_to else None
        report(await measure(app, rounds, profile))
        if profile is not None and profile_to:
            profile.dump_stats(profile_to)
            print(f"    profile written to {profile_to} (python -m pstats {profile_to})")


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=200, help="times each update is measured")
    parser.add_argument("--postgresql", help="an admin URL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--profile", help="write a cProfile of the product's measured updates to this file")
    parser.add_argument("--redis", help="with PostgreSQL: FSM state, lock, throttling in this Redis (as the fleet)")
    args = parser.parse_args(argv)
    for count in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.db"
            started = time.perf_counter()
            await load_sqlite(path, market(count))
            print(f"SQLite, {count:,} listings (loaded in {time.perf_counter() - started:.0f} s)")
            await _run(f"sqlite+aiosqlite:///{path}", Path(folder), args.rounds, args.profile)
            if args.postgresql:
                async with scratch_postgresql(args.postgresql, "bench_dispatch") as url:
                    started = time.perf_counter()
                    await load_postgresql(url, market(count))
                    print(f"PostgreSQL, {count:,} listings (loaded in {time.perf_counter() - started:.0f} s)")
                    await _run(url, Path(folder), args.rounds, None, args.redis)


if __name__ == "__main__":
    asyncio.run(main())
