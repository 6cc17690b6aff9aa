"""The bot's command list in Telegram's menu, in English and Russian."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand

from bot.i18n import LANGUAGES, i18n

COMMANDS = ("start", "profile", "help", "cancel")


async def set_commands(bot: Bot) -> None:
    for language in LANGUAGES:
        commands = [
            BotCommand(command=name, description=i18n.gettext(f"command-{name}", locale=language)) for name in COMMANDS
        ]
        await bot.set_my_commands(commands, language_code=None if language == "en" else language)
