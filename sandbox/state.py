"""What the emulated Telegram holds: bots, chats and their messages, files, pending queries, charges and updates."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import bad, forbidden
from .media import FileStore
from .messages import BotMessage, InboxEvent, Refund
from .params import ApiCall

__all__ = [
    "BotState", "Charge", "ChatState", "InvoiceInfo", "PendingQuery", "Person", "SandboxState", "Signal",
    "StoredMessage",
]  # fmt: skip

log = logging.getLogger("sandbox.state")

DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
        "business_message", "edited_business_message", "deleted_business_messages", "inline_query",
        "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media",
        "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip
# Minimum and maximum total amounts per currency, in the smallest units (roughly Telegram's $1..$10 000).
CURRENCY_LIMITS: dict[str, tuple[int, int]] = {
    "XTR": (1, 100_000),
    "RUB": (8_000, 80_000_000),
    "USD": (100, 1_000_000),
    "EUR": (100, 1_000_000),
    "GBP": (100, 1_000_000),
    "KZT": (45_000, 450_000_000),
    "UAH": (4_000, 40_000_000),
    "BYN": (300, 3_000_000),
}


class Person(Protocol):
    """What the state needs of a simulated person (``sandbox.users.SimulatedUser``), without importing it."""

    id: int
    blocked: bool
    deactivated: bool
    started: bool

    def user_json(self) -> dict[str, Any]: ...

    def chat_json(self) -> dict[str, Any]: ...

    def _receive(self, event: InboxEvent) -> None: ...


class Signal:
    """Wake every waiter; waiters re-check their condition (no lost wake-ups in a single-threaded loop)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None) -> None:  # noqa: ASYNC109
        event = self._event
        if timeout is not None and timeout <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


@dataclass
class InvoiceInfo:
    title: str
    description: str
    payload: str
    provider_token: str
    currency: str
    prices: list[dict[str, Any]]
    total_amount: int
    start_parameter: str
    need_name: bool = False
    need_phone_number: bool = False
    need_email: bool = False
    need_shipping_address: bool = False
    is_flexible: bool = False
    paid_charge_id: str | None = None


@dataclass
class StoredMessage:
    bot_id: int
    chat_id: int
    data: dict[str, Any]
    outgoing: bool
    reply_markup: dict[str, Any] | None = None
    deleted: bool = False
    invoice: InvoiceInfo | None = None

    @property
    def message_id(self) -> int:
        return int(self.data["message_id"])

    def view(self) -> BotMessage:
        return BotMessage(
            data=copy.deepcopy(self.data),
            reply_markup=copy.deepcopy(self.reply_markup),
            deleted=self.deleted,
            outgoing=self.outgoing,
        )


@dataclass
class ChatState:
    id: int
    json: dict[str, Any]
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)

    def history(self) -> list[StoredMessage]:
        return [self.messages[k] for k in sorted(self.messages)]

    def live(self, message_id: int | None) -> StoredMessage | None:
        """The message with this id unless it is deleted (what Telegram can still reply to, edit or copy)."""
        if message_id is None:
            return None
        stored = self.messages.get(message_id)
        if stored is None or stored.deleted:
            return None
        return stored


@dataclass
class Charge:
    charge_id: str
    provider_charge_id: str
    bot_id: int
    user_id: int
    currency: str
    total_amount: int
    payload: str
    date: int
    refunded: bool = False
    refunded_at: int | None = None


@dataclass
class PendingQuery:
    id: str
    kind: str  # callback | pre_checkout
    bot_id: int
    user_id: int
    deadline: float
    future: asyncio.Future[Any]
    answered: bool = False


