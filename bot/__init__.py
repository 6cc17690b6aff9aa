"""The bot's entry point and wiring: settings, rules, i18n, middlewares, runners, scheduler, workers.

First of all, aiogram is imported with its Bot API types built on first use (bot/lazy_types.py): ~100 MiB less in
every process that imports the bot."""

import bot.lazy_types  # noqa: F401
