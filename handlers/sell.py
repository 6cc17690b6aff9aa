"""Sell: the listing wizard. Each step is a state of SellWizard; every prompt has Back and Cancel. The draft lives in
the FSM data (so the wizard survives a restart) with the barcode sealed; after each answer the wizard goes to the
first step still unanswered, or to the summary (Publish / Edit / Cancel) when none is left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from io import BytesIO
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.markdown import html_decoration as hd

from bot.i18n import texts_for
from bot.settings import Settings
from db.models import EventType, User
from db.repo import Repo
from handlers.callback_ids import RowId
from handlers.city_picker import city_keyboard, picked_city
from handlers.menu import NOT_NAVIGATION, main_menu
from handlers.shared.formatting import describe_local, seat_label
from handlers.ticket_text import event_type_label, money
from services import listings
from services.amounts import parse_amount
from services.clock import Clock
from services.crypto import Secrets
from services.dates import parse_event_datetime
from services.draft import STEPS, Draft, Step
from services.errors import DomainError
from services.pricing import check_price, max_price
from services.rules import ListingRules
from services.seats import parse_seat
from services.storage import PhotoStorage
from services.text import parse_event_name, parse_venue

router = Router(name=__name__)

DRAFT_KEY = "sell_draft"
PICK = "pick"  # the barcode choice after a photo with several
SUMMARY = "summary"
TYPED = F.text & NOT_NAVIGATION


class SellWizard(StatesGroup):
    type = State()
    name = State()
    city = State()
    venue = State()
    when = State()
    seat = State()
    face = State()
    price = State()
    photo = State()
    pick = State()
    summary = State()


STATES: dict[str, State] = {state.state.split(":", 1)[1]: state for state in SellWizard.__all_states__}


class SellCD(CallbackData, prefix="sell"):
    action: str  # type | city | skip | pick | back | cancel | publish | edit | goto
    step: str  # the step the button was drawn on: a button from an older step is stale
    value: str = ""  # type: the event type; goto: the step to edit
    id: RowId = 0  # city: the city id; pick: the barcode's index


def _language() -> str:
    return get_i18n().current_locale


def _button(key: str, data: SellCD) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_(key), callback_data=data.pack())


def _navigation(step: str, *, back: bool = True) -> list[InlineKeyboardButton]:
    row = [_button("sell-back", SellCD(action="back", step=step))] if back else []
    return [*row, _button("sell-cancel", SellCD(action="cancel", step=step))]


def _markup(step: str, *rows: list[InlineKeyboardButton], back: bool = True) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[*rows, _navigation(step, back=back)])


def _refusal(code: str, params: dict[str, object], settings: Settings) -> str:
    """The text of a refusal; the price cap in it as money."""
    params = dict(params)
    if isinstance(params.get("max_price"), int):
        params["max_price"] = money(params["max_price"], settings.currency, _language())  # type: ignore[arg-type]
    return _(code).format(**params)


def _input_error(error: DomainError, settings: Settings) -> str:
    return _refusal(f"sell-error-{error.code}", error.params, settings)


def _listing_error(error: DomainError, settings: Settings) -> str:
    return _refusal(error.code, error.params, settings)


async def _draft(state: FSMContext) -> Draft:
    return Draft.from_data((await state.get_data()).get(DRAFT_KEY))


async def _save(state: FSMContext, draft: Draft) -> None:
    await state.update_data({DRAFT_KEY: draft.to_data()})


# --- prompts -----------------------------------------------------------------------------------------------------
def _summary(draft: Draft, secrets: Secrets, settings: Settings) -> str:
    assert draft.event_type and draft.event_at and draft.city_tz and draft.barcode
    language = _language()
    barcode = draft.barcode.open(secrets)
    seat = seat_label(draft.seat, language) if draft.seat else _("sell-seat-none")
    return _("sell-summary").format(
        type=event_type_label(draft.event_type),
        name=hd.quote(draft.name or ""),
        city=hd.quote(draft.city_name or ""),
        venue=hd.quote(draft.venue or ""),
        when=describe_local(draft.event_at, draft.city_tz, language, city_name=draft.city_name),
        seat=hd.quote(seat),
        price=money(draft.price or 0, settings.currency, language),
        face=money(draft.face_value or 0, settings.currency, language),
        barcode=hd.quote(f"{barcode.label} …{barcode.tail}"),
    )


async def _ask(
    message: Message, state: FSMContext, draft: Draft, step: str | None, settings: Settings, secrets: Secrets
) -> None:
    """Show the prompt of `step` (the summary when None) and wait there (the state is committed before the prompt
    goes out, as before anything the bot says: the user's answer to it finds the wizard at this step)."""
    step = step or SUMMARY
    await state.set_state(STATES[step])
    if step == Step.TYPE:
        keyboard = InlineKeyboardBuilder()
        for kind in EventType:
            keyboard.button(text=event_type_label(kind), callback_data=SellCD(action="type", step=step, value=kind))
        keyboard.adjust(2)
        keyboard.row(*_navigation(step, back=False))
        await message.answer(_("sell-ask-type"), reply_markup=keyboard.as_markup())
    elif step == Step.WHEN:
        await message.answer(
            _("sell-ask-when").format(city=hd.quote(draft.city_name or "")), reply_markup=_markup(step)
        )
    elif step == Step.SEAT:
        skip = [_button("sell-skip", SellCD(action="skip", step=step))]
        await message.answer(_("sell-ask-seat"), reply_markup=_markup(step, skip))
    elif step == Step.PRICE:
        cap = money(max_price(draft.face_value or 0, settings.max_markup_percent), settings.currency, _language())
        text = _("sell-ask-price").format(max_price=cap, percent=settings.max_markup_percent)
        await message.answer(text, reply_markup=_markup(step))
    elif step == Step.PHOTO:
        mb = settings.max_photo_bytes // (1024 * 1024)
        await message.answer(_("sell-ask-photo").format(max_mb=mb), reply_markup=_markup(step))
    elif step == PICK:
        rows = [
            [InlineKeyboardButton(text=label, callback_data=SellCD(action="pick", step=step, id=index).pack())]
            for index, label in enumerate(listings.choice_labels(secrets, draft))
        ]
        await message.answer(_("sell-pick-barcode"), reply_markup=_markup(step, *rows))
    elif step == SUMMARY:
        rows = [
            [_button("sell-publish", SellCD(action="publish", step=step))],
            [_button("sell-edit", SellCD(action="edit", step=step))],
        ]
        await message.answer(_summary(draft, secrets, settings), reply_markup=_markup(step, *rows))
    else:
        await message.answer(_(f"sell-ask-{step}"), reply_markup=_markup(step))


async def _advance(message: Message, state: FSMContext, draft: Draft, settings: Settings, secrets: Secrets) -> None:
    await _save(state, draft)
    await _ask(message, state, draft, draft.next_step(), settings, secrets)


# --- start, cancel, back, edit -----------------------------------------------------------------------------------
@router.message(Command("sell"))
@router.message(F.text.in_(texts_for("menu-sell")))
async def start(
    message: Message, state: FSMContext, settings: Settings, secrets: Secrets, photo_storage: PhotoStorage
) -> None:
    await listings.forget_photo(photo_storage, await _draft(state))
    await state.set_state(None)
    await state.set_data({})
    await _ask(message, state, Draft(), Step.TYPE, settings, secrets)


@router.callback_query(StateFilter(SellWizard), SellCD.filter(F.action == "cancel"))
async def cancel(callback: CallbackQuery, state: FSMContext, photo_storage: PhotoStorage) -> None:
    await listings.forget_photo(photo_storage, await _draft(state))
    await state.clear()
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(_("sell-cancelled"), reply_markup=main_menu())


async def _current_step(callback: CallbackQuery, callback_data: SellCD, state: FSMContext) -> bool:
    """The button was drawn on the step the wizard is at; otherwise it is stale and the user is told so."""
    if callback_data.step in STATES and await state.get_state() == STATES[callback_data.step].state:
        return True
    await callback.answer(_("sell-stale"), show_alert=True)
    return False


@router.callback_query(SellCD.filter(F.action == "back"))
async def back(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, settings: Settings, secrets: Secrets
) -> None:
    if not await _current_step(callback, callback_data, state) or not isinstance(callback.message, Message):
        return
    step = callback_data.step
    if step in (PICK, SUMMARY):
        previous: str = Step.PHOTO
    elif step == Step.TYPE:
        previous = Step.TYPE
    else:
        previous = STEPS[STEPS.index(Step(step)) - 1]
    await callback.answer()
    await _ask(callback.message, state, await _draft(state), previous, settings, secrets)


@router.callback_query(SellWizard.summary, SellCD.filter(F.action == "edit"))
async def edit(callback: CallbackQuery, callback_data: SellCD, state: FSMContext) -> None:
    if not await _current_step(callback, callback_data, state):
        return
    keyboard = InlineKeyboardBuilder()
    for step in STEPS:
        keyboard.button(text=_(f"sell-step-{step}"), callback_data=SellCD(action="goto", step=SUMMARY, value=step))
    keyboard.adjust(3)
    keyboard.row(*_navigation(SUMMARY, back=False))
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(_("sell-edit-which"), reply_markup=keyboard.as_markup())


@router.callback_query(SellWizard.summary, SellCD.filter(F.action == "goto"))
async def goto(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, settings: Settings, secrets: Secrets
) -> None:
    if callback_data.value not in Step._value2member_map_ or not isinstance(callback.message, Message):
        await callback.answer(_("sell-stale"), show_alert=True)
        return
    await callback.answer()
    await _ask(callback.message, state, await _draft(state), callback_data.value, settings, secrets)


# --- the steps ---------------------------------------------------------------------------------------------------
@router.callback_query(SellWizard.type, SellCD.filter(F.action == "type"))
async def type_chosen(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, settings: Settings, secrets: Secrets
) -> None:
    if callback_data.value not in EventType._value2member_map_ or not isinstance(callback.message, Message):
        await callback.answer(_("sell-stale"), show_alert=True)
        return
    await callback.answer()
    draft = replace(await _draft(state), event_type=EventType(callback_data.value))
    await _advance(callback.message, state, draft, settings, secrets)


# Steps whose typed answer needs only its parser: the state -> the parser and how its value goes into the draft.
PARSED_STEPS: dict[str | None, tuple[Callable[[str], Any], Callable[[Draft, Any], Draft]]] = {
    SellWizard.name.state: (parse_event_name, lambda draft, name: replace(draft, name=name)),
    SellWizard.venue.state: (parse_venue, lambda draft, venue: replace(draft, venue=venue)),
    SellWizard.seat.state: (parse_seat, lambda draft, seat: replace(draft, seat=seat, seat_done=True)),
    SellWizard.face.state: (parse_amount, Draft.with_face_value),
}


@router.message(StateFilter(*PARSED_STEPS), TYPED)
async def parsed_step_typed(message: Message, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    parse, apply = PARSED_STEPS[await state.get_state()]
    try:
        value = parse(message.text or "")
    except DomainError as error:
        await message.answer(_input_error(error, settings))
        return
    await _advance(message, state, apply(await _draft(state), value), settings, secrets)


@router.message(SellWizard.city, TYPED)
async def city_typed(message: Message) -> None:
    markup = city_keyboard(
        message.text or "",
        _language(),
        lambda city: SellCD(action="city", step=Step.CITY, id=city.id),
        extra_rows=[_navigation(Step.CITY)],
    )
    if markup is None:
        await message.answer(_("sell-city-not-found"), reply_markup=_markup(Step.CITY))
        return
    await message.answer(_("sell-pick-city"), reply_markup=markup)


@router.callback_query(SellWizard.city, SellCD.filter(F.action == "city"))
async def city_chosen(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, settings: Settings, secrets: Secrets
) -> None:
    city = picked_city(callback_data.id)
    if city is None or not isinstance(callback.message, Message):
        await callback.answer(_("sell-stale"), show_alert=True)
        return
    await callback.answer()
    draft = (await _draft(state)).with_city(city.id, city.display_name(_language()), city.timezone)
    await _advance(callback.message, state, draft, settings, secrets)


@router.message(SellWizard.when, TYPED)
async def when_typed(
    message: Message, state: FSMContext, settings: Settings, listing_rules: ListingRules, secrets: Secrets, clock: Clock
) -> None:
    draft = await _draft(state)
    assert draft.city_tz is not None
    try:
        event_at = parse_event_datetime(message.text or "", draft.city_tz, clock.now(), max_ahead=listing_rules.horizon)
    except DomainError as error:
        await message.answer(_input_error(error, settings))
        return
    when = describe_local(event_at, draft.city_tz, _language(), city_name=draft.city_name)
    await message.answer(_("sell-when-understood").format(when=when))
    await _advance(message, state, replace(draft, event_at=event_at), settings, secrets)


@router.callback_query(SellWizard.seat, SellCD.filter(F.action == "skip"))
async def seat_skipped(callback: CallbackQuery, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        draft = replace(await _draft(state), seat=None, seat_done=True)
        await _advance(callback.message, state, draft, settings, secrets)


@router.message(SellWizard.price, TYPED)
async def price_typed(message: Message, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    draft = await _draft(state)
    try:
        price = parse_amount(message.text or "")
        check_price(draft.face_value or 0, price, settings.max_markup_percent)
    except DomainError as error:
        await message.answer(_input_error(error, settings))
        return
    await _advance(message, state, replace(draft, price=price), settings, secrets)


@router.message(StateFilter(SellWizard.photo, SellWizard.pick), F.photo | F.document)
async def photo_sent(
    message: Message,
    bot: Bot,
    state: FSMContext,
    repo: Repo,
    settings: Settings,
    listing_rules: ListingRules,
    secrets: Secrets,
    photo_storage: PhotoStorage,
    user: User,
) -> None:
    if message.photo:
        file_id, declared = message.photo[-1].file_id, message.photo[-1].file_size
    else:
        assert message.document is not None
        if message.document.mime_type and not message.document.mime_type.startswith("image/"):
            await message.answer(_("sell-photo-format"))
            return
        file_id, declared = message.document.file_id, message.document.file_size
    too_large = _("sell-photo-too-large").format(max_mb=settings.max_photo_bytes // (1024 * 1024))
    if declared is not None and declared > settings.max_photo_bytes:
        await message.answer(too_large)
        return
    try:
        downloaded = await bot.download(file_id, destination=BytesIO())
    except TelegramBadRequest:  # "file is too big" (over the Bot API's 20 MB) or gone
        await message.answer(too_large)
        return
    assert downloaded is not None
    try:
        draft = await listings.take_photo(
            repo, listing_rules, secrets, photo_storage, user, await _draft(state), downloaded.getvalue()
        )
    except DomainError as error:
        await message.answer(_listing_error(error, settings))
        return
    await _save(state, draft)
    await _ask(message, state, draft, PICK if draft.choices else draft.next_step(), settings, secrets)


@router.callback_query(SellWizard.pick, SellCD.filter(F.action == "pick"))
async def barcode_picked(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, repo: Repo, settings: Settings,
    secrets: Secrets, user: User,
) -> None:  # fmt: skip
    if not isinstance(callback.message, Message):
        return
    try:
        draft = await listings.choose_barcode(repo, secrets, user, await _draft(state), callback_data.id)
    except DomainError as error:
        await callback.answer(_listing_error(error, settings), show_alert=True)
        return
    await callback.answer()
    await _advance(callback.message, state, draft, settings, secrets)


@router.callback_query(SellWizard.summary, SellCD.filter(F.action == "publish"))
async def publish(
    callback: CallbackQuery, state: FSMContext, repo: Repo, settings: Settings, listing_rules: ListingRules,
    secrets: Secrets, clock: Clock, user: User,
) -> None:  # fmt: skip
    if not isinstance(callback.message, Message):
        return
    draft = await _draft(state)
    try:
        ticket = await listings.publish(repo, listing_rules, secrets, user, draft, clock.now())
    except DomainError as error:
        await callback.answer()
        await callback.message.answer(_listing_error(error, settings))
        redo = _REDO.get(error.code)
        if redo is not None:
            await _ask(callback.message, state, draft, redo, settings, secrets)
        return
    await state.clear()
    await callback.answer()
    await callback.message.edit_reply_markup(reply_markup=None)
    await callback.message.answer(_("sell-published").format(id=ticket.id), reply_markup=main_menu())


_REDO: dict[str, str] = {
    "sell-error-date.past": Step.WHEN,
    "sell-error-date.too_far": Step.WHEN,
    "sell-error-price.over_cap": Step.PRICE,
    "sell-error-price.not_positive": Step.PRICE,
    "sell-photo-duplicate": Step.PHOTO,
    "sell-incomplete": Step.TYPE,
}


# --- anything else inside the wizard -----------------------------------------------------------------------------
@router.message(SellWizard.photo, NOT_NAVIGATION)
async def photo_expected(message: Message) -> None:
    await message.answer(_("sell-send-photo"))


@router.message(StateFilter(SellWizard.type, SellWizard.pick, SellWizard.summary), NOT_NAVIGATION)
async def buttons_expected(message: Message) -> None:
    await message.answer(_("sell-use-buttons"))


@router.message(StateFilter(SellWizard.name, SellWizard.city, SellWizard.venue, SellWizard.when), ~F.text)
@router.message(StateFilter(SellWizard.seat, SellWizard.face, SellWizard.price), ~F.text)
async def text_expected(message: Message) -> None:
    await message.answer(_("sell-send-text"))
