"""My tickets: the seller's own tickets in tabs (On sale, Reserved, Sold, Expired, Withdrawn), five a page in one
message edited in place. On sale: Withdraw (after a confirmation) and Show barcode (re-rendered, protected)."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from bot.i18n import texts_for
from db.models import User
from db.repo import Repo
from handlers.my_tickets.callbacks import MyAction, MyCD
from handlers.my_tickets.keyboards import confirm_keyboard, page_keyboard
from handlers.my_tickets.views import page_text
from handlers.shared.editing import edit_in_place
from handlers.shared.paging import decode
from services import listings
from services.clock import Clock
from services.crypto import Secrets
from services.errors import DomainError
from services.listings import Tab


async def _view(repo: Repo, user: User, tab: Tab, at: int = 0, key: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    page = await listings.seller_page(repo, user, tab, decode(at, key))
    return page_text(page, tab, get_i18n().current_locale), page_keyboard(page, tab, first=at == 0)


async def open_my_tickets(message: Message, repo: Repo, user: User) -> None:
    text, markup = await _view(repo, user, Tab.ON_SALE)
    await message.answer(text, reply_markup=markup)


async def show_tab(callback: CallbackQuery, callback_data: MyCD, repo: Repo, user: User) -> None:
    await callback.answer()
    view = await _view(repo, user, callback_data.tab, callback_data.at, callback_data.key)
    await edit_in_place(callback.message, *view)


async def ask_withdraw(callback: CallbackQuery, callback_data: MyCD, repo: Repo, user: User) -> None:
    try:
        ticket = await listings.withdrawable(repo, user, callback_data.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer()
    text = _("my-withdraw-confirm").format(name=hd.quote(ticket.event_name))
    await edit_in_place(callback.message, text, confirm_keyboard(ticket.id))


async def withdraw(callback: CallbackQuery, callback_data: MyCD, repo: Repo, user: User, clock: Clock) -> None:
    try:
        await listings.withdraw(repo, user, callback_data.id, clock.now())
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer(_("my-withdrawn"), show_alert=True)
    await edit_in_place(callback.message, *await _view(repo, user, Tab.ON_SALE))


async def show_barcode(callback: CallbackQuery, callback_data: MyCD, repo: Repo, user: User, secrets: Secrets) -> None:
    try:
        ticket, barcode = await listings.reveal_barcode(repo, secrets, user, callback_data.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer()
    from services.barcodes import render_barcode_png  # the image libraries: on first use (services/barcode_values.py)

    png = await asyncio.to_thread(render_barcode_png, barcode.format, barcode.text)
    if isinstance(callback.message, Message):
        caption = _("my-barcode-caption").format(name=hd.quote(ticket.event_name), label=hd.quote(barcode.label))
        await callback.message.answer_photo(
            BufferedInputFile(png, filename="ticket.png"), caption=caption, protect_content=True
        )


def create_router() -> Router:
    """A fresh router with My tickets' handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(open_my_tickets, F.text.in_(texts_for("menu-my")))
    router.message.register(open_my_tickets, Command("my"))
    router.callback_query.register(show_tab, MyCD.filter(F.action == MyAction.TAB))
    router.callback_query.register(ask_withdraw, MyCD.filter(F.action == MyAction.WITHDRAW))
    router.callback_query.register(withdraw, MyCD.filter(F.action == MyAction.CONFIRM))
    router.callback_query.register(show_barcode, MyCD.filter(F.action == MyAction.BARCODE))
    return router
