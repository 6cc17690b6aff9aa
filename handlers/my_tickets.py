"""My tickets: the seller's own tickets in tabs (On sale, Reserved, Sold, Expired, Withdrawn), five a page in one
message edited in place. On sale: Withdraw (after a confirmation) and Show barcode (re-rendered, protected)."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.markdown import html_decoration as hd

from bot.i18n import texts_for
from db.models import Ticket, User
from db.repo import Repo
from handlers.buy import PurchaseCD
from handlers.callback_ids import RowId
from handlers.editing import edit_in_place
from handlers.feed import decode, encode
from handlers.shared.formatting import describe_local
from handlers.ticket_text import event_type_label, money, seat_text
from services import listings
from services.barcodes import render_barcode_png
from services.clock import Clock
from services.crypto import Secrets
from services.errors import DomainError
from services.listings import SellerPage, Tab

router = Router(name=__name__)


class MyCD(CallbackData, prefix="my"):
    action: str  # tab | withdraw | confirm | barcode
    tab: str = Tab.ON_SALE.value
    at: int = 0  # page: the key of the page's first ticket (created_at in microseconds); 0 = the first page
    id: RowId = 0  # page: the key's ticket id; withdraw, confirm, barcode: the ticket


def _language() -> str:
    return get_i18n().current_locale


def _button(text: str, data: MyCD) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _card(ticket: Ticket, number: int, language: str) -> str:
    seat = seat_text(ticket)
    lines = [
        _("my-card-title").format(number=number, name=hd.quote(ticket.event_name), type=event_type_label(
            ticket.event_type)),
        f"{hd.quote(ticket.city_name)}, {hd.quote(ticket.venue)}",
        describe_local(ticket.event_at, ticket.city_tz, language, city_name=ticket.city_name),
    ]  # fmt: skip
    if seat:
        lines.append(_("my-card-seat").format(seat=hd.quote(seat)))
    lines.append(
        _("my-card-price").format(
            price=money(ticket.price, ticket.currency, language),
            face=money(ticket.face_value, ticket.currency, language),
            status=_(f"my-status-{ticket.status.value}"),
        )
    )
    return "\n".join(lines)


def _tabs(current: Tab) -> list[list[InlineKeyboardButton]]:
    buttons = [
        _button(("• " if tab == current else "") + _(f"my-tab-{tab.value}"), MyCD(action="tab", tab=tab.value))
        for tab in Tab
    ]
    return [buttons[:3], buttons[3:]]


def _render(page: SellerPage, tab: Tab, *, first: bool) -> tuple[str, InlineKeyboardMarkup]:
    language = _language()
    blocks = [_("my-title").format(tab=_(f"my-tab-{tab.value}"))]
    if not page.tickets:
        blocks.append(_(f"my-empty-{tab.value}"))
    rows = _tabs(tab)
    for number, ticket in enumerate(page.tickets, start=1):
        blocks.append(_card(ticket, number, language))
        if tab == Tab.ON_SALE:
            rows.append(
                [
                    _button(_("my-withdraw").format(number=number), MyCD(action="withdraw", id=ticket.id)),
                    _button(_("my-show-barcode").format(number=number), MyCD(action="barcode", id=ticket.id)),
                ]
            )
    navigation = []
    if page.next_key is not None:
        at, key = encode(page.next_key)
        navigation.append(_button(_("my-next"), MyCD(action="tab", tab=tab.value, at=at, id=key)))
    if not first:
        navigation.append(_button(_("my-first"), MyCD(action="tab", tab=tab.value)))
    rows.append(navigation)
    rows.append([_purchases_button()])
    return "\n\n".join(blocks), InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def _purchases_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("my-purchases"), callback_data=PurchaseCD(action="list").pack())


def _tab(value: str) -> Tab:
    return Tab(value) if value in Tab._value2member_map_ else Tab.ON_SALE


async def _view(repo: Repo, user: User, tab: Tab, at: int = 0, key: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    page = await listings.seller_page(repo, user, tab, decode(at, key))
    return _render(page, tab, first=at == 0)


@router.message(Command("my"))
@router.message(F.text.in_(texts_for("menu-my")))
async def open_my_tickets(message: Message, repo: Repo, user: User) -> None:
    text, markup = await _view(repo, user, Tab.ON_SALE)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MyCD.filter(F.action == "tab"))
async def show_tab(callback: CallbackQuery, callback_data: MyCD, repo: Repo, user: User) -> None:
    await callback.answer()
    view = await _view(repo, user, _tab(callback_data.tab), callback_data.at, callback_data.id)
    await edit_in_place(callback.message, *view)


@router.callback_query(MyCD.filter(F.action == "withdraw"))
async def ask_withdraw(callback: CallbackQuery, callback_data: MyCD, repo: Repo, user: User) -> None:
    try:
        ticket = await listings.withdrawable(repo, user, callback_data.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer()
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(_("my-withdraw-yes"), MyCD(action="confirm", id=ticket.id)),
                _button(_("my-withdraw-no"), MyCD(action="tab")),
            ]
        ]
    )
    text = _("my-withdraw-confirm").format(name=hd.quote(ticket.event_name))
    await edit_in_place(callback.message, text, markup)


@router.callback_query(MyCD.filter(F.action == "confirm"))
async def withdraw(callback: CallbackQuery, callback_data: MyCD, repo: Repo, user: User, clock: Clock) -> None:
    try:
        await listings.withdraw(repo, user, callback_data.id, clock.now())
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer(_("my-withdrawn"), show_alert=True)
    await edit_in_place(callback.message, *await _view(repo, user, Tab.ON_SALE))


@router.callback_query(MyCD.filter(F.action == "barcode"))
async def show_barcode(callback: CallbackQuery, callback_data: MyCD, repo: Repo, user: User, secrets: Secrets) -> None:
    try:
        ticket, barcode = await listings.reveal_barcode(repo, secrets, user, callback_data.id)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer()
    png = await asyncio.to_thread(render_barcode_png, barcode.format, barcode.text)
    if isinstance(callback.message, Message):
        caption = _("my-barcode-caption").format(name=hd.quote(ticket.event_name), label=hd.quote(barcode.label))
        await callback.message.answer_photo(
            BufferedInputFile(png, filename="ticket.png"), caption=caption, protect_content=True
        )
