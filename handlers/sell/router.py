"""Sell: the listing wizard. Each step is a state of SellWizard; every prompt has Back and Cancel. The draft lives in
the FSM data (so the wizard survives a restart) with the barcode sealed; after each answer the wizard goes to the
first step still unanswered, or to the summary (Publish / Add another seat / Edit / Cancel) when none is left.
Another seat of the same event asks its seat and its photo (checked as a single ticket's), then whether the seats
are sold together (one price for all) or separately."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from io import BytesIO
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from bot.i18n import texts_for
from bot.settings import Settings
from db.models import User
from db.repo import Repo
from handlers.sell.callbacks import (
    MORE_PICK,
    PICK,
    SEAT_STEPS,
    STATES,
    SUMMARY,
    ClaimCD,
    SellAction,
    SellCD,
    SellWizard,
)
from handlers.sell.keyboards import (
    button,
    claim_keyboard,
    edit_keyboard,
    mode_keyboard,
    navigation,
    pick_keyboard,
    prefill_keyboard,
    summary_keyboard,
    type_keyboard,
    with_navigation,
)
from handlers.sell.views import ASK_KEYS, prefill_offer, refusal, summary
from handlers.shared.city_picker import city_keyboard, picked_city
from handlers.shared.display import money
from handlers.shared.editing import edit_in_place
from handlers.shared.formatting import describe_local
from handlers.shared.menu import NOT_NAVIGATION, main_menu
from services import availability, claims, deliveries, listings
from services.amounts import parse_amount
from services.clock import Clock
from services.crypto import Secrets
from services.dates import parse_event_datetime
from services.draft import MAX_SEATS, STEPS, Draft, ExtraSeat, SeatStep, Step
from services.errors import DomainError
from services.pricing import check_price, max_price
from services.rules import ListingRules, WaitlistRules
from services.seats import parse_seat
from services.storage import PhotoStorage
from services.text import parse_event_name, parse_venue

DRAFT_KEY = "sell_draft"
TYPED = F.text & NOT_NAVIGATION


def _language() -> str:
    return get_i18n().current_locale


def _refusal(error: DomainError, settings: Settings) -> str:
    return refusal(error.code, error.params, settings, _language())


async def _draft(state: FSMContext) -> Draft:
    return Draft.from_data((await state.get_data()).get(DRAFT_KEY))


async def _save(state: FSMContext, draft: Draft) -> None:
    await state.update_data({DRAFT_KEY: draft.to_data()})


# --- prompts -----------------------------------------------------------------------------------------------------
async def _ask(
    message: Message, state: FSMContext, draft: Draft, step: str | None, settings: Settings, secrets: Secrets
) -> None:
    """Show the prompt of `step` (the summary when None) and wait there (the state is committed before the prompt
    goes out, as before anything the bot says: the user's answer to it finds the wizard at this step)."""
    step = step or SUMMARY
    await state.set_state(STATES[step])
    if step == Step.TYPE:
        await message.answer(_("sell-ask-type"), reply_markup=type_keyboard(step))
    elif step == Step.WHEN:
        text = _("sell-ask-when").format(city=hd.quote(draft.city_name or ""))
        await message.answer(text, reply_markup=with_navigation(step))
    elif step == Step.SEAT:
        skip = [button("sell-skip", SellCD(action=SellAction.SKIP, step=step))]
        await message.answer(_("sell-ask-seat"), reply_markup=with_navigation(step, skip))
    elif step == Step.PRICE:
        cap = money(max_price(draft.face_value or 0, settings.max_markup_percent), settings.currency, _language())
        text = _("sell-ask-price").format(max_price=cap, percent=settings.max_markup_percent)
        await message.answer(text, reply_markup=with_navigation(step))
    elif step == Step.PHOTO:
        mb = settings.max_photo_bytes // (1024 * 1024)
        await message.answer(_("sell-ask-photo").format(max_mb=mb), reply_markup=with_navigation(step))
    elif step == PICK:
        labels = listings.choice_labels(secrets, draft)
        await message.answer(_("sell-pick-barcode"), reply_markup=pick_keyboard(step, labels))
    elif step == SUMMARY:
        markup = summary_keyboard(can_add=draft.seats < MAX_SEATS)
        await message.answer(summary(draft, secrets, settings, _language()), reply_markup=markup)
    elif step in SEAT_PROMPTS:
        await _ask_about_seat(message, draft, step, settings, secrets)
    else:
        await message.answer(_(ASK_KEYS[Step(step)]), reply_markup=with_navigation(step))


SEAT_PROMPTS = (SeatStep.SEAT, SeatStep.PHOTO, MORE_PICK, SeatStep.MODE, SeatStep.TOTAL)


async def _ask_about_seat(message: Message, draft: Draft, step: str, settings: Settings, secrets: Secrets) -> None:
    """The prompts of the steps that add a seat of the same event (a listing of several tickets)."""
    if step == SeatStep.SEAT:
        skip = [button("sell-skip", SellCD(action=SellAction.SKIP, step=step))]
        text = _("sell-ask-more-seat").format(number=draft.seats)
        await message.answer(text, reply_markup=with_navigation(step, skip))
    elif step == SeatStep.PHOTO:
        mb = settings.max_photo_bytes // (1024 * 1024)
        text = _("sell-ask-more-photo").format(number=draft.seats, max_mb=mb)
        await message.answer(text, reply_markup=with_navigation(step))
    elif step == MORE_PICK:
        assert draft.adding is not None
        labels = listings.seat_choice_labels(secrets, draft.adding)
        await message.answer(_("sell-pick-barcode"), reply_markup=pick_keyboard(step, labels))
    elif step == SeatStep.MODE:
        text = ngettext("sell-ask-mode", "sell-ask-mode", draft.seats).format(count=draft.seats)
        await message.answer(text, reply_markup=mode_keyboard(step))
    elif step == SeatStep.TOTAL:
        face = (draft.face_value or 0) * draft.seats
        cap = money(max_price(face, settings.max_markup_percent), settings.currency, _language())
        text = ngettext("sell-ask-total", "sell-ask-total", draft.seats).format(
            count=draft.seats, max_price=cap, percent=settings.max_markup_percent
        )
        await message.answer(text, reply_markup=with_navigation(step))


def _next(draft: Draft) -> str | None:
    return draft.next_step() or draft.next_seat_step()


async def _advance(message: Message, state: FSMContext, draft: Draft, settings: Settings, secrets: Secrets) -> None:
    await _save(state, draft)
    await _ask(message, state, draft, _next(draft), settings, secrets)


# --- start, cancel, back, edit -----------------------------------------------------------------------------------
async def start(
    message: Message, state: FSMContext, settings: Settings, secrets: Secrets, photo_storage: PhotoStorage
) -> None:
    await listings.forget_photo(photo_storage, await _draft(state))
    await state.set_state(None)
    await state.set_data({})
    await _ask(message, state, Draft(), Step.TYPE, settings, secrets)


async def cancel(callback: CallbackQuery, state: FSMContext, photo_storage: PhotoStorage) -> None:
    await listings.forget_photo(photo_storage, await _draft(state))
    await state.clear()
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(_("sell-cancelled"), reply_markup=main_menu())


async def _on_step(callback_data: SellCD, state: FSMContext) -> bool:
    """The button was drawn on the step the wizard is at (otherwise it is stale)."""
    return callback_data.step in STATES and await state.get_state() == STATES[callback_data.step].state


async def _pressed(callback: CallbackQuery, usable: bool) -> Message | None:
    """The wizard's message a button was pressed on, the press answered; None when the button is stale (not
    `usable`, or on a message the bot can no longer reach), the user told so."""
    if not usable or not isinstance(callback.message, Message):
        await callback.answer(_("sell-stale"), show_alert=True)
        return None
    await callback.answer()
    return callback.message


async def back(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, settings: Settings, secrets: Secrets,
    photo_storage: PhotoStorage,
) -> None:  # fmt: skip
    if (message := await _pressed(callback, await _on_step(callback_data, state))) is None:
        return
    step = callback_data.step
    draft = await _draft(state)
    if step in SEAT_STEPS:  # back from another seat: the seat being added (from its mode: the last one) is dropped
        if step != SeatStep.TOTAL:
            await listings.forget_photo(photo_storage, Draft(extra=(draft.extra[-1],)) if draft.extra else Draft())
            draft = draft.without_adding()
        else:
            draft = replace(draft, mode=None)
        await _advance(message, state, draft, settings, secrets)
        return
    if step in (PICK, SUMMARY):
        previous: str = Step.PHOTO
    elif step == Step.TYPE:
        previous = Step.TYPE
    else:
        previous = STEPS[STEPS.index(Step(step)) - 1]
    await _ask(message, state, draft, previous, settings, secrets)


async def edit(callback: CallbackQuery, callback_data: SellCD, state: FSMContext) -> None:
    if (message := await _pressed(callback, await _on_step(callback_data, state))) is not None:
        await message.answer(_("sell-edit-which"), reply_markup=edit_keyboard())


async def goto(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, settings: Settings, secrets: Secrets
) -> None:
    if (message := await _pressed(callback, callback_data.goto is not None)) is not None:
        await _ask(message, state, await _draft(state), callback_data.goto, settings, secrets)


# --- the steps ---------------------------------------------------------------------------------------------------
async def type_chosen(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, settings: Settings, secrets: Secrets
) -> None:
    if (message := await _pressed(callback, callback_data.kind is not None)) is not None:
        await _advance(message, state, replace(await _draft(state), event_type=callback_data.kind), settings, secrets)


# Steps whose typed answer needs only its parser: the state -> the parser and how its value goes into the draft.
PARSED_STEPS: dict[str | None, tuple[Callable[[str], Any], Callable[[Draft, Any], Draft]]] = {
    SellWizard.name.state: (parse_event_name, lambda draft, name: replace(draft, name=name)),
    SellWizard.venue.state: (parse_venue, lambda draft, venue: replace(draft, venue=venue)),
    SellWizard.seat.state: (parse_seat, lambda draft, seat: replace(draft, seat=seat, seat_done=True)),
    SellWizard.face.state: (parse_amount, Draft.with_face_value),
}


async def parsed_step_typed(message: Message, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    parse, apply = PARSED_STEPS[await state.get_state()]
    try:
        value = parse(message.text or "")
    except DomainError as error:
        await message.answer(_refusal(error, settings))
        return
    await _advance(message, state, apply(await _draft(state), value), settings, secrets)


async def city_typed(message: Message) -> None:
    markup = city_keyboard(
        message.text or "",
        _language(),
        lambda city: SellCD(action=SellAction.CITY, step=Step.CITY, city=city.id),
        extra_rows=[navigation(Step.CITY)],
    )
    if markup is None:
        await message.answer(_("sell-city-not-found"), reply_markup=with_navigation(Step.CITY))
        return
    await message.answer(_("sell-pick-city"), reply_markup=markup)


async def city_chosen(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, settings: Settings, secrets: Secrets
) -> None:
    city = picked_city(callback_data.city)
    if (message := await _pressed(callback, city is not None)) is None or city is None:
        return
    draft = (await _draft(state)).with_city(city.id, city.display_name(_language()), city.timezone)
    await _advance(message, state, draft, settings, secrets)


async def when_typed(
    message: Message, state: FSMContext, settings: Settings, listing_rules: ListingRules, secrets: Secrets, clock: Clock
) -> None:
    draft = await _draft(state)
    assert draft.city_tz is not None
    try:
        event_at = parse_event_datetime(message.text or "", draft.city_tz, clock.now(), max_ahead=listing_rules.horizon)
    except DomainError as error:
        await message.answer(_refusal(error, settings))
        return
    when = describe_local(event_at, draft.city_tz, _language(), city_name=draft.city_name)
    await message.answer(_("sell-when-understood").format(when=when))
    await _advance(message, state, replace(draft, event_at=event_at), settings, secrets)


async def seat_skipped(callback: CallbackQuery, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        draft = replace(await _draft(state), seat=None, seat_done=True)
        await _advance(callback.message, state, draft, settings, secrets)


async def price_typed(message: Message, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    draft = await _draft(state)
    try:
        price = parse_amount(message.text or "")
        check_price(draft.face_value or 0, price, settings.max_markup_percent)
    except DomainError as error:
        await message.answer(_refusal(error, settings))
        return
    await _advance(message, state, replace(draft, price=price), settings, secrets)


async def _photo_bytes(message: Message, bot: Bot, settings: Settings) -> bytes | None:
    """The photo or image file the seller sent; None (and the seller told why) when it can't be taken."""
    if message.photo:
        file_id, declared = message.photo[-1].file_id, message.photo[-1].file_size
    else:
        assert message.document is not None  # an image, a PDF or a pass: told apart by its content
        file_id, declared = message.document.file_id, message.document.file_size
    too_large = _("photo-too-large").format(max_mb=settings.max_photo_bytes // (1024 * 1024))
    if declared is not None and declared > settings.max_photo_bytes:
        await message.answer(too_large)
        return None
    downloaded = BytesIO()
    try:
        await bot.download(file_id, destination=downloaded)
    except TelegramBadRequest:  # "file is too big" (over the Bot API's 20 MB) or gone
        await message.answer(too_large)
        return None
    return downloaded.getvalue()


async def photo_sent(
    message: Message, bot: Bot, state: FSMContext, repo: Repo, settings: Settings, listing_rules: ListingRules,
    secrets: Secrets, photo_storage: PhotoStorage, user: User,
) -> None:  # fmt: skip
    data = await _photo_bytes(message, bot, settings)
    if data is None:
        return
    try:
        draft = await listings.take_photo(repo, listing_rules, secrets, photo_storage, user, await _draft(state), data)
    except DomainError as error:
        ticket_id = error.params.get("ticket_id")
        markup = None
        if isinstance(ticket_id, int):  # another seller's listing: the genuine owner may claim it
            markup = claim_keyboard(ticket_id, claims.claim_token(secrets.fingerprint_key, user.telegram_id, ticket_id))
        await message.answer(_refusal(error, settings), reply_markup=markup)
        return
    await _save(state, draft)
    if draft.prefill is not None:
        await message.answer(prefill_offer(draft.prefill, draft.city_tz, _language()), reply_markup=prefill_keyboard())
    await _ask(message, state, draft, PICK if draft.choices else _next(draft), settings, secrets)


async def seat_photo_sent(
    message: Message, bot: Bot, state: FSMContext, repo: Repo, settings: Settings, listing_rules: ListingRules,
    secrets: Secrets, photo_storage: PhotoStorage, user: User,
) -> None:  # fmt: skip
    """The photo of another seat: checked exactly as a single ticket's, and not one of this listing's barcodes."""
    data = await _photo_bytes(message, bot, settings)
    if data is None:
        return
    draft = await _draft(state)
    try:
        draft = await listings.take_seat_photo(repo, listing_rules, secrets, photo_storage, user, draft, data)
    except DomainError as error:
        await message.answer(_refusal(error, settings))
        return
    await _save(state, draft)
    adding = draft.adding
    await _ask(message, state, draft, MORE_PICK if adding and adding.choices else _next(draft), settings, secrets)


async def prefill_taken(callback: CallbackQuery, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    """The seller took the pass's event name, venue and date into the listing."""
    draft = await _draft(state)
    if (message := await _pressed(callback, draft.prefill is not None)) is None:
        return
    await message.edit_reply_markup(reply_markup=None)
    draft = draft.with_prefill()
    step = PICK if draft.choices else draft.next_step()
    await _save(state, draft)
    await _ask(message, state, draft, step, settings, secrets)


async def barcode_picked(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, repo: Repo, settings: Settings,
    secrets: Secrets, user: User,
) -> None:  # fmt: skip
    await _take_pick(
        callback, state, settings, secrets, partial(listings.choose_barcode, repo, secrets, user), callback_data.index
    )


PickRule = Callable[[Draft, int], Awaitable[Draft]]


async def _take_pick(
    callback: CallbackQuery, state: FSMContext, settings: Settings, secrets: Secrets, choose: PickRule, index: int
) -> None:
    """The barcode the seller picked among several on one photo (of the first seat or of an added one)."""
    if not isinstance(callback.message, Message):
        return
    try:
        draft = await choose(await _draft(state), index)
    except DomainError as error:
        await callback.answer(_refusal(error, settings), show_alert=True)
        return
    await callback.answer()
    await _advance(callback.message, state, draft, settings, secrets)


# --- more seats of this event ------------------------------------------------------------------------------------
async def add_seat(callback: CallbackQuery, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    draft = await _draft(state)
    if (message := await _pressed(callback, draft.seats < MAX_SEATS)) is not None:
        await _advance(message, state, draft.with_adding(ExtraSeat()), settings, secrets)


async def more_seat_typed(message: Message, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    draft = await _draft(state)
    try:
        seat = parse_seat(message.text or "")
    except DomainError as error:
        await message.answer(_refusal(error, settings))
        return
    assert draft.adding is not None
    await _advance(message, state, draft.with_adding(replace(draft.adding, seat=seat, seat_done=True)), settings,
                   secrets)  # fmt: skip


async def more_seat_skipped(callback: CallbackQuery, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    draft = await _draft(state)
    await callback.answer()
    if isinstance(callback.message, Message) and draft.adding is not None:
        draft = draft.with_adding(replace(draft.adding, seat=None, seat_done=True))
        await _advance(callback.message, state, draft, settings, secrets)


async def seat_barcode_picked(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, repo: Repo, settings: Settings,
    secrets: Secrets, user: User,
) -> None:  # fmt: skip
    await _take_pick(
        callback,
        state,
        settings,
        secrets,
        partial(listings.choose_seat_barcode, repo, secrets, user),
        callback_data.index,
    )


async def mode_chosen(
    callback: CallbackQuery, callback_data: SellCD, state: FSMContext, settings: Settings, secrets: Secrets
) -> None:
    if (message := await _pressed(callback, callback_data.mode is not None)) is not None:
        draft = replace(await _draft(state), mode=callback_data.mode, total_price=None)
        await _advance(message, state, draft, settings, secrets)


async def total_typed(message: Message, state: FSMContext, settings: Settings, secrets: Secrets) -> None:
    """The one price of seats sold together: capped like a single ticket's, on the sum of their face values."""
    draft = await _draft(state)
    try:
        total = parse_amount(message.text or "")
        check_price((draft.face_value or 0) * draft.seats, total, settings.max_markup_percent)
    except DomainError as error:
        await message.answer(_refusal(error, settings))
        return
    await _advance(message, state, replace(draft, total_price=total), settings, secrets)


async def publish(
    callback: CallbackQuery, state: FSMContext, repo: Repo, settings: Settings, listing_rules: ListingRules,
    waitlist_rules: WaitlistRules, secrets: Secrets, clock: Clock, user: User,
) -> None:  # fmt: skip
    if not isinstance(callback.message, Message):
        return
    draft = await _draft(state)
    try:
        tickets = await listings.publish_listing(repo, listing_rules, secrets, user, draft, clock.now())
    except DomainError as error:
        await callback.answer()
        await callback.message.answer(_refusal(error, settings))
        redo = _REDO.get(error.code)
        if redo is not None:
            await _ask(callback.message, state, draft, redo, settings, secrets)
        return
    await state.clear()
    await callback.answer()
    await edit_in_place(callback.message, summary(draft, secrets, settings, _language(), published=True), None)
    if len(tickets) == 1:
        published = _("sell-published").format(id=tickets[0].id)
    else:
        ids = ", ".join(str(ticket.id) for ticket in tickets)
        published = ngettext("sell-published-seats", "sell-published-seats", len(tickets)).format(
            count=len(tickets), ids=ids
        )
    await callback.message.answer(published, reply_markup=main_menu())
    announcement = await availability.available(repo, waitlist_rules, clock.now(), tickets)
    await deliveries.enqueue_available(repo, announcement, waitlist_rules.offer_minutes, clock.now())


async def claim_filed(
    callback: CallbackQuery, callback_data: ClaimCD, repo: Repo, settings: Settings, secrets: Secrets,
    clock: Clock, user: User,
) -> None:  # fmt: skip
    """ "This is my ticket": the claim filed, the listing frozen, the seller and the admins told."""
    outcome = await claims.file_claim(
        repo, secrets.fingerprint_key, user, callback_data.ticket, callback_data.token, clock.now()
    )
    await deliveries.enqueue_claim_filed(repo, outcome.claim, outcome.seller, settings.admin_ids)  # before a word
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(_("sell-claim-filed"))


_REDO: dict[str, str] = {
    "date.past": Step.WHEN,
    "date.too_far": Step.WHEN,
    "price.over_cap": Step.PRICE,
    "price.not_positive": Step.PRICE,
    "sell-photo-duplicate": Step.PHOTO,
    "sell-incomplete": Step.TYPE,
    "group-price": SeatStep.TOTAL,
}


# --- anything else inside the wizard -----------------------------------------------------------------------------
async def photo_expected(message: Message) -> None:
    await message.answer(_("sell-send-photo"))


async def buttons_expected(message: Message) -> None:
    await message.answer(_("sell-use-buttons"))


async def text_expected(message: Message) -> None:
    await message.answer(_("sell-send-text"))


def create_router() -> Router:
    """A fresh router with this feature's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(start, F.text.in_(texts_for("menu-sell")))
    router.message.register(start, Command("sell"))
    router.callback_query.register(cancel, StateFilter(SellWizard), SellCD.filter(F.action == SellAction.CANCEL))
    router.callback_query.register(back, SellCD.filter(F.action == SellAction.BACK))
    router.callback_query.register(edit, SellWizard.summary, SellCD.filter(F.action == SellAction.EDIT))
    router.callback_query.register(goto, SellWizard.summary, SellCD.filter(F.action == SellAction.GOTO))
    router.callback_query.register(type_chosen, SellWizard.type, SellCD.filter(F.action == SellAction.TYPE))
    router.message.register(parsed_step_typed, StateFilter(*PARSED_STEPS), TYPED)
    router.message.register(city_typed, SellWizard.city, TYPED)
    router.callback_query.register(city_chosen, SellWizard.city, SellCD.filter(F.action == SellAction.CITY))
    router.message.register(when_typed, SellWizard.when, TYPED)
    router.callback_query.register(seat_skipped, SellWizard.seat, SellCD.filter(F.action == SellAction.SKIP))
    router.message.register(price_typed, SellWizard.price, TYPED)
    router.message.register(photo_sent, StateFilter(SellWizard.photo, SellWizard.pick), F.photo | F.document)
    router.callback_query.register(barcode_picked, SellWizard.pick, SellCD.filter(F.action == SellAction.PICK))
    router.callback_query.register(
        prefill_taken, StateFilter(SellWizard.pick, SellWizard.summary), SellCD.filter(F.action == SellAction.PREFILL)
    )
    router.callback_query.register(claim_filed, ClaimCD.filter())
    router.callback_query.register(publish, SellWizard.summary, SellCD.filter(F.action == SellAction.PUBLISH))
    router.callback_query.register(add_seat, SellWizard.summary, SellCD.filter(F.action == SellAction.ADD))
    router.message.register(more_seat_typed, SellWizard.more_seat, TYPED)
    router.callback_query.register(more_seat_skipped, SellWizard.more_seat, SellCD.filter(F.action == SellAction.SKIP))
    router.message.register(seat_photo_sent, StateFilter(SellWizard.more_photo, SellWizard.more_pick),
                            F.photo | F.document)  # fmt: skip
    router.callback_query.register(
        seat_barcode_picked, SellWizard.more_pick, SellCD.filter(F.action == SellAction.PICK)
    )
    router.callback_query.register(mode_chosen, SellWizard.mode, SellCD.filter(F.action == SellAction.MODE))
    router.message.register(total_typed, SellWizard.total, TYPED)
    router.message.register(photo_expected, SellWizard.more_photo, NOT_NAVIGATION)
    router.message.register(photo_expected, SellWizard.photo, NOT_NAVIGATION)
    router.message.register(
        buttons_expected,
        StateFilter(SellWizard.type, SellWizard.pick, SellWizard.summary, SellWizard.more_pick, SellWizard.mode),
        NOT_NAVIGATION,
    )
    router.message.register(
        text_expected,
        StateFilter(SellWizard.seat, SellWizard.face, SellWizard.price, SellWizard.more_seat, SellWizard.total),
        ~F.text,
    )
    router.message.register(
        text_expected, StateFilter(SellWizard.name, SellWizard.city, SellWizard.venue, SellWizard.when), ~F.text
    )
    return router
