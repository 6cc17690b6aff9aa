"""The command line: `python -m bot [run | webhook | migrate | --help]` (see USAGE).

What keeps the bot from starting is one line on stderr, never a traceback: exit code 2 for a setting to fix (missing
or malformed, or a token the Bot API rejects), 1 for a server that can't be reached (the Bot API, the database)."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.log import configure_logging
from bot.settings import DatabaseSettings, Settings

COMMANDS = {
    "run": "serve people by long polling (the default)",
    "webhook": "serve people through a webhook server (WEBHOOK_* settings), for several instances",
    "migrate": "upgrade the database schema to the latest migration and exit",
}
USAGE = "usage: python -m bot [command]\n\ncommands:\n" + "".join(
    f"  {name:<8} {what}\n" for name, what in COMMANDS.items()
)


def _settings_error(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "settings"
    if name == "BOT_TOKEN":
        if first["type"] == "missing":
            return "BOT_TOKEN is not set: put BOT_TOKEN=<token from @BotFather> in .env or the environment."
        return "BOT_TOKEN is malformed: it must look like 123456789:AA... (the token @BotFather gave you)."
    return f"{name} is invalid: {first['msg']} (see .env.example)."


async def _migrate(settings: DatabaseSettings) -> list[str]:
    from db.engine import create_engine
    from db.migrate import upgrade_to_head

    engine = create_engine(settings.database_url)
    try:
        return await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def _run(settings: Settings, command: str) -> None:
    from bot.app import build_app, freeze_start_up_heap, serve, serve_webhook

    app = await build_app(settings)
    freeze_start_up_heap()
    await (serve_webhook(app) if command == "webhook" else serve(app))


def _startup_error(settings: DatabaseSettings, error: DBAPIError | OSError) -> str:
    if isinstance(error, OSError) and error.filename:
        return f"Can't use {error.filename}: {error.strerror} (check DATA_DIR, STORAGE_DIR and DATABASE_URL)."
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    reason = error.orig if isinstance(error, DBAPIError) else error
    return f"Can't use the database at {where}: {str(reason).splitlines()[0]} (check DATABASE_URL)."


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--help"], ["-h"]):
        print(USAGE, end="")
        return 0
    command = args[0] if len(args) == 1 else "run" if not args else ""
    if command not in COMMANDS:
        print(USAGE, end="", file=sys.stderr)
        return 2
    try:
        settings = DatabaseSettings() if command == "migrate" else Settings()
    except ValidationError as error:
        print(_settings_error(error), file=sys.stderr)
        return 2
    configure_logging(getattr(settings, "log_level", "INFO"))
    try:
        if command == "migrate":
            applied = asyncio.run(_migrate(settings))
            print("Applied: " + ", ".join(applied) + "." if applied else "Nothing to do: the schema is up to date.")
            return 0
        assert isinstance(settings, Settings)
        if command == "webhook" and not (settings.webhook_base_url and settings.webhook_secret):
            print("Webhook mode needs WEBHOOK_BASE_URL and WEBHOOK_SECRET (see .env.example).", file=sys.stderr)
            return 2
        return _serve(settings, command)
    except (DBAPIError, OSError) as error:
        print(_startup_error(settings, error), file=sys.stderr)
        return 1


def _serve(settings: Settings, command: str) -> int:
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(settings, command))
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
