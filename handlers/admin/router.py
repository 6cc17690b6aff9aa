"""Admin commands: /admin (figures, links to the money commands of handlers/admin_money.py), /outdated [page]
(expired tickets, keyset pages), /ticket ID (the full card: seller, status history, audit; block or unblock with a
reason), /ban USER REASON and /unban USER [REASON]. The router only answers admins (ADMIN_IDS): anyone else falls
through to the unknown-command answer."""

from __future__ import annotations

import re
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as hd

from bot.commands import set_admin_commands
from bot.filters import IsAdmin
from bot.settings import Settings
from db.models import OutboxStatus, TicketStatus, User
from db.repo import Repo
from db.repositories.listings import OutdatedKey
from db.repositories.orders import Sales
from handlers.admin.callbacks import AdminAction, AdminCD, Moderate
from handlers.shared.cards import Audience, CardFacts, ticket_card, ticket_line
from handlers.shared.display import amount_text, money
from handlers.shared.editing import edit_in_place
from handlers.shared.long_text import clip, fit_blocks
from handlers.shared.menu import NOT_NAVIGATION
from handlers.shared.paging import from_micros, to_micros
from services import admin, deliveries, outbox, reconcile
from services.accounts import mask_phone
from services.admin import Moderation
from services.clock import Clock
from services.errors import DomainError
from services.feed import Direction
from services.reconcile import Finding

HISTORY_SHOWN = 12
NOTE_MAX = 80  # characters of a reason shown in a history or audit line


def _edge(at: int, key: int) -> OutdatedKey | None:
    moment = from_micros(at)
    return OutdatedKey(moment, key) if moment is not None and key > 0 else None


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _note(text: str | None) -> str:
    if not text:
        return ""
    return ": " + hd.quote(clip(text, NOTE_MAX))


# --- /admin ------------------------------------------------------------------------------------------------
def _money(sales: Sales, language: str) -> str:
    parts = [amount_text(total, currency, language) for currency, total in sales.turnover.items()]
    return " + ".join(parts) or "0"


async def _stats_view(repo: Repo, clock: Clock, language: str) -> tuple[str, InlineKeyboardMarkup]:
    figures = await admin.stats(repo, clock.now())
    text = _("admin-stats").format(
        users=figures.users,
        on_sale=figures.on_sale,
        today=figures.today.count,
        today_money=_money(figures.today, language),
        week=figures.week.count,
        week_money=_money(figures.week, language),
        total=figures.all_time.count,
        total_money=_money(figures.all_time, language),
        disputes=figures.open_disputes,
        payouts=figures.payouts_due.count,
        payouts_money=_money(figures.payouts_due, language),
    )
    queued, found = await outbox.counts(repo.session), await reconcile.findings(repo.session)
    text += "\n\n" + _("admin-reliability").format(
        pending=queued[OutboxStatus.PENDING] + queued[OutboxStatus.SENDING],
        dead=queued[OutboxStatus.DEAD],
        sold=found[Finding.SOLD],
        refunded=found[Finding.REFUND_RECORDED] + found[Finding.REFUNDED],
        tasks=found[Finding.REFUND_REFUSED] + found[Finding.ADMIN_TASK],
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("admin-button-outdated"), callback_data=AdminCD(action=AdminAction.OUTDATED, page=1))
    builder.button(text=_("admin-button-refresh"), callback_data=AdminCD(action=AdminAction.STATS))
    return text, builder.as_markup()


async def show_admin(message: Message, bot: Bot, repo: Repo, clock: Clock, user: User) -> None:
    await set_admin_commands(bot, message.chat.id, user.language)
    text, markup = await _stats_view(repo, clock, user.language)
    await message.answer(text, reply_markup=markup)


async def refresh_stats(callback: CallbackQuery, repo: Repo, clock: Clock, user: User) -> None:
    await callback.answer(_("admin-refreshed"))
    if isinstance(callback.message, Message):
        await edit_in_place(callback.message, *await _stats_view(repo, clock, user.language))


# --- /outdated [page] --------------------------------------------------------------------------------------
def _outdated_view(page: admin.OutdatedPage, language: str) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    if not page.tickets:
        return _("admin-outdated-none"), builder.as_markup()
    lines = [_("admin-outdated-title").format(page=page.number)]
    for ticket in page.tickets:
        lines.append(
            _("admin-outdated-line").format(
                id=ticket.id,
                event=hd.quote(ticket_line(ticket, language)),
                price=money(ticket.price, ticket.currency, language),
            )
        )
    if page.has_newer:
        first = page.first
        data = AdminCD(action=AdminAction.OUTDATED, page=page.number - 1, at=to_micros(first.event_at),
                       key=first.ticket_id, dir=Direction.NEWER)  # fmt: skip
        builder.button(text=_("admin-button-newer"), callback_data=data)
    if page.has_older:
        last = page.last
        data = AdminCD(action=AdminAction.OUTDATED, page=page.number + 1, at=to_micros(last.event_at),
                       key=last.ticket_id, dir=Direction.OLDER)  # fmt: skip
        builder.button(text=_("admin-button-older"), callback_data=data)
    return "\n\n".join(lines), builder.as_markup()


