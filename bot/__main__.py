"""`python -m bot` runs the bot; `python -m bot migrate` upgrades the database schema and exits."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from pydantic import ValidationError

from bot.log import configure_logging
from bot.settings import DatabaseSettings, Settings


def _settings_error(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "settings"
    if name == "BOT_TOKEN":
        if first["type"] == "missing":
            return "BOT_TOKEN is not set: put BOT_TOKEN=<token from @BotFather> in .env or the environment."
        return "BOT_TOKEN is malformed: it must look like 123456789:AA... (the token @BotFather gave you)."
    return f"{name} is invalid: {first['msg']} (see .env.example)."


async def _migrate() -> None:
    from db.engine import create_engine
    from db.migrate import upgrade_to_head

    engine = create_engine(DatabaseSettings().database_url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def _run(settings: Settings) -> None:
    from bot.app import build_app, serve

    await serve(await build_app(settings))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["migrate"]:
        configure_logging("INFO")
        asyncio.run(_migrate())
        print("Database schema is up to date.")
        return 0
    if args:
        print("usage: python -m bot [migrate]", file=sys.stderr)
        return 2
    try:
        settings = Settings()
    except ValidationError as error:
        print(_settings_error(error), file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(settings))
    except TelegramUnauthorizedError:
        print("BOT_TOKEN was rejected by the Bot API (Unauthorized): check the token @BotFather gave.", file=sys.stderr)
        return 2
    except TelegramNetworkError as error:
        where = settings.telegram_api_url or "api.telegram.org"
        print(f"Can't reach the Bot API at {where}: {error.message} (check TELEGRAM_API_URL).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
