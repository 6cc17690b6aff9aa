"""Load over real HTTP: N simulated people arriving evenly over a span of seconds use the real bot, run as separate
processes against the Bot API emulator (in this process): (a) one `python -m bot run` (long polling) on SQLite,
(b) two `python -m bot webhook` instances on PostgreSQL and Redis behind the emulator's round robin. Each person
registers (/start, shares the contact), opens the feed, turns five pages; every tenth presses Buy on the first card.
The database holds bench/_load.py's market first. Printed per stack: p50 / p95 of each action (send to the bot's
answer), actions lost (no answer within --wait seconds), the peak RSS of each bot process (VmHWM), and where the
2 cores went during the crowd: CPU seconds of each bot process and of this one (the load generator and the
emulator), the machine's busy share and its load average (other work on the machine shows there).

Run: python -m bench.bench_load [--users 1000] [--seconds 60] [--listings 10000] [--wait 20] [--postgresql URL]
     [--redis URL] [--stacks a b] [--profile FOLDER]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import ClientSession

from bench._load import (
    TICKET_COLUMNS,
    USER_COLUMNS,
    Table,
    load_postgresql,
    load_sqlite,
    percentiles,
    scratch_postgresql,
)
from bench._load import tickets as ticket_rows
from bench._load import users as user_rows
from bot.i18n import translate
from sandbox.emulator import BotApiEmulator
from sandbox.users import SimulatedUser

TOKEN = "123456789:AAbenchloadbenchloadbenchloadbench00"
ROOT = Path(__file__).resolve().parent.parent
FIRST_ID = 50_000_000  # people's Telegram ids, past the loaded sellers'
PAGES = 5
SECRET = "bench-load-secret"
Samples = dict[str, list[float | None]]  # action -> seconds to the answer (None: lost)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), sum(ticks) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by each named process (and by this one) between `start` and `stop`, and the bots' CPU per
    update they took in meanwhile (sent by the crowd less those still waiting in the emulator): a figure that
    depends much less on what else the machine runs than the latencies do."""

    def __init__(self, emu: BotApiEmulator, pids: dict[str, int]) -> None:
        self.emu = emu
        self.pids = pids

    def _updates_taken(self) -> int:
        bot = self.emu.bot
        return bot.next_update_id - len(bot.pending)

    def start(self) -> None:
        self._taken = self._updates_taken()
        self._bots = {name: _cpu_seconds(pid) for name, pid in self.pids.items()}
        self._self = time.process_time()
        self._machine = _machine_busy()
        self._load = os.getloadavg()[0]

    def stop(self) -> str:
        spent = {name: _cpu_seconds(pid) - self._bots[name] for name, pid in self.pids.items()}
        taken = self._updates_taken() - self._taken
        per_update = sum(spent.values()) / max(taken, 1) * 1000
        spent["generator + emulator"] = time.process_time() - self._self
        busy, total = (now - then for now, then in zip(_machine_busy(), self._machine, strict=True))
        return (
            f"updates taken in: {taken}, bot CPU {per_update:.1f} ms each\n    CPU s: "
            + ", ".join(f"{name} {seconds:.0f}" for name, seconds in spent.items())
            + f"; machine {busy:.0f} of {total:.0f} core-s busy ({100 * busy / total:.0f} %)"
            + f"; load average {self._load:.1f} -> {os.getloadavg()[0]:.1f}"
        )


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@asynccontextmanager
async def bot_process(
    env: dict[str, str], command: str, ready: Callable[[], object], profile: Path | None = None
) -> AsyncIterator[int]:
    """`python -m bot <command>` with `env`, until `ready()` (awaitable) returns; yields its pid; stopped by
    SIGTERM afterwards. With `profile`, run under cProfile, the stats written there when it stops."""
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    process = await asyncio.create_subprocess_exec(
        sys.executable, *profiler, "-m", "bot", command, cwd=ROOT, env=os.environ | env,
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await ready()  # type: ignore[misc]
        yield process.pid
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 60)


async def _measured(samples: Samples, action: str, work: object, wait: float) -> object:
    """`work`'s result, its time recorded; None (recorded as lost) when it fails, times out or gets no answer."""
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(work, wait)  # type: ignore[arg-type]
    except Exception:
        result = None
    samples.setdefault(action, []).append(None if result is None else time.perf_counter() - started)
    return result


async def person(emu: BotApiEmulator, n: int, samples: Samples, wait: float) -> None:
    """One person's visit; an action that gets no answer ends the visit (what follows is counted lost too)."""
    user: SimulatedUser = emu.user(FIRST_ID + n, f"Load{n}", language_code="en", phone=f"+7917{n:07d}")

    async def register() -> object:
        await user.start()
        greeting = await user.wait_new(wait)
        await user.press(greeting.reply_markup["keyboard"][0][0]["text"])  # type: ignore[index]
        return await user.wait_new(wait)

    async def feed() -> object:
        await user.send("/feed")
        return await user.wait_text("Tickets on sale", wait)

    planned = ["register", "feed", *["next page"] * PAGES, *(["buy"] if n % 10 == 0 else [])]
    if await _measured(samples, "register", register(), wait) is None:
        return _lose(samples, planned[1:])
    page = await _measured(samples, "feed", feed(), wait)
    if page is None:
        return _lose(samples, planned[2:])
    for turned in range(PAGES):
        answer = await _measured(samples, "next page", user.click(page, translate("feed-next", "en")), wait)
        if answer is None:
            return _lose(samples, planned[2 + turned + 1 :])
    if n % 10 == 0:
        await _measured(samples, "buy", user.click(page, "Buy 1", timeout=wait), wait)
    return None


