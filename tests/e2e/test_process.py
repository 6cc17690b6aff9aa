"""`python -m bot` as a real process: the one-line settings errors, `migrate`, and serving people through the
emulator until a signal stops it."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bot.i18n import translate
from bot.log import MaskPhones
from bot.settings import Settings
from sandbox.emulator import BotApiEmulator
from tests.factories import TOKEN


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The environment without any of the bot's settings (a developer's shell may have some), plus `values`."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    return env | {"DATA_DIR": str(tmp_path / "data")} | values


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env there
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "BOT_TOKEN is not set"),
        ({"BOT_TOKEN": ""}, "BOT_TOKEN is not set"),
        ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN is malformed"),
        ({"BOT_TOKEN": "123456:short"}, "BOT_TOKEN is malformed"),
        ({"BOT_TOKEN": TOKEN, "ADMIN_IDS": "12, bob"}, "ADMIN_IDS is invalid"),
        ({"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "localhost:8081"}, "TELEGRAM_API_URL is invalid"),
        ({"BOT_TOKEN": TOKEN, "DATABASE_URL": "postgresql://db.example/bot"}, "DATABASE_URL is invalid"),
    ],
)
def test_a_missing_or_malformed_setting_is_one_line_and_exit_2(tmp_path: Path, env: dict[str, str], says: str) -> None:
    result = run_bot(tmp_path, **env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(says), result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_upgrades_the_schema_and_exits(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "bot.db"
    result = run_bot(tmp_path, "migrate", DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Applied: 0001 initial schema, 0002 ") and len(result.stdout.splitlines()) == 1
    with sqlite3.connect(db) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"users", "tickets", "orders", "fsm_states", "alembic_version"} <= tables
    again = run_bot(tmp_path, "migrate", DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "Nothing to do: the schema is up to date.\n"
    unknown = run_bot(tmp_path, "nonsense")
    assert unknown.returncode == 2 and unknown.stderr.startswith("usage:")


def test_help_lists_every_command_on_a_line_and_exits_0(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "usage: python -m bot [command]"
    commands = [line.split()[0] for line in lines if line.startswith("  ")]
    assert commands == ["run", "webhook", "migrate"]


def test_webhook_mode_without_its_address_or_secret_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "webhook", BOT_TOKEN=TOKEN, WEBHOOK_BASE_URL="https://bot.example.org")
    assert result.returncode == 2
    assert result.stderr == "Webhook mode needs WEBHOOK_BASE_URL and WEBHOOK_SECRET (see .env.example).\n"


def test_an_unreachable_database_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "migrate", DATABASE_URL="postgresql+asyncpg://postgres:secret@127.0.0.1:9/nope")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Can't use the database at postgresql+asyncpg://postgres:***@127.0.0.1:9/nope: "
        "[Errno 111] Connect call failed ('127.0.0.1', 9) (check DATABASE_URL)."
    ]


LOGS: dict[int, Path] = {}  # each started bot's log file, by pid


async def start_bot(tmp_path: Path, emu: BotApiEmulator, *args: str, **settings: str) -> asyncio.subprocess.Process:
    """`python -m bot *args` on the emulator, on a SQLite file in `tmp_path` unless `settings` say otherwise."""
    env = clean_env(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=emu.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}",
        POLLING_TIMEOUT="2",
        LOG_LEVEL="DEBUG",
    )
    # The log goes to a file, not a pipe: a DEBUG log nobody reads until the end would fill the pipe and stall the bot.
    log_path = tmp_path / f"bot-{uuid.uuid4().hex[:8]}.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env | settings,
            stdout=asyncio.subprocess.DEVNULL, stderr=log_file,
        )  # fmt: skip
    LOGS[process.pid] = log_path
    await emu.wait_polling(timeout=120)  # a loaded 2-core machine takes its time to import aiogram
    return process


async def stop_bot(process: asyncio.subprocess.Process, how: signal.Signals) -> str:
    process.send_signal(how)
    await asyncio.wait_for(process.wait(), 30)
    log = LOGS.pop(process.pid).read_text(errors="replace")
    assert process.returncode == 0, log
    assert "Traceback" not in log and "ERROR" not in log, log
    return log


async def test_the_real_process_serves_people_and_stops_cleanly(tmp_path: Path) -> None:
    async with BotApiEmulator(TOKEN) as emu:
        process = await start_bot(tmp_path, emu)
        try:
            anna = emu.user(6001, "Anna", language_code="en", phone="+79160006001")
            await anna.start()
            greeting = await anna.wait_new(timeout=15)
            await anna.press(greeting.keyboard[0][0])
            assert (await anna.wait_new()).content == translate("reg-done", "en", name="Anna")
            await anna.send("/profile")
            assert "+7 *** *** 60 01" in (await anna.wait_new()).content
        except BaseException:
            process.kill()
            raise
        log = await stop_bot(process, signal.SIGTERM)
        assert "Serving as @stroboscope_test_bot" in log
        assert "9160006001" not in log  # phones never reach the log in the clear, even at DEBUG
        assert emu.commands_for(6001, "ru")

        process = await start_bot(tmp_path, emu)  # the same data: the account is still there
        try:
            await anna.start()
            assert (await anna.wait_new(timeout=15)).content == translate("reg-welcome-back", "en", name="Anna")
        except BaseException:
            process.kill()
            raise
        await stop_bot(process, signal.SIGINT)
        assert emu.unknown_methods == []


async def test_a_token_the_api_rejects_is_one_line_and_exit_2(tmp_path: Path) -> None:
    async with BotApiEmulator("987654321:" + "B" * 35) as emu:  # knows another bot only: 401 Unauthorized
        env = clean_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=emu.base_url, LOG_LEVEL="CRITICAL")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 2
    assert stderr.decode().startswith("BOT_TOKEN was rejected") and len(stderr.decode().splitlines()) == 1


def test_log_lines_mask_phones_and_keep_dates() -> None:
    args = ("+7 916 123-45-67", "79161234567", "2026-11-25 15:42:01", 100000004)
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "phones %s and %s at %s, update %s", args, None)
    MaskPhones().filter(record)
    line = record.getMessage()
    assert "123-45" not in line and "9161234" not in line
    assert line.endswith("at 2026-11-25 15:42:01, update 100000004")
