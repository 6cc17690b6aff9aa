"""The bot's command list in Telegram's menu: the public commands for everyone, in English (the default) and
Russian; each admin's own chat also lists the admin commands, in the admin's language. Telegram refuses a chat
scope for a chat that never talked to the bot, so an admin who hasn't yet gets theirs at their first /admin."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BotCommand, BotCommandScopeChat
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import LANGUAGES, translate
from db.repo import Repo

log = logging.getLogger(__name__)

COMMANDS = ("start", "feed", "sell", "my", "purchases", "chats", "alerts", "profile", "help", "cancel")
ADMIN_COMMANDS = ("admin", "outdated", "ticket", "ban", "unban", "disputes", "payouts", "refunds", "claims", "outbox")
COMMAND_KEYS = {  # literal keys, never built at run time: the i18n test finds each one in the catalogues
    "start": "command-start",
    "feed": "command-feed",
    "sell": "command-sell",
    "my": "command-my",
    "purchases": "command-purchases",
    "chats": "command-chats",
    "alerts": "command-alerts",
    "profile": "command-profile",
    "help": "command-help",
    "cancel": "command-cancel",
    "admin": "command-admin",
    "outdated": "command-outdated",
    "ticket": "command-ticket",
    "ban": "command-ban",
    "unban": "command-unban",
    "disputes": "command-disputes",
    "payouts": "command-payouts",
    "refunds": "command-refunds",
    "claims": "command-claims",
    "outbox": "command-outbox",
}


def command_list(names: Sequence[str], language: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=translate(COMMAND_KEYS[name], language)) for name in names]


async def set_commands(bot: Bot, admin_languages: dict[int, str]) -> None:
    for language in LANGUAGES:
        code = None if language == "en" else language
        await bot.set_my_commands(command_list(COMMANDS, language), language_code=code)
    for admin_id, language in admin_languages.items():
        await set_admin_commands(bot, admin_id, language)


async def set_admin_commands(bot: Bot, admin_id: int, language: str) -> bool:
    """The public and the admin commands in the admin's chat; False when Telegram doesn't know that chat yet."""
    commands = command_list(COMMANDS + ADMIN_COMMANDS, language)
    try:
        return await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=admin_id))
    except (TelegramBadRequest, TelegramForbiddenError) as error:
        log.info("admin %s: no command list yet (%s); set at their /admin", admin_id, error.message)
        return False


async def admin_languages(sessionmaker: async_sessionmaker[AsyncSession], admin_ids: Sequence[int]) -> dict[int, str]:
    """Each admin's language, from their account (English before they register)."""
    languages: dict[int, str] = {}
    async with sessionmaker() as session:
        repo = Repo(session)
        for admin_id in admin_ids:
            account = await repo.users.by_telegram_id(admin_id)
            languages[admin_id] = account.language if account else "en"
    return languages