class BotState:
    def __init__(self, token: str, username: str, first_name: str) -> None:
        self.token = token
        self.id = int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.pending: list[dict[str, Any]] = []
        self.next_update_id = 100_000_001
        self.allowed_updates: frozenset[str] | None = None
        self.signal = Signal()
        self.poll_generation = 0
        self.poll_conflict = ""  # why a getUpdates still waiting was ended (another getUpdates, or setWebhook)
        self.polling = 0  # getUpdates requests waiting right now
        self.chats: dict[int, ChatState] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.texts: dict[tuple[str, str], str] = {}  # (name|description|short_description, language) -> value
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_max_connections = 40
        self.webhook_last_error: tuple[int, str] | None = None
        self.webhook_task: asyncio.Task[None] | None = None
        self.webhook_busy = False

    def confirm(self, offset: int) -> None:
        """getUpdates' offset: updates below it are confirmed and forgotten (negative: keep the last -offset)."""
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:]

    def user_json(self, full: bool = False) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}
        if full:
            user.update(
                can_join_groups=True,
                can_read_all_group_messages=False,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return user


QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class SandboxState:
    """The whole emulated Telegram: every bot's chats, the people in them, files, queries, charges and updates."""

    # How long a simulated person waits for the bot by default (SimulatedUser's waits and button presses); a suite
    # running beside other work may set a longer one.
    reply_timeout: float = 5.0

    def __init__(
        self,
        *,
        pre_checkout_timeout: float,
        callback_query_timeout: float,
        refund_service_messages: bool,
        currency_limits: dict[str, tuple[int, int]] | None,
        default_username: str,
        default_first_name: str,
    ) -> None:
        self.bots: dict[str, BotState] = {}
        self.files = FileStore()
        self.calls: list[ApiCall] = []  # everything but getUpdates
        self.polls: list[ApiCall] = []  # getUpdates calls
        self.unknown_methods: list[str] = []
        self.refunds: list[Refund] = []
        self.charges: dict[str, Charge] = {}
        self.updates: list[tuple[int, dict[str, Any]]] = []  # every update ever posted: (bot id, update)
        self.chat_actions: list[tuple[int, int, str]] = []  # (bot id, chat id, action)
        self.pre_checkout_errors: list[tuple[int, str]] = []  # (user id, error_message) shown to payers
        self.pre_checkout_timeout = pre_checkout_timeout
        self.callback_query_timeout = callback_query_timeout
        self.refund_service_messages = refund_service_messages
        self.currency_limits = dict(CURRENCY_LIMITS if currency_limits is None else currency_limits)
        self._users: dict[tuple[int, int], Person] = {}
        self._queries: dict[str, PendingQuery] = {}
        self._closing = False
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._activity = Signal()
        self._query_seq = secrets.randbelow(10**6) * 10**6
        self._charge_seq = 0
        self._default_username = default_username
        self._default_first_name = default_first_name

    # ------------------------------------------------------------------------------------------------ bots

    def add_bot(self, token: str, username: str | None = None, first_name: str | None = None) -> BotState:
        """Register a bot token (id = the digits before ':')."""
        head = token.split(":", 1)[0]
        if not head.isdigit() or ":" not in token:
            raise ValueError(f"not a bot token: {token!r}")
        if token in self.bots:
            return self.bots[token]
        state = BotState(
            token,
            username or (self._default_username if not self.bots else f"bot{head}_bot"),
            first_name or self._default_first_name,
        )
        self.bots[token] = state
        return state

    @property
    def bot(self) -> BotState:
        """The only (or first) bot."""
        if not self.bots:
            raise RuntimeError("no bot registered: emu.add_bot(token)")
        return next(iter(self.bots.values()))

    def _bot(self, bot: str | int | BotState | None) -> BotState:
        if bot is None:
            return self.bot
        if isinstance(bot, BotState):
            return bot
        for state in self.bots.values():
            if bot in (state.token, state.id, state.username):
                return state
        raise KeyError(f"unknown bot {bot!r}")

    # ------------------------------------------------------------------------------------------------ people and chats

    def _person(self, bot: BotState, chat_id: int) -> Person | None:
        return self._users.get((bot.id, chat_id))

    def _chat_for_user(self, bot: BotState, person: Person) -> ChatState:
        chat = bot.chats.get(person.id)
        if chat is None:
            chat = ChatState(id=person.id, json=person.chat_json())
            bot.chats[person.id] = chat
        return chat

    def _resolve_chat(self, bot: BotState, raw: Any, *, write: bool = True) -> ChatState:
        """The chat a request names, refused as Telegram refuses it (unknown, blocked, never started)."""
        if raw is None or raw == "":
            raise bad("chat_id is empty")
        if isinstance(raw, str):
            try:
                chat_id = int(raw.strip())
            except ValueError:
                raise bad("chat not found") from None
        elif isinstance(raw, bool) or not isinstance(raw, int):
            raise bad("chat not found")
        else:
            chat_id = raw
        person = self._users.get((bot.id, chat_id))
        if person is None:
            raise bad("chat not found")
        if write:
            if person.deactivated:
                raise forbidden("user is deactivated")
            if person.blocked:
                raise forbidden("bot was blocked by the user")
            if not person.started:
                raise forbidden("bot can't initiate conversation with a user")
        return self._chat_for_user(bot, person)

    def _store(
        self,
        bot: BotState,
        chat: ChatState,
        content: dict[str, Any],
        *,
        outgoing: bool,
        sender: dict[str, Any] | None = None,
        reply_markup: dict[str, Any] | None = None,
        protect: bool = False,
        reply_to: StoredMessage | None = None,
        invoice: InvoiceInfo | None = None,
    ) -> StoredMessage:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        data: dict[str, Any] = {
            "message_id": message_id,
            "from": sender or bot.user_json(),
            "chat": dict(chat.json),
            "date": int(time.time()),
        }
        if reply_to is not None:
            replied = copy.deepcopy(reply_to.data)
            replied.pop("reply_to_message", None)
            data["reply_to_message"] = replied
        data.update(content)
        if protect:
            data["has_protected_content"] = True
        if reply_markup and "inline_keyboard" in reply_markup:
            data["reply_markup"] = copy.deepcopy(reply_markup)
        stored = StoredMessage(bot.id, chat.id, data, outgoing, copy.deepcopy(reply_markup), invoice=invoice)
        chat.messages[message_id] = stored
        if outgoing:
            self._notify_person(bot, chat.id, "new", stored)
        return stored

    def _notify_person(self, bot: BotState, chat_id: int, kind: str, stored: StoredMessage) -> None:
        person = self._person(bot, chat_id)
        if person is not None:
            person._receive(InboxEvent(kind, stored.view()))

    # ------------------------------------------------------------------------------------------------ updates

    def _post_update(self, bot: BotState, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        update = {"update_id": bot.next_update_id, kind: payload}
        bot.next_update_id += 1
        allowed = bot.allowed_updates if bot.allowed_updates is not None else DEFAULT_ALLOWED_UPDATES
        self.updates.append((bot.id, update))
        if kind not in allowed:
            log.debug("update %s dropped by allowed_updates", kind)
            self._touch()
            return None
        bot.pending.append(update)
        bot.signal.notify()
        self._touch()
        return update

    @property
    def pending_updates(self) -> int:
        return sum(len(b.pending) for b in self.bots.values())

    def _touch(self) -> None:
        self._last_activity = time.monotonic()
        self._activity.notify()

    # ------------------------------------------------------------------------------------------------ queries

    def _new_query_id(self) -> str:
        self._query_seq += 1
        return str(4_000_000_000_000_000_000 + self._query_seq * 7919)

    def _open_query(self, bot: BotState, kind: str, user_id: int, timeout: float) -> PendingQuery:
        loop = asyncio.get_running_loop()
        query = PendingQuery(
            id=self._new_query_id(),
            kind=kind,
            bot_id=bot.id,
            user_id=user_id,
            deadline=time.monotonic() + timeout,
            future=loop.create_future(),
        )
        self._queries[query.id] = query
        return query

    def _take_query(self, bot: BotState, kind: str, query_id: str | None) -> PendingQuery:
        query = self._queries.get(query_id or "")
        if (
            query is None
            or query.kind != kind
            or query.bot_id != bot.id
            or query.answered
            or time.monotonic() > query.deadline
        ):
            raise bad(QUERY_TOO_OLD)
        query.answered = True
        return query

    # ------------------------------------------------------------------------------------------------ money

    def _create_charge(self, bot: BotState, user_id: int, info: InvoiceInfo) -> Charge:
        self._charge_seq += 1
        if info.currency == "XTR":
            charge_id = "stx" + secrets.token_urlsafe(54).replace("-", "A").replace("_", "b")[:72]
            provider_id = f"{user_id}_{self._charge_seq}"
        else:
            charge_id = f"{bot.id}_{user_id}_{self._charge_seq}_{secrets.randbelow(10**6)}"
            provider_id = (
                f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-5000-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
            )
        charge = Charge(
            charge_id=charge_id,
            provider_charge_id=provider_id,
            bot_id=bot.id,
            user_id=user_id,
            currency=info.currency,
            total_amount=info.total_amount,
            payload=info.payload,
            date=int(time.time()),
        )
        self.charges[charge_id] = charge
        return charge