async def list_outdated(message: Message, command: CommandObject, repo: Repo, user: User) -> None:
    try:
        page = await admin.outdated(repo, admin.parse_page(command.args))
    except DomainError as error:
        await message.answer(_(error.code))
        return
    text, markup = _outdated_view(page, user.language)
    await message.answer(text, reply_markup=markup)


async def turn_outdated(callback: CallbackQuery, callback_data: AdminCD, repo: Repo, user: User) -> None:
    edge = _edge(callback_data.at, callback_data.key)
    number = max(1, callback_data.page)
    try:
        if callback_data.dir == Direction.NEWER and edge is not None:
            page = await admin.outdated(repo, number, before=edge)
        else:
            page = await admin.outdated(repo, number if edge else 1, after=edge)
    except DomainError as error:
        await callback.answer(_(error.code), show_alert=True)
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        text, markup = _outdated_view(page, user.language)
        if callback_data.dir != Direction.AT:
            await edit_in_place(callback.message, text, markup)
        else:  # from the /admin menu: a list of its own
            await callback.message.answer(text, reply_markup=markup)


# --- /ticket ID --------------------------------------------------------------------------------------------
_STATUS_KEYS = {
    TicketStatus.ACTIVE: "admin-status-active",
    TicketStatus.RESERVED: "admin-status-reserved",
    TicketStatus.SOLD: "admin-status-sold",
    TicketStatus.EXPIRED: "admin-status-expired",
    TicketStatus.WITHDRAWN: "admin-status-withdrawn",
    TicketStatus.BLOCKED: "admin-status-blocked",
}
_DONE_KEYS = {"block": "admin-blocked-done", "unblock": "admin-unblocked-done"}


def _status(status: TicketStatus) -> str:
    return _(_STATUS_KEYS[status])


def _person(person: User) -> str:
    username = f", @{hd.quote(person.username)}" if person.username else ""
    banned = _("admin-person-banned") if person.is_banned else ""
    return _("admin-person").format(
        name=hd.quote(person.full_name),
        telegram_id=person.telegram_id,
        username=username,
        phone=mask_phone(person.phone_e164),
        banned=banned,
    )


def _ticket_view(file: admin.TicketFile, language: str) -> tuple[str, InlineKeyboardMarkup]:
    ticket, seller, buyer = file.card.ticket, file.card.seller, file.card.buyer
    parts = [
        _("admin-ticket-card").format(
            id=ticket.id,
            status=_status(ticket.status),
            card=ticket_card(CardFacts.of_ticket(ticket), Audience.ADMIN, language),
            listed=_stamp(ticket.created_at),
            seller=_person(seller),
        )
    ]
    if ticket.block_reason and ticket.status == TicketStatus.BLOCKED:
        parts.append(_("admin-ticket-block-reason").format(reason=hd.quote(ticket.block_reason)))
    if buyer is not None:
        parts.append(_("admin-ticket-buyer").format(buyer=_person(buyer)))
    history = [
        _("admin-history-line").format(
            at=_stamp(change.at), status=_status(change.status), actor=change.actor, note=_note(change.reason)
        )
        for change in file.history[-HISTORY_SHOWN:]
    ]
    parts.append(_("admin-history-title") + "\n" + ("\n".join(history) or "—"))
    audit = [
        _("admin-audit-line").format(
            at=_stamp(entry.at),
            admin=entry.admin_telegram_id,
            action=entry.action,
            target=f"{entry.target_type} {entry.target_id}",
            note=_note(entry.reason),
        )
        for entry in file.audit
    ]
    head = "\n\n".join([*parts, _("admin-audit-title")])
    text, _shown = fit_blocks(head, audit or ["—"], separator="\n")
    builder = InlineKeyboardBuilder()
    if ticket.status in (TicketStatus.ACTIVE, TicketStatus.RESERVED):
        builder.button(text=_("admin-button-block"), callback_data=AdminCD(action=AdminAction.BLOCK, ticket=ticket.id))
    elif ticket.status == TicketStatus.BLOCKED:
        builder.button(
            text=_("admin-button-unblock"), callback_data=AdminCD(action=AdminAction.UNBLOCK, ticket=ticket.id)
        )
    return text, builder.as_markup()


async def _show_ticket(message: Message, repo: Repo, ticket_id: int, language: str) -> None:
    try:
        file = await admin.ticket_file(repo, ticket_id)
    except DomainError as error:
        await message.answer(_(error.code))
        return
    text, markup = _ticket_view(file, language)
    await message.answer(text, reply_markup=markup)


async def show_ticket(message: Message, command: CommandObject, repo: Repo, user: User) -> None:
    if not command.args:
        await message.answer(_("admin-ticket-usage"))
        return
    try:
        ticket_id = admin.parse_ticket_id(command.args)
    except DomainError as error:
        await message.answer(_(error.code))
        return
    await _show_ticket(message, repo, ticket_id, user.language)


