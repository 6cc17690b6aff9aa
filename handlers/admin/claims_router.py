"""Admins and ownership claims: /claims lists the open ones (the listing, who claims it, since when) with Block the
listing (the claimant may then list the ticket) and Dismiss (the listing back on sale); both sides are told."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from bot.filters import IsAdmin
from db.models import User
from db.repo import Repo
from handlers.admin.callbacks import ClaimDecisionCD
from handlers.shared.cards import ticket_line
from services import claims, deliveries, orders
from services.clock import Clock


def _decision_keyboard(claim_id: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text=_(key), callback_data=ClaimDecisionCD(claim=claim_id, uphold=uphold).pack())
        for key, uphold in (("admin-claim-uphold", True), ("admin-claim-dismiss", False))
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


async def list_claims(message: Message, repo: Repo, user: User) -> None:
    open_claims = await claims.open_claims(repo)
    if not open_claims:
        await message.answer(_("admin-claims-none"))
        return
    for claim in open_claims:
        ticket = await orders.ticket_by_id(repo, claim.ticket_id)
        assert ticket is not None
        text = _("admin-claim-line").format(
            claim=claim.id, ticket=ticket.id, event=hd.quote(ticket_line(ticket, user.language)),
            claimant=claim.claimant_id, seller=ticket.seller_id, at=claim.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        )  # fmt: skip
        await message.answer(text, reply_markup=_decision_keyboard(claim.id))


async def decide(callback: CallbackQuery, callback_data: ClaimDecisionCD, repo: Repo, clock: Clock) -> None:
    outcome = await claims.resolve(
        repo, callback.from_user.id, callback_data.claim, uphold=callback_data.uphold, now=clock.now()
    )
    upheld = callback_data.uphold
    await deliveries.enqueue_claim_decided(repo, outcome.claim, outcome.claimant, outcome.seller)  # before a word
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        text = _("admin-claim-upheld") if upheld else _("admin-claim-dismissed")
        await callback.message.answer(text.format(claim=outcome.claim.id))


def create_claims_router() -> Router:
    """A fresh router with the admins' claim handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    router.message.register(list_claims, Command("claims"))
    router.callback_query.register(decide, ClaimDecisionCD.filter())
    return router