def _lose(samples: Samples, actions: list[str]) -> None:
    for action in actions:
        samples.setdefault(action, []).append(None)


async def crowd(emu: BotApiEmulator, users: int, seconds: float, wait: float) -> Samples:
    samples: Samples = {}

    async def arrive(n: int) -> None:
        await asyncio.sleep(seconds * n / users)
        await person(emu, n, samples, wait)

    await asyncio.gather(*(arrive(n) for n in range(users)))
    return samples


def report(title: str, samples: Samples, rss: dict[str, float], took: float, cpu: str) -> None:
    print(f"{title} ({took:.0f} s)")
    print(f"    {'action':<12} {'answered':>8} {'lost':>5} {'p50 ms':>7} {'p95 ms':>7}")
    for action, times in samples.items():
        answered = [t for t in times if t is not None]
        p50, p95 = percentiles(answered) if answered else (float("nan"), float("nan"))
        print(f"    {action:<12} {len(answered):8} {len(times) - len(answered):5} {p50:7.0f} {p95:7.0f}")
    lost = sum(t is None for times in samples.values() for t in times)
    print(f"    lost: {lost}; peak RSS: " + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in rss.items()))
    print(f"    {cpu}")


def _market(listings: int) -> list[Table]:
    # Around the real clock's now, which the bot processes run on: with the fixed NOW of the other benches (June
    # 2026) most events are past by now, and the start-up sweep expires them and tells thousands of sellers at the
    # notices' 25 a second, which outlasts the run and its shutdown.
    return [Table("users", USER_COLUMNS, user_rows()),
            Table("tickets", TICKET_COLUMNS, ticket_rows(listings, now=datetime.now(UTC)))]  # fmt: skip


def _env(emu: BotApiEmulator, database_url: str, data_dir: Path, redis_url: str = "") -> dict[str, str]:
    return {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": emu.base_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(data_dir),
        "POLLING_TIMEOUT": "5",
        "LOG_LEVEL": "ERROR",
    }


async def polling_sqlite(args: argparse.Namespace, folder: Path) -> None:
    await asyncio.to_thread(folder.mkdir, parents=True)
    path = folder / "load.db"
    await load_sqlite(path, _market(args.listings))
    async with BotApiEmulator(TOKEN, bot_username="stroboscope_load_bot") as emu:
        env = _env(emu, f"sqlite+aiosqlite:///{path}", folder / "data")
        profile = args.profile / "polling.prof" if args.profile else None
        async with bot_process(env, "run", lambda: emu.wait_polling(timeout=120), profile) as pid:
            meter = CpuMeter(emu, {"polling": pid})
            meter.start()
            started = time.perf_counter()
            samples = await crowd(emu, args.users, args.seconds, args.wait)
            took = time.perf_counter() - started
            cpu = meter.stop()
            rss = {"polling": _peak_rss_mib(pid)}
    title = f"(a) one polling process, SQLite, {args.users} people over {args.seconds:.0f} s"
    report(title, samples, rss, took, cpu)


async def _healthy(url: str) -> None:
    async with ClientSession() as http:
        for _ in range(1200):
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} never answered 200")


async def webhooks_postgresql(args: argparse.Namespace, folder: Path) -> None:
    await asyncio.to_thread(folder.mkdir, parents=True)
    async with scratch_postgresql(args.postgresql, "bench_load") as url:
        await load_postgresql(url, _market(args.listings))
        async with BotApiEmulator(TOKEN, bot_username="stroboscope_load_bot") as emu:
            ports = [_free_port(), _free_port()]
            envs = [
                _env(emu, url, folder / "data", args.redis)
                | {
                    "WEBHOOK_BASE_URL": f"http://127.0.0.1:{port}",
                    "WEBHOOK_SECRET": SECRET,
                    "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
                }
                for port in ports
            ]
            first, second = (lambda port=port: _healthy(f"http://127.0.0.1:{port}/healthz") for port in ports)
            profiles = [args.profile / f"webhook{n}.prof" if args.profile else None for n in (1, 2)]
            async with (
                bot_process(envs[0], "webhook", first, profiles[0]) as pid1,
                bot_process(envs[1], "webhook", second, profiles[1]) as pid2,
            ):
                emu.webhook_targets = [f"http://127.0.0.1:{port}/telegram" for port in ports]
                meter = CpuMeter(emu, {"webhook 1": pid1, "webhook 2": pid2})
                meter.start()
                started = time.perf_counter()
                samples = await crowd(emu, args.users, args.seconds, args.wait)
                took = time.perf_counter() - started
                cpu = meter.stop()
                rss = {"webhook 1": _peak_rss_mib(pid1), "webhook 2": _peak_rss_mib(pid2)}
    title = f"(b) two webhook instances, PostgreSQL and Redis, {args.users} people over {args.seconds:.0f} s"
    report(title, samples, rss, took, cpu)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0, help="the people arrive evenly over this span")
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--wait", type=float, default=20.0, help="seconds an action may wait for its answer")
    parser.add_argument("--postgresql", help="an admin URL: also run (b), two webhook instances")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6", help="Redis for (b)")
    parser.add_argument("--stacks", nargs="+", choices=["a", "b"], default=["a", "b"], help="(b) needs --postgresql")
    parser.add_argument("--profile", type=Path, help="run the bots under cProfile, the stats written to this folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        if "a" in args.stacks:
            await polling_sqlite(args, Path(folder) / "a")
        if args.postgresql and "b" in args.stacks:
            await webhooks_postgresql(args, Path(folder) / "b")


if __name__ == "__main__":
    asyncio.run(main())
