"""The test suite.

The bot package first, as in the bot's own process: it imports aiogram with its types built on first use
(bot/lazy_types.py), which has to happen before any test module imports aiogram."""

import bot  # noqa: F401
