"""Paying: pre-checkout, the payment (recorded, or refunded when the ticket can't be the payer's), the ticket's
delivery to the buyer alone, the seller's notice. Its router comes first: money that arrived is recorded whatever
the payer was doing (a wizard step, a search prompt) when Telegram confirmed it."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.types import Message, PreCheckoutQuery
from aiogram.utils.i18n import gettext as _

from bot.notifier import Notifier
from bot.settings import Settings
from db.models import User
from db.repo import Repo
from handlers.notices import tell_seller_sold
from handlers.payments.delivery import refund, send_ticket
from handlers.shared.display import REFUND_REASON_KEYS
from services import accounts, groups, orders
from services.clock import Clock
from services.crypto import Secrets
from services.errors import DomainError
from services.orders import Outcome, Payment
from services.rules import PaymentRules
from services.storage import PhotoStorage

log = logging.getLogger(__name__)


async def pre_checkout(query: PreCheckoutQuery, repo: Repo, clock: Clock, user: User | None) -> None:
    """Answered from one indexed read, well within Telegram's 10 seconds."""
    try:
        await orders.check_checkout(repo, clock.now(), user, query.invoice_payload, query.currency, query.total_amount)
    except DomainError as error:
        await query.answer(ok=False, error_message=_(error.code))
        return
    await query.answer(ok=True)


async def paid(
    message: Message,
    bot: Bot,
    repo: Repo,
    settings: Settings,
    payment_rules: PaymentRules,
    clock: Clock,
    user: User | None,
    notifier: Notifier,
    secrets: Secrets,
    photo_storage: PhotoStorage,
) -> None:
    success = message.successful_payment
    assert success is not None and message.from_user is not None
    payment = Payment(
        payload=success.invoice_payload,
        currency=success.currency,
        total_amount=success.total_amount,
        telegram_charge_id=success.telegram_payment_charge_id,
        provider_charge_id=success.provider_payment_charge_id,
        payer_telegram_id=message.from_user.id,
    )
    result = await orders.record_payment(repo, payment_rules, clock.now(), user, payment)
    if result.outcome == Outcome.DUPLICATE:
        log.info("payment %s delivered again: nothing to do", payment.telegram_charge_id)
        return
    if result.outcome == Outcome.REFUND:
        assert result.refund is not None
        await refund(bot, repo, clock, notifier, settings, result.refund)
        await message.answer(_(REFUND_REASON_KEYS[result.reason]))
        return
    assert result.order is not None and result.ticket is not None and user is not None
    await message.answer(_("buy-paid"))
    unit = await groups.unit_of(repo, result.ticket.id)  # seats sold together: every barcode
    try:
        for ticket in unit.tickets if unit else [result.ticket]:
            await send_ticket(bot, user, result.order, ticket, secrets, photo_storage)
    finally:  # the sale stands either way (My purchases shows the ticket again): the seller hears of it
        seller = await accounts.by_id(repo, result.ticket.seller_id)
        if seller is not None and result.payout is not None:
            await tell_seller_sold(notifier, seller, result.ticket, result.payout)


async def refunded_notice(message: Message) -> None:
    """Telegram's service message about a refund we made: the buyer was already told."""


def create_router() -> Router:
    """A fresh router with the payment handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(paid, F.successful_payment, flags={"public": True})
    router.message.register(refunded_notice, F.refunded_payment, flags={"public": True})
    return router