async def show_ticket_link(message: Message, command: CommandObject, repo: Repo, user: User) -> None:
    """The /ticket_123 links of the /outdated list."""
    assert command.regexp_match is not None
    await _show_ticket(message, repo, int(command.regexp_match.group(1)), user.language)


# --- block / unblock, with a reason ------------------------------------------------------------------------
async def ask_reason(callback: CallbackQuery, callback_data: AdminCD, state: FSMContext) -> None:
    await state.set_state(Moderate.reason)
    await state.update_data(action=callback_data.action.value, ticket_id=callback_data.ticket)
    await callback.answer()
    if isinstance(callback.message, Message):
        key = "admin-ask-block-reason" if callback_data.action == AdminAction.BLOCK else "admin-ask-unblock-reason"
        await callback.message.answer(_(key).format(id=callback_data.ticket))


async def moderate(
    message: Message,
    state: FSMContext,
    repo: Repo,
    clock: Clock,
    user: User,
) -> None:
    data = await state.get_data()
    action: str = data.get("action", "")
    ticket_id = int(data.get("ticket_id", 0))
    decide = admin.block_ticket if action == "block" else admin.unblock_ticket
    try:
        outcome = await decide(repo, clock.now(), user.telegram_id, ticket_id, message.text or "")
    except DomainError as error:
        await message.answer(_(error.code))
        if error.code not in ("admin-reason-empty", "admin-reason-invalid"):
            await state.clear()
        return
    await _queue_notices(repo, outcome, action == "block", clock.now())  # with the decision, before a word
    await state.clear()
    await message.answer(_(_DONE_KEYS[action]).format(id=ticket_id))
    await _show_ticket(message, repo, ticket_id, user.language)


async def reason_not_text(message: Message) -> None:
    await message.answer(_("admin-reason-not-text"))


async def _queue_notices(repo: Repo, outcome: Moderation, blocked: bool, now: datetime) -> None:
    ticket = outcome.ticket
    if blocked:
        what = deliveries.BLOCKED
    else:
        what = deliveries.UNBLOCKED if ticket.status == TicketStatus.ACTIVE else deliveries.UNBLOCKED_EXPIRED
    await deliveries.enqueue_moderated(repo, outcome.seller, ticket, what, outcome.reason, now)
    if outcome.buyer is not None:
        await deliveries.enqueue_hold_withdrawn(repo, outcome.buyer, ticket.id, now)


def _split(args: str | None) -> tuple[str, str]:
    target, _space, rest = (args or "").strip().partition(" ")
    return target, rest


async def ban(
    message: Message,
    command: CommandObject,
    repo: Repo,
    clock: Clock,
    settings: Settings,
    user: User,
) -> None:
    target, reason = _split(command.args)
    if not target or not reason.strip():
        await message.answer(_("admin-ban-usage"))
        return
    try:
        outcome = await admin.ban(repo, clock.now(), user.telegram_id, settings.admin_ids, target, reason)
    except DomainError as error:
        await message.answer(_(error.code))
        return
    banned = outcome.user
    for ticket_id, buyer in outcome.released_holds:  # with the ban, before a word
        await deliveries.enqueue_hold_withdrawn(repo, buyer, ticket_id, clock.now())
    await deliveries.enqueue_free_again(repo, outcome.reopened, clock.now())
    await message.answer(
        _("admin-banned-done").format(
            person=_person(banned), blocked=len(outcome.blocked), holds=len(outcome.released_holds)
        )
    )


async def unban(message: Message, command: CommandObject, repo: Repo, clock: Clock, user: User) -> None:
    target, reason = _split(command.args)
    if not target:
        await message.answer(_("admin-unban-usage"))
        return
    try:
        person = await admin.unban(repo, clock.now(), user.telegram_id, target, reason)
    except DomainError as error:
        await message.answer(_(error.code))
        return
    await message.answer(_("admin-unbanned-done").format(person=_person(person)))


def create_router() -> Router:
    """A fresh router with this feature's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    router.message.register(show_admin, Command("admin"))
    router.callback_query.register(refresh_stats, AdminCD.filter(F.action == AdminAction.STATS))
    router.message.register(list_outdated, Command("outdated"))
    router.callback_query.register(turn_outdated, AdminCD.filter(F.action == AdminAction.OUTDATED))
    router.message.register(show_ticket, Command("ticket"))
    router.message.register(show_ticket_link, Command(re.compile(r"ticket_(\d{1,9})")))
    router.callback_query.register(ask_reason, AdminCD.filter(F.action.in_({AdminAction.BLOCK, AdminAction.UNBLOCK})))
    router.message.register(moderate, Moderate.reason, F.text, NOT_NAVIGATION)
    router.message.register(reason_not_text, Moderate.reason, NOT_NAVIGATION)
    router.message.register(ban, Command("ban"))
    router.message.register(unban, Command("unban"))
    return router
