"""The feed: tickets on sale, five a page in one message edited in place (Previous / Next), with filters by event
type, city and words of the event name shown in the header and clearable. Each card has a Buy button (handled in
handlers/buy.py), except the viewer's own tickets."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.markdown import html_decoration as hd

from bot.i18n import texts_for
from db.models import EventType, User
from db.repo import Repo
from db.repositories.feed import Key
from handlers.callback_ids import RowId
from handlers.city_picker import city_keyboard, picked_city
from handlers.editing import edit_in_place
from handlers.page_keys import from_micros, to_micros
from handlers.ticket_text import city_name, event_time, event_type_label, money
from services import feed
from services.clock import Clock
from services.feed import Direction, FeedCard, FeedPage, Filters, PageRef

router = Router(name=__name__)

FILTERS_KEY = "feed_filters"  # in the FSM data: the filters survive the pages and the pickers


class FeedCD(CallbackData, prefix="feed"):
    action: str  # page | types | type | city | setcity | search | clear
    at: int = 0  # the key of a page edge: created_at in microseconds since the epoch, 0 = the first page
    id: RowId = 0  # the key's ticket id; for setcity the city id
    dir: str = Direction.AT.value
    value: str = ""  # for type: the event type, "" = any


class BuyCD(CallbackData, prefix="buy"):
    """The Buy button of a card; `at`/`key` are the page it was drawn on, to redraw it when the ticket is gone."""

    action: str  # buy | wait
    id: RowId  # ticket id
    at: int = 0
    key: RowId = 0


class FeedInput(StatesGroup):
    city = State()
    search = State()


def encode(key: Key | None) -> tuple[int, int]:
    if key is None:
        return 0, 0
    return to_micros(key.created_at), key.ticket_id


def decode(at: int, ticket_id: int) -> Key | None:
    """The key a button carried; None for the first page, and for forged numbers (out of range)."""
    created_at = from_micros(at)
    if created_at is None or not 0 < ticket_id < 2**63:
        return None
    return Key(created_at, ticket_id)


def page_ref(at: int, ticket_id: int, direction: str = Direction.AT.value) -> PageRef:
    key = decode(at, ticket_id)
    if key is None or direction not in Direction._value2member_map_:
        return PageRef()
    return PageRef(key, Direction(direction))


async def current_filters(state: FSMContext) -> Filters:
    return Filters.from_data((await state.get_data()).get(FILTERS_KEY))


async def save_filters(state: FSMContext, filters: Filters) -> None:
    await state.update_data({FILTERS_KEY: filters.to_data()})


def _language() -> str:
    return get_i18n().current_locale


def _header(filters: Filters, page: FeedPage) -> str:
    parts = []
    if filters.event_type is not None:
        parts.append(event_type_label(filters.event_type))
    if filters.city_id is not None:
        parts.append(city_name(filters.city_id, _language()))
    if filters.text:
        parts.append(f"“{filters.text}”")
    shown = " · ".join(hd.quote(part) for part in parts)
    header = _("feed-title") + "\n" + (_("feed-filters").format(filters=shown) if parts else _("feed-no-filters"))
    if not page.cards:
        header += "\n\n" + (_("feed-empty-filtered") if parts else _("feed-empty"))
    return header


def _card(card: FeedCard, number: int, own: bool, language: str) -> str:
    ticket = card.ticket
    seat = ", ".join(part for part in (ticket.seat_section, ticket.seat_row, ticket.seat_number) if part)
    lines = [
        _("feed-card-title").format(number=number, name=hd.quote(ticket.event_name), type=event_type_label(
            ticket.event_type)),
        f"{hd.quote(city_name(ticket.city_id, language, ticket.city_name))}, {hd.quote(ticket.venue)}",
        hd.quote(event_time(ticket, language)),
    ]  # fmt: skip
    if seat:
        lines.append(_("feed-card-seat").format(seat=hd.quote(seat)))
    markup = round((ticket.price - ticket.face_value) * 100 / ticket.face_value) if ticket.face_value else 0
    lines.append(
        _("feed-card-price").format(
            price=money(ticket.price, ticket.currency, language),
            face=money(ticket.face_value, ticket.currency, language),
            markup=f"{markup:+d}",
        )
    )
    if own:
        lines.append(_("feed-card-yours"))
    else:
        lines.append(
            _("feed-card-seller").format(name=hd.quote(card.seller.first_name), sales=card.seller.completed_sales)
        )
    return "\n".join(lines)


def render(page: FeedPage, filters: Filters, viewer: User) -> tuple[str, InlineKeyboardMarkup]:
    language = _language()
    blocks = [_header(filters, page)]
    at, key = encode(page.first)
    rows: list[list[InlineKeyboardButton]] = []
    buy: list[InlineKeyboardButton] = []
    for number, card in enumerate(page.cards, start=1):
        own = card.ticket.seller_id == viewer.id
        blocks.append(_card(card, number, own, language))
        if not own:
            data = BuyCD(action="buy", id=card.ticket.id, at=at, key=key)
            buy.append(InlineKeyboardButton(text=_("feed-buy").format(number=number), callback_data=data.pack()))
    rows.append(buy)
    navigation = []
    if page.has_newer:
        first_at, first = encode(page.first)
        navigation.append(button("feed-previous", FeedCD(action="page", at=first_at, id=first, dir=Direction.NEWER)))
    if page.has_older:
        last_at, last = encode(page.last)
        navigation.append(button("feed-next", FeedCD(action="page", at=last_at, id=last, dir=Direction.OLDER)))
    rows.append(navigation)
    rows.append(
        [
            button("feed-filter-type", FeedCD(action="types")),
            button("feed-filter-city", FeedCD(action="city")),
            button("feed-filter-search", FeedCD(action="search")),
        ]
    )
    if filters.active:
        rows.append([button("feed-filter-clear", FeedCD(action="clear"))])
    return "\n\n".join(blocks), InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def button(key: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_(key), callback_data=data.pack())


async def _page_view(
    repo: Repo, clock: Clock, state: FSMContext, user: User, ref: PageRef
) -> tuple[str, InlineKeyboardMarkup]:
    filters = await current_filters(state)
    page = await feed.load_page(repo, filters, ref, clock.now())
    return render(page, filters, user)


async def show_first_page(message: Message, repo: Repo, clock: Clock, state: FSMContext, user: User) -> None:
    text, markup = await _page_view(repo, clock, state, user, PageRef())
    await message.answer(text, reply_markup=markup)


async def redraw(
    callback: CallbackQuery, repo: Repo, clock: Clock, state: FSMContext, user: User, ref: PageRef
) -> None:
    """Draw `ref`'s page over the callback's message (a no-op when nothing changed)."""
    if isinstance(callback.message, Message):
        await edit_in_place(callback.message, *await _page_view(repo, clock, state, user, ref))


@router.message(Command("feed"))
@router.message(F.text.in_(texts_for("menu-feed")))
async def open_feed(message: Message, repo: Repo, clock: Clock, state: FSMContext, user: User) -> None:
    await state.set_state(None)
    await show_first_page(message, repo, clock, state, user)


@router.callback_query(FeedCD.filter(F.action == "page"))
async def turn_page(
    callback: CallbackQuery, callback_data: FeedCD, repo: Repo, clock: Clock, state: FSMContext, user: User
) -> None:
    await callback.answer()
    await redraw(callback, repo, clock, state, user, page_ref(callback_data.at, callback_data.id, callback_data.dir))


@router.callback_query(FeedCD.filter(F.action == "clear"))
async def clear_filters(callback: CallbackQuery, repo: Repo, clock: Clock, state: FSMContext, user: User) -> None:
    await save_filters(state, Filters())
    await callback.answer(_("feed-filters-cleared"))
    await redraw(callback, repo, clock, state, user, PageRef())


# --- event type --------------------------------------------------------------------------------------------
@router.callback_query(FeedCD.filter(F.action == "types"))
async def pick_type(callback: CallbackQuery) -> None:
    keyboard = InlineKeyboardBuilder()
    for kind in EventType:
        keyboard.button(text=event_type_label(kind), callback_data=FeedCD(action="type", value=kind.value))
    keyboard.button(text=_("feed-type-any"), callback_data=FeedCD(action="type"))
    keyboard.adjust(2)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(_("feed-pick-type"), reply_markup=keyboard.as_markup())


@router.callback_query(FeedCD.filter(F.action == "type"))
async def set_type(
    callback: CallbackQuery, callback_data: FeedCD, repo: Repo, clock: Clock, state: FSMContext, user: User
) -> None:
    value = callback_data.value
    kind = EventType(value) if value in EventType._value2member_map_ else None
    filters = await current_filters(state)
    await save_filters(state, Filters(kind, filters.city_id, filters.text))
    await callback.answer()
    await redraw(callback, repo, clock, state, user, PageRef())


# --- city --------------------------------------------------------------------------------------------------
@router.callback_query(FeedCD.filter(F.action == "city"))
async def ask_city(callback: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(FeedInput.city)
    await callback.answer()
    keyboard = InlineKeyboardBuilder()
    if (await current_filters(state)).city_id is not None:
        keyboard.button(text=_("feed-city-any"), callback_data=FeedCD(action="setcity"))
    if isinstance(callback.message, Message):
        await callback.message.answer(_("feed-ask-city"), reply_markup=keyboard.as_markup())


@router.message(FeedInput.city, F.text, ~F.text.startswith("/"))
async def city_typed(message: Message) -> None:
    markup = city_keyboard(message.text or "", _language(), lambda city: FeedCD(action="setcity", id=city.id))
    if markup is None:
        await message.answer(_("feed-city-not-found"))
        return
    await message.answer(_("feed-pick-city"), reply_markup=markup)


@router.callback_query(FeedCD.filter(F.action == "setcity"))
async def set_city(
    callback: CallbackQuery, callback_data: FeedCD, repo: Repo, clock: Clock, state: FSMContext, user: User
) -> None:
    city_id = callback_data.id if picked_city(callback_data.id) is not None else None
    filters = await current_filters(state)
    await save_filters(state, Filters(filters.event_type, city_id, filters.text))
    await state.set_state(None)
    await callback.answer()
    await redraw(callback, repo, clock, state, user, PageRef())


# --- search ------------------------------------------------------------------------------------------------
@router.callback_query(FeedCD.filter(F.action == "search"))
async def ask_search(callback: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(FeedInput.search)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("feed-ask-search"))


@router.message(FeedInput.search, F.text, ~F.text.startswith("/"))
async def search_typed(message: Message, repo: Repo, clock: Clock, state: FSMContext, user: User) -> None:
    text = feed.clean_search(message.text or "")
    if text is None:
        await message.answer(_("feed-search-empty"))
        return
    filters = await current_filters(state)
    await save_filters(state, Filters(filters.event_type, filters.city_id, text))
    await state.set_state(None)
    await show_first_page(message, repo, clock, state, user)


@router.message(FeedInput.city, ~F.text)
@router.message(FeedInput.search, ~F.text)
async def not_text(message: Message) -> None:
    await message.answer(_("feed-send-text"))
