"""The one errors router: a refusal a service raised (`DomainError`) is told to the user in their language; any
other exception gets a short apology (after a payment: the payment is safe), one log line with the update id and a
notice to the admins, at most one a minute."""

from __future__ import annotations

import logging
import time
import traceback

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Update

from bot.i18n import language_for, translate
from bot.settings import Settings
from services.errors import DomainError

log = logging.getLogger(__name__)

ADMIN_NOTICE_SECONDS = 60.0  # a burst of failures tells the admins once, not once per update


def _language(update: Update) -> str:
    event = update.message or update.callback_query or update.pre_checkout_query
    user = event.from_user if event is not None else None
    return language_for(user.language_code if user else None)


async def _tell_user(update: Update, text: str) -> None:
    """Answer the update's person; a failure to do so is only logged (the error is already being handled)."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
        elif update.pre_checkout_query is not None:
            await update.pre_checkout_query.answer(ok=False, error_message=text)
    except TelegramAPIError as error:
        log.warning("update %s: the user could not be told: %s", update.update_id, type(error).__name__)


async def domain_error(event: ErrorEvent) -> None:
    error = event.exception
    assert isinstance(error, DomainError)
    await _tell_user(event.update, translate(error.code, _language(event.update), **error.params))


def _where(error: BaseException) -> str:
    """The innermost frame of a traceback: where, never what (an exception's text may carry a barcode or a phone)."""
    frames = traceback.extract_tb(error.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


class AdminAlarm:
    """When the admins were last told of a failure: a burst of them tells the admins once a minute."""

    def __init__(self) -> None:
        self.last = -ADMIN_NOTICE_SECONDS

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last < ADMIN_NOTICE_SECONDS:
            return False
        self.last = now
        return True


async def unexpected_error(event: ErrorEvent, bot: Bot, settings: Settings, alarm: AdminAlarm) -> None:
    update, error = event.update, event.exception
    log.error("update %s failed: %s at %s", update.update_id, type(error).__name__, _where(error))
    paid = update.message is not None and update.message.successful_payment is not None
    key = "errors-payment-safe" if paid else "errors-unexpected"
    await _tell_user(update, translate(key, _language(update)))
    if not alarm.due():
        return
    text = translate("errors-admin-notice", "en", update_id=update.update_id, kind=type(error).__name__)
    for admin_id in settings.admin_ids:
        try:
            await bot.send_message(admin_id, text)
        except TelegramAPIError as failure:
            log.warning("admin %s not told of a failed update: %s", admin_id, type(failure).__name__)


def create_router() -> Router:
    """A fresh errors router (one per dispatcher): refusals first, then everything else."""
    router = Router(name=__name__)
    router.errors.register(domain_error, ExceptionTypeFilter(DomainError))
    alarm = AdminAlarm()

    async def any_error(event: ErrorEvent, bot: Bot, settings: Settings) -> None:
        await unexpected_error(event, bot, settings, alarm)

    router.errors.register(any_error)
    return router
