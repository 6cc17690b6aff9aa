"""Paying: pre-checkout, the payment (recorded, or refunded when the ticket can't be the payer's), with the ticket's
delivery to the buyer alone and the seller's notice queued in the outbox. Its router comes first: money that arrived
is recorded whatever the payer was doing (a wizard step, a search prompt) when Telegram confirmed it."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.types import Message, PreCheckoutQuery
from aiogram.utils.i18n import gettext as _

from bot.settings import Settings
from db.models import User
from db.repo import Repo
from handlers.payments.delivery import refund
from services import deliveries, orders
from services.clock import Clock
from services.errors import DomainError
from services.orders import Outcome, Payment
from services.rules import PaymentRules

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
) -> None:
    """Recorded, with everything it owes people queued in the outbox, in the update's one transaction (committed
    before the runner acknowledges the update); the outbox worker delivers it through any Telegram error."""
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
    await deliveries.enqueue_payment(repo, result, settings.admin_ids)
    if result.outcome == Outcome.REFUND and result.refund is not None and result.refund.currency == orders.STARS:
        await repo.commit()  # the refund row first: a crash after refundStarPayment is completed by the reconciler
        await refund(bot, repo, clock, settings.admin_ids, result.refund)


async def refunded_notice(message: Message) -> None:
    """Telegram's service message about a refund we made: the buyer was already told."""


def create_router() -> Router:
    """A fresh router with the payment handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(paid, F.successful_payment, flags={"public": True})
    router.message.register(refunded_notice, F.refunded_payment, flags={"public": True})
    return router
