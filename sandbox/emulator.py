"""An emulator of the Telegram Bot API over HTTP, for end-to-end tests and the offline playground.

It speaks the real wire protocol (``{base}/bot{token}/{method}``, multipart or urlencoded or JSON bodies, files as
``attach://`` parts, ``{base}/file/bot{token}/{path}`` downloads) with the real response shapes and error texts, so
the bot under test runs unchanged: point aiogram at ``TelegramAPIServer.from_base(emu.base_url)``.

People are simulated by :class:`sandbox.users.SimulatedUser` (``emu.user(...)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, web

from .formatting import EntityParseError, auto_entities, parse_text, sort_entities, trim_text, utf16_len
from .media import MAX_DOWNLOAD_SIZE, MAX_UPLOAD, FileRecord, FileStore, MediaError
from .messages import BotMessage, CallbackAnswer, InboxEvent, Refund

if TYPE_CHECKING:
    from .users import SimulatedUser

__all__ = ["ApiCall", "ApiError", "BotApiEmulator", "UploadedFile"]

log = logging.getLogger("sandbox.emulator")

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
        "business_message", "edited_business_message", "deleted_business_messages", "inline_query",
        "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media",
        "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip
CHAT_ACTIONS = frozenset(
    {
        "cancel", "typing", "record_video", "upload_video", "record_audio", "record_voice", "upload_audio",
        "upload_voice", "upload_photo", "upload_document", "choose_sticker", "pick_up_location", "find_location",
        "record_video_note", "upload_video_note",
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

QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a current "
    "content and reply markup of the message"
)

# How form fields are typed (Telegram knows each method's parameter types; this is the same knowledge, by name).
JSON_FIELDS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "prices", "suggested_tip_amounts", "scope", "commands",
        "allowed_updates", "menu_button", "media", "reply_parameters", "link_preview_options", "results", "options",
        "message_ids", "explanation_entities", "rights", "button", "question_entities", "reaction",
        "shipping_options", "text_entities",
    }
)  # fmt: skip
INT_FIELDS = frozenset(
    {
        "message_id", "offset", "limit", "timeout", "user_id", "max_tip_amount", "photo_size", "photo_width",
        "photo_height", "cache_time", "message_thread_id", "max_connections", "subscription_period",
        "reply_to_message_id", "duration", "width", "height", "until_date",
    }
)  # fmt: skip
BOOL_FIELDS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "ok", "need_name", "need_phone_number",
        "need_email", "need_shipping_address", "send_phone_number_to_provider", "send_email_to_provider",
        "is_flexible", "drop_pending_updates", "allow_sending_without_reply", "has_spoiler",
        "disable_content_type_detection", "show_caption_above_media", "allow_paid_broadcast",
        "disable_web_page_preview", "for_channels", "is_big",
    }
)  # fmt: skip


class ApiError(Exception):
    """An error response: HTTP status = error_code, body {"ok": false, "error_code", "description"[, "parameters"]}."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def forbidden(description: str) -> ApiError:
    return ApiError(403, f"Forbidden: {description}")


@dataclass
class UploadedFile:
    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return f"<UploadedFile {self.field_name} {self.filename!r} {len(self.data)} bytes>"


@dataclass
class ApiCall:
    """One request the bot made. ``params`` are decoded (JSON fields parsed, ints and bools typed)."""

    bot_id: int
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float
    ok: bool | None = None
    result: Any = None
    error_code: int | None = None
    description: str | None = None

    def file(self, param: str) -> UploadedFile | None:
        """The uploaded file for a parameter (direct multipart or attach://name)."""
        value = self.params.get(param)
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value[len("attach://") :])
        return None

    def __repr__(self) -> str:
        status = "ok" if self.ok else f"{self.error_code} {self.description}"
        shown = {k: v for k, v in self.params.items() if k not in ("reply_markup",)}
        return f"<ApiCall {self.method} {shown} -> {status}>"


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


@dataclass
class FailureRule:
    method: str
    code: int
    description: str
    parameters: dict[str, Any] | None
    remaining: int
    chat_id: int | None = None


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


class Params:
    """Typed access to a request's parameters."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, UploadedFile):
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    def required(self, name: str) -> str:
        value = self.str(name)
        if not value:
            raise bad(f'parameter "{name}" is required')
        return value

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            return default

    def bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        return str(value).strip().lower() in ("true", "yes", "1")

    def json(self, name: str, error: str | None = None) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, (dict, list, int, float, bool)):
            return value
        try:
            return json.loads(str(value))
        except ValueError:
            raise bad(error or f"can't parse {name} JSON object") from None

    def file(self, name: str) -> UploadedFile | str | None:
        value = self.values.get(name)
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value[len("attach://") :])
        if value is None or value == "":
            return None
        return str(value)


def _decode_value(name: str, value: Any) -> Any:
    if isinstance(value, UploadedFile) or not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name in INT_FIELDS or name in ("chat_id", "from_chat_id"):
        try:
            return int(value.strip())
        except ValueError:
            return value
    if name in BOOL_FIELDS:
        return value.strip().lower() in ("true", "yes", "1")
    return value


Handler = Callable[[BotState, Params], Awaitable[Any]]


class BotApiEmulator:
    """The Telegram Bot API for one or more bots, on 127.0.0.1.

    >>> emu = BotApiEmulator()
    >>> emu.add_bot("123456:TEST")           # doctest: +SKIP
    >>> await emu.start()                     # doctest: +SKIP
    >>> bot = Bot("123456:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        bot_username: str = "stroboscope_test_bot",
        bot_first_name: str = "Stroboscope",
        pre_checkout_timeout: float = 10.0,
        callback_query_timeout: float = 15.0,
        refund_service_messages: bool = True,
        currency_limits: dict[str, tuple[int, int]] | None = None,
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
        self._users: dict[tuple[int, int], SimulatedUser] = {}
        self._queries: dict[str, PendingQuery] = {}
        self._failures: list[FailureRule] = []
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"
        self._closing = False
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._activity = Signal()
        self._http: ClientSession | None = None
        self._query_seq = secrets.randbelow(10**6) * 10**6
        self._charge_seq = 0
        self._handlers: dict[str, tuple[str, Handler]] = {}
        self._register_handlers()
        self.app = web.Application(client_max_size=MAX_UPLOAD + 10 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._extra_routes: list[Callable[[web.Application], None]] = []
        if token:
            self.add_bot(token, username=bot_username, first_name=bot_first_name)
        self._default_username = bot_username
        self._default_first_name = bot_first_name

    # ------------------------------------------------------------------------------------------------ lifecycle

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

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> None:
        for hook in self._extra_routes:
            hook(self.app)
        self._runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        server = self._site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._port = sockets[0].getsockname()[1] if sockets else port
        self._host = host

    async def stop(self) -> None:
        self._closing = True
        for bot in self.bots.values():
            bot.signal.notify()
            if bot.webhook_task:
                bot.webhook_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await bot.webhook_task
        for query in self._queries.values():
            if not query.future.done():
                query.future.cancel()
        if self._http:
            await self._http.close()
        if self._runner:
            await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

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

    # ------------------------------------------------------------------------------------------------ people

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        phone: str | None = None,
        *,
        bot: str | int | None = None,
        is_premium: bool = False,
    ) -> SimulatedUser:
        """A person in a private chat with the bot (the same object for the same id)."""
        from .users import SimulatedUser

        state = self._bot(bot)
        key = (state.id, user_id)
        existing = self._users.get(key)
        if existing is not None:
            return existing
        person = SimulatedUser(
            self,
            state,
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone=phone,
            is_premium=is_premium,
        )
        self._users[key] = person
        return person

    def users(self, bot: str | int | None = None) -> list[SimulatedUser]:
        state = self._bot(bot)
        return [u for (bot_id, _), u in self._users.items() if bot_id == state.id]

    def _chat_for_user(self, bot: BotState, person: SimulatedUser) -> ChatState:
        chat = bot.chats.get(person.id)
        if chat is None:
            chat = ChatState(id=person.id, json=person.chat_json())
            bot.chats[person.id] = chat
        return chat

    # ------------------------------------------------------------------------------------------------ test helpers

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (optionally only to ``chat_id``) fail like Telegram would."""
        parameters: dict[str, Any] | None = None
        if error_code == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        elif description is None:
            description = {
                400: "Bad Request: injected failure",
                403: "Forbidden: bot was blocked by the user",
                409: "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, f"Error {error_code}")
        self._failures.append(FailureRule(method.lower(), error_code, description, parameters, times, chat_id))

    def calls_to(self, method: str, bot: str | int | None = None) -> list[ApiCall]:
        name = method.lower()
        bot_id = self._bot(bot).id if bot is not None else None
        return [c for c in self.calls if c.method.lower() == name and (bot_id is None or c.bot_id == bot_id)]

    def messages_in(
        self, chat_id: int, bot: str | int | None = None, *, include_deleted: bool = False
    ) -> list[BotMessage]:
        """Messages the bot sent to this chat, in order, as they are now (after edits)."""
        state = self._bot(bot)
        chat = state.chats.get(int(chat_id))
        if chat is None:
            return []
        return [m.view() for m in chat.history() if m.outgoing and (include_deleted or not m.deleted)]

    def history(self, chat_id: int, bot: str | int | None = None) -> list[BotMessage]:
        """Every message in the chat, both ways, deleted ones included."""
        state = self._bot(bot)
        chat = state.chats.get(int(chat_id))
        return [m.view() for m in chat.history()] if chat else []

    def commands_for(self, user_id: int, language_code: str | None = None, bot: str | int | None = None) -> list[dict]:
        """The command menu a private-chat user sees (Telegram's scope and language fallback)."""
        state = self._bot(bot)
        langs = [language_code, ""] if language_code else [""]
        scopes = [
            _scope_key({"type": "chat_member", "chat_id": user_id, "user_id": user_id}),
            _scope_key({"type": "chat", "chat_id": user_id}),
            _scope_key({"type": "all_private_chats"}),
            _scope_key({"type": "default"}),
        ]
        for scope in scopes:
            for lang in langs:
                commands = state.commands.get((scope, lang or ""))
                if commands:
                    return copy.deepcopy(commands)
        return []

    def redeliver(self, update: dict[str, Any], bot: str | int | None = None) -> dict[str, Any]:
        """Deliver the same update content again (as Telegram may), under a new update_id."""
        state = self._bot(bot)
        kinds = [k for k in update if k != "update_id"]
        if len(kinds) != 1:
            raise ValueError("not an update")
        kind = kinds[0]
        posted = self._post_update(state, kind, copy.deepcopy(update[kind]))
        if posted is None:
            raise RuntimeError(f"{kind} updates are filtered out by the bot's allowed_updates")
        return posted

    def post_update(self, kind: str, payload: dict[str, Any], bot: str | int | None = None) -> dict[str, Any] | None:
        """Post any raw update (e.g. my_chat_member) to the bot."""
        return self._post_update(self._bot(bot), kind, payload)

    @property
    def pending_updates(self) -> int:
        return sum(len(b.pending) for b in self.bots.values())

    async def wait_polling(self, timeout: float = 5.0, bot: str | int | None = None) -> None:  # noqa: ASYNC109
        """Wait until the bot is long-polling (or has a webhook set)."""
        state = self._bot(bot)
        deadline = time.monotonic() + timeout
        while not (state.polling or state.webhook_url):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the bot did not start polling")
            await self._activity.wait(remaining)

    async def wait_idle(self, quiet: float = 0.15, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every update is confirmed, no request is in flight and nothing happened for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = self._inflight > 0 or self.pending_updates > 0 or any(b.webhook_busy for b in self.bots.values())
            idle_for = now - self._last_activity
            if not busy and idle_for >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(
                    f"not idle after {timeout}s: {self._inflight} requests in flight, "
                    f"{self.pending_updates} updates not confirmed (is the bot polling?)"
                )
            wait = (quiet - idle_for) if not busy else (deadline - now)
            await self._activity.wait(max(0.005, min(wait, deadline - now)))

    def _touch(self) -> None:
        self._last_activity = time.monotonic()
        self._activity.notify()

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

    def _confirm(self, bot: BotState, offset: int) -> None:
        if offset > 0:
            bot.pending = [u for u in bot.pending if u["update_id"] >= offset]
        elif offset < 0:
            bot.pending = bot.pending[offset:]

    # ------------------------------------------------------------------------------------------------ HTTP

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype.startswith("multipart/"):
                reader = await request.multipart()
                while True:
                    part = await reader.next()
                    if part is None:
                        break
                    if not isinstance(part, BodyPartReader) or part.name is None:
                        continue
                    data = await part.read(decode=True)
                    if part.filename is not None:
                        upload = UploadedFile(part.name, part.filename, part.headers.get("Content-Type"), bytes(data))
                        files[part.name] = upload
                        raw[part.name] = upload
                    else:
                        raw[part.name] = bytes(data).decode("utf-8", "replace")
            elif ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad("can't parse JSON encoded request") from None
                if isinstance(body, dict):
                    raw.update(body)
            else:
                raw.update(await request.post())  # type: ignore[arg-type]
        return raw, files

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        bot = self.bots.get(token)
        if bot is None:
            return _json_response(ApiError(401, "Unauthorized").body(), 401)
        entry = self._handlers.get(method.lower())
        if entry is None:
            self.unknown_methods.append(method)
            log.warning("unknown Bot API method %s", method)
            return _json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        name, handler = entry
        try:
            raw, files = await self._read_params(request)
        except ApiError as e:
            return _json_response(e.body(), e.code)
        except web.HTTPRequestEntityTooLarge:
            return _json_response(ApiError(413, "Request Entity Too Large").body(), 413)
        params = {k: _decode_value(k, v) for k, v in raw.items()}
        call = ApiCall(bot.id, name, params, files, at=time.time())
        return await self._execute(bot, call, handler)

    async def _execute(self, bot: BotState, call: ApiCall, handler: Handler) -> web.Response:
        is_poll = call.method == "getUpdates"
        (self.polls if is_poll else self.calls).append(call)
        if not is_poll:
            self._inflight += 1
        self._touch()
        try:
            self._check_injected(call)
            result = await handler(bot, Params(call.params, call.files))
            call.ok, call.result = True, result
            return _json_response({"ok": True, "result": result}, 200)
        except ApiError as e:
            call.ok, call.error_code, call.description = False, e.code, e.description
            return _json_response(e.body(), e.code)
        finally:
            if not is_poll:
                self._inflight -= 1
            self._touch()

    async def call(self, method: str, bot: str | int | None = None, **params: Any) -> Any:
        """Run a Bot API method in-process as the bot would (handy in tests; recorded like any call).

        Raises ApiError on an error response.
        """
        state = self._bot(bot)
        entry = self._handlers.get(method.lower())
        if entry is None:
            self.unknown_methods.append(method)
            raise ApiError(404, "Not Found")
        name, handler = entry
        decoded = {k: _decode_value(k, v) for k, v in params.items() if v is not None}
        call = ApiCall(state.id, name, decoded, {}, at=time.time())
        response = await self._execute(state, call, handler)
        assert response.text is not None
        body = json.loads(response.text)
        if not body["ok"]:
            raise ApiError(body["error_code"], body["description"], body.get("parameters"))
        return body["result"]

    def _check_injected(self, call: ApiCall) -> None:
        for rule in self._failures:
            if rule.method != call.method.lower() or rule.remaining <= 0:
                continue
            if rule.chat_id is not None and call.params.get("chat_id") != rule.chat_id:
                continue
            rule.remaining -= 1
            self._failures = [r for r in self._failures if r.remaining > 0]
            raise ApiError(rule.code, rule.description, copy.deepcopy(rule.parameters))

    async def _handle_file(self, request: web.Request) -> web.Response:
        bot = self.bots.get(request.match_info["token"])
        if bot is None:
            return _json_response(ApiError(401, "Unauthorized").body(), 401)
        record = self.files.by_path.get((bot.id, request.match_info["path"]))
        if record is None:
            return _json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        self._touch()
        return web.Response(body=record.data, content_type=record.mime_type or "application/octet-stream")

    # ------------------------------------------------------------------------------------------------ chats

    def _resolve_chat(self, bot: BotState, raw: Any, *, write: bool = True) -> ChatState:
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

    def _person(self, bot: BotState, chat_id: int) -> SimulatedUser | None:
        return self._users.get((bot.id, chat_id))

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

    def _message(self, chat: ChatState, message_id: int | None) -> StoredMessage | None:
        if message_id is None:
            return None
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            return None
        return stored

    def _reply_to(self, chat: ChatState, p: Params) -> StoredMessage | None:
        reply_parameters = p.json("reply_parameters", "can't parse reply parameters JSON object")
        allow = p.bool("allow_sending_without_reply")
        message_id = p.int("reply_to_message_id")
        if isinstance(reply_parameters, dict) and reply_parameters:
            try:
                message_id = int(reply_parameters.get("message_id", 0))
            except (TypeError, ValueError):
                raise bad('can\'t parse reply parameters: field "message_id" must be a valid Number') from None
            allow = bool(reply_parameters.get("allow_sending_without_reply"))
        if not message_id:
            return None
        stored = self._message(chat, message_id)
        if stored is None and not allow:
            raise bad("message to be replied not found")
        return stored

    # ------------------------------------------------------------------------------------------------ validation

    def _formatted(
        self,
        p: Params,
        text_field: str,
        entities_field: str,
        *,
        limit: int,
        required: bool,
        too_long: str,
        empty: str = "message text is empty",
        parse_mode_field: str = "parse_mode",
    ) -> tuple[str | None, list[dict[str, Any]]]:
        raw = p.str(text_field)
        if raw is None or raw == "":
            if required:
                raise bad(empty)
            return None, []
        entities_value = p.json(entities_field, f"can't parse {entities_field.replace('_', ' ')} JSON object")
        return self._format_text(raw, p.str(parse_mode_field), entities_value, limit, required, too_long, empty)

    def _format_text(
        self,
        raw: str,
        parse_mode: str | None,
        entities_value: Any,
        limit: int,
        required: bool,
        too_long: str,
        empty: str = "message text is empty",
    ) -> tuple[str | None, list[dict[str, Any]]]:
        if entities_value:
            if not isinstance(entities_value, list):
                raise bad("can't parse entities: expected an Array of MessageEntity")
            text, entities = raw, [dict(e) for e in entities_value if isinstance(e, dict)]
            total = utf16_len(text)
            for entity in entities:
                if not {"type", "offset", "length"} <= entity.keys():
                    raise bad("can't parse entities: MessageEntity must have type, offset and length")
                if entity["offset"] < 0 or entity["length"] <= 0 or entity["offset"] + entity["length"] > total:
                    raise bad("entity beginning out of bounds" if entity["offset"] > total else "entity too long")
        else:
            try:
                text, entities = parse_text(raw, parse_mode)
            except EntityParseError as e:
                raise bad(f"can't parse entities: {e}") from None
            except ValueError:
                raise bad(f"unsupported parse_mode {parse_mode!r}") from None
        text, entities = trim_text(text, entities)
        if not text:
            if required:
                raise bad(empty)
            return None, []
        if len(text) > limit:
            raise bad(too_long)
        entities = sort_entities(entities + auto_entities(text, entities))
        return text, entities

    def _markup(self, p: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        value = p.json("reply_markup", "can't parse reply keyboard markup JSON object")
        if value is None:
            return None
        markup = self._validate_markup(value)
        if markup is not None and inline_only and "inline_keyboard" not in markup:
            raise bad("inline keyboard expected")
        return markup

    def _validate_markup(self, value: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            raise bad("object expected as reply markup")
        if value.get("keyboard"):
            rows = value["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad('field "keyboard" must be an Array of Arrays')
            clean_rows = []
            for row in rows:
                clean_row = []
                for button in row:
                    if isinstance(button, str):
                        clean_row.append({"text": button})
                    elif isinstance(button, dict) and isinstance(button.get("text"), str):
                        clean_row.append(dict(button))
                    else:
                        raise bad('can\'t parse keyboard button: Field "text" must be of type String')
                clean_rows.append(clean_row)
            if any(clean_rows):
                return {**value, "keyboard": clean_rows}
        if value.get("inline_keyboard"):
            rows = value["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
            count = 0
            clean_rows = []
            for row in rows:
                clean_row = []
                for button in row:
                    clean_row.append(self._validate_inline_button(button))
                    count += 1
                clean_rows.append(clean_row)
            if count > 100:
                raise bad("reply markup is too long")
            if any(clean_rows):
                return {"inline_keyboard": clean_rows}
        if value.get("remove_keyboard") or value.get("hide_keyboard"):
            return {"remove_keyboard": True, **({"selective": True} if value.get("selective") else {})}
        if value.get("force_reply"):
            return {k: v for k, v in value.items() if k in ("force_reply", "input_field_placeholder", "selective")}
        return None

    def _validate_inline_button(self, button: Any) -> dict[str, Any]:
        prefix = "can't parse inline keyboard button: "
        if not isinstance(button, dict):
            raise bad(prefix + "InlineKeyboardButton must be an Object")
        if not isinstance(button.get("text"), str):
            raise bad(prefix + 'Field "text" must be of type String')
        result = {"text": button["text"]}
        url = button.get("url")
        if url:
            if any(ch.isspace() for ch in str(url)) or ("." not in str(url) and not str(url).startswith("tg://")):
                raise bad("BUTTON_URL_INVALID")
            return {**result, "url": str(url)}
        data = button.get("callback_data")
        if data:
            if len(str(data).encode("utf-8")) > MAX_CALLBACK_DATA:
                raise bad("BUTTON_DATA_INVALID")
            return {**result, "callback_data": str(data)}
        for key in (
            "callback_game", "pay", "switch_inline_query", "switch_inline_query_chosen_chat",
            "switch_inline_query_current_chat", "login_url", "web_app", "copy_text",
        ):  # fmt: skip
            if key in button:
                return {**result, key: button[key]}
        raise bad(prefix + "Text buttons are unallowed in the inline keyboard")

    # ------------------------------------------------------------------------------------------------ files

    async def _input_photo(self, bot: BotState, value: UploadedFile | str | None) -> list[dict[str, Any]]:
        if value is None:
            raise bad("there is no photo in the request")
        if isinstance(value, UploadedFile):
            try:
                records = await asyncio.to_thread(self.files.add_photo, bot.id, value.data)
            except MediaError as e:
                raise bad(str(e)) from None
            self.files.link_group(records)
            return [r.photo_size() for r in records]
        record = self._known_file(bot, value)
        if record.kind not in ("photo", "thumbnail"):
            raise bad("type of file mismatch")
        return [r.photo_size() for r in self.files.photo_group(record)]

    def _input_document(self, bot: BotState, value: UploadedFile | str | None) -> dict[str, Any]:
        if value is None:
            raise bad("there is no document in the request")
        if isinstance(value, UploadedFile):
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = None
            try:
                record = self.files.add_document(bot.id, value.data, value.filename, mime)
            except MediaError as e:
                raise bad(str(e)) from None
            return record.document()
        record = self._known_file(bot, value)
        if record.kind != "document":
            raise bad("type of file mismatch")
        return record.document()

    def _known_file(self, bot: BotState, value: str) -> FileRecord:
        if value.startswith(("http://", "https://")):
            raise bad("failed to get HTTP URL content")
        record = self.files.get(value.strip())
        if record is None or record.bot_id != bot.id:
            raise bad("wrong file identifier/HTTP URL specified")
        return record

    # ------------------------------------------------------------------------------------------------ handlers

    def _register_handlers(self) -> None:
        for attr in dir(self):
            if attr.startswith("m_"):
                name = attr[2:]
                self._handlers[name.lower()] = (name, getattr(self, attr))

    async def m_getMe(self, bot: BotState, p: Params) -> Any:
        return bot.user_json(full=True)

    async def m_logOut(self, bot: BotState, p: Params) -> Any:
        return True

    async def m_close(self, bot: BotState, p: Params) -> Any:
        return True

    async def m_getUpdates(self, bot: BotState, p: Params) -> Any:
        if bot.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                "webhook first",
            )
        offset = p.int("offset", 0) or 0
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        timeout = min(max(p.int("timeout", 0) or 0, 0), 50)
        if "allowed_updates" in p:
            allowed = p.json("allowed_updates", "can't parse allowed_updates JSON object")
            if isinstance(allowed, list):
                bot.allowed_updates = frozenset(str(a) for a in allowed) if allowed else None
        self._confirm(bot, offset)
        bot.poll_generation += 1
        generation = bot.poll_generation
        bot.signal.notify()  # an older getUpdates still waiting is terminated
        deadline = time.monotonic() + timeout
        bot.polling += 1
        self._touch()
        try:
            while True:
                if generation != bot.poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
                        "running",
                    )
                if bot.pending:
                    return copy.deepcopy(bot.pending[:limit])
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closing:
                    return []
                await bot.signal.wait(remaining)
        finally:
            bot.polling -= 1

    async def m_setWebhook(self, bot: BotState, p: Params) -> Any:
        url = p.str("url") or ""
        if url and not url.startswith(("http://", "https://")):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        if p.bool("drop_pending_updates"):
            bot.pending.clear()
        if "allowed_updates" in p:
            allowed = p.json("allowed_updates")
            if isinstance(allowed, list):
                bot.allowed_updates = frozenset(str(a) for a in allowed) if allowed else None
        bot.webhook_url = url
        bot.webhook_secret = p.str("secret_token")
        bot.webhook_max_connections = p.int("max_connections", 40) or 40
        bot.webhook_last_error = None
        bot.poll_generation += 1
        bot.signal.notify()
        if url and (bot.webhook_task is None or bot.webhook_task.done()):
            bot.webhook_task = asyncio.create_task(self._webhook_loop(bot))
        return True

    async def m_deleteWebhook(self, bot: BotState, p: Params) -> Any:
        bot.webhook_url = ""
        if p.bool("drop_pending_updates"):
            bot.pending.clear()
        bot.signal.notify()
        return True

    async def m_getWebhookInfo(self, bot: BotState, p: Params) -> Any:
        info: dict[str, Any] = {
            "url": bot.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(bot.pending),
        }
        if bot.webhook_url:
            info["max_connections"] = bot.webhook_max_connections
            info["ip_address"] = "127.0.0.1"
            if bot.allowed_updates is not None:
                info["allowed_updates"] = sorted(bot.allowed_updates)
            if bot.webhook_last_error:
                info["last_error_date"], info["last_error_message"] = bot.webhook_last_error
        return info

    async def _webhook_loop(self, bot: BotState) -> None:
        if self._http is None:
            self._http = ClientSession(timeout=ClientTimeout(total=60))
        backoff = 0.05
        while bot.webhook_url and not self._closing:
            if not bot.pending:
                await bot.signal.wait(None)
                continue
            update = bot.pending[0]
            headers = {"Content-Type": "application/json"}
            if bot.webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook_secret
            bot.webhook_busy = True
            try:
                async with self._http.post(bot.webhook_url, data=json.dumps(update), headers=headers) as resp:
                    body = await resp.read()
                    status = resp.status
            except Exception as e:
                bot.webhook_last_error = (int(time.time()), f"Connection failed: {type(e).__name__}")
                status, body = 0, b""
            finally:
                bot.webhook_busy = False
            if 200 <= status < 300:
                if bot.pending and bot.pending[0] is update:
                    bot.pending.pop(0)
                backoff = 0.05
                self._touch()
                await self._webhook_reply(bot, body)
                continue
            if status:
                bot.webhook_last_error = (int(time.time()), f"Wrong response from the webhook: {status}")
            self._touch()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 1.0)

    async def _webhook_reply(self, bot: BotState, body: bytes) -> None:
        if not body:
            return
        try:
            reply = json.loads(body)
        except ValueError:
            return
        if not isinstance(reply, dict) or "method" not in reply:
            return
        method = str(reply.pop("method"))
        entry = self._handlers.get(method.lower())
        if entry is None:
            self.unknown_methods.append(method)
            return
        name, handler = entry
        params = {k: _decode_value(k, v) for k, v in reply.items()}
        await self._execute(bot, ApiCall(bot.id, name, params, {}, at=time.time()), handler)

    # commands, menu button, profile texts

    async def m_setMyCommands(self, bot: BotState, p: Params) -> Any:
        commands = p.json("commands", "can't parse commands JSON object")
        if commands is None:
            commands = []
        if not isinstance(commands, list):
            raise bad("expected an Array of BotCommand")
        if len(commands) > 100:
            raise bad("too many commands specified")
        clean = []
        for command in commands:
            if not isinstance(command, dict) or "command" not in command or "description" not in command:
                raise bad('can\'t parse BotCommand: Field "command" must be of type String')
            name = str(command["command"])
            description = str(command["description"])
            if not (1 <= len(name) <= 32) or not all(c.islower() or c.isdigit() or c == "_" for c in name):
                raise bad("BOT_COMMAND_INVALID")
            if not name.isascii():
                raise bad("BOT_COMMAND_INVALID")
            if not (1 <= len(description) <= 256):
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = (self._scope(bot, p), self._language(p))
        if clean:
            bot.commands[key] = clean
        else:
            bot.commands.pop(key, None)
        return True

    async def m_getMyCommands(self, bot: BotState, p: Params) -> Any:
        return copy.deepcopy(bot.commands.get((self._scope(bot, p), self._language(p)), []))

    async def m_deleteMyCommands(self, bot: BotState, p: Params) -> Any:
        bot.commands.pop((self._scope(bot, p), self._language(p)), None)
        return True

    def _scope(self, bot: BotState, p: Params) -> str:
        scope = p.json("scope", "can't parse BotCommandScope JSON object")
        if scope is None:
            return _scope_key({"type": "default"})
        if not isinstance(scope, dict):
            raise bad("can't parse BotCommandScope: BotCommandScope must be an Object")
        kind = scope.get("type")
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return _scope_key({"type": kind})
        if kind not in ("chat", "chat_administrators", "chat_member"):
            raise bad("can't parse BotCommandScope: Unsupported type specified")
        if scope.get("chat_id") in (None, ""):
            raise bad("can't parse BotCommandScope: Empty chat_id specified")
        chat = self._resolve_chat(bot, scope["chat_id"], write=False)
        if kind == "chat_member":
            return _scope_key({"type": kind, "chat_id": chat.id, "user_id": int(scope.get("user_id") or 0)})
        return _scope_key({"type": kind, "chat_id": chat.id})

    def _language(self, p: Params) -> str:
        lang = p.str("language_code") or ""
        if lang and not (len(lang) == 2 and lang.isalpha() and lang.islower()):
            raise bad("invalid language code specified")
        return lang

    async def m_setChatMenuButton(self, bot: BotState, p: Params) -> Any:
        chat_id = None
        if p.get("chat_id") not in (None, ""):
            chat_id = self._resolve_chat(bot, p.get("chat_id"), write=False).id
        button = p.json("menu_button", "can't parse menu button JSON object")
        if button is None:
            button = {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise bad("can't parse menu button: MenuButton must be an Object")
        if button["type"] == "web_app" and (not button.get("text") or not isinstance(button.get("web_app"), dict)):
            raise bad('can\'t parse menu button: Field "text" must be of type String')
        if button["type"] == "default":
            bot.menu_buttons.pop(chat_id, None)
        else:
            bot.menu_buttons[chat_id] = dict(button)
        return True

    async def m_getChatMenuButton(self, bot: BotState, p: Params) -> Any:
        chat_id = None
        if p.get("chat_id") not in (None, ""):
            chat_id = self._resolve_chat(bot, p.get("chat_id"), write=False).id
        button = bot.menu_buttons.get(chat_id) or bot.menu_buttons.get(None) or {"type": "commands"}
        return copy.deepcopy(button)

    async def _set_text(self, bot: BotState, p: Params, kind: str, limit: int) -> Any:
        value = p.str(kind) or ""
        if len(value) > limit:
            raise bad(f"{kind.replace('_', ' ')} is too long")
        key = (kind, self._language(p))
        if value:
            bot.texts[key] = value
        else:
            bot.texts.pop(key, None)
        return True

    def _get_text(self, bot: BotState, p: Params, kind: str) -> str:
        lang = self._language(p)
        value = bot.texts.get((kind, lang))
        if value is None:
            value = bot.texts.get((kind, ""), bot.first_name if kind == "name" else "")
        return value

    async def m_setMyName(self, bot: BotState, p: Params) -> Any:
        return await self._set_text(bot, p, "name", 64)

    async def m_getMyName(self, bot: BotState, p: Params) -> Any:
        return {"name": self._get_text(bot, p, "name")}

    async def m_setMyDescription(self, bot: BotState, p: Params) -> Any:
        return await self._set_text(bot, p, "description", 512)

    async def m_getMyDescription(self, bot: BotState, p: Params) -> Any:
        return {"description": self._get_text(bot, p, "description")}

    async def m_setMyShortDescription(self, bot: BotState, p: Params) -> Any:
        return await self._set_text(bot, p, "short_description", 120)

    async def m_getMyShortDescription(self, bot: BotState, p: Params) -> Any:
        return {"short_description": self._get_text(bot, p, "short_description")}

    async def m_getChat(self, bot: BotState, p: Params) -> Any:
        chat = self._resolve_chat(bot, p.get("chat_id"), write=False)
        info = dict(chat.json)
        info.update(
            accent_color_id=chat.id % 7,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
            },
        )
        return info

    async def m_sendChatAction(self, bot: BotState, p: Params) -> Any:
        action = (p.str("action") or "").lower()
        if action not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        chat = self._resolve_chat(bot, p.get("chat_id"))
        self.chat_actions.append((bot.id, chat.id, action))
        return True

    # messages

    async def m_sendMessage(self, bot: BotState, p: Params) -> Any:
        text, entities = self._formatted(
            p, "text", "entities", limit=MAX_TEXT, required=True, too_long="message is too long"
        )
        markup = self._markup(p)
        chat = self._resolve_chat(bot, p.get("chat_id"))
        reply_to = self._reply_to(chat, p)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        options = p.json("link_preview_options")
        if isinstance(options, dict) and options:
            content["link_preview_options"] = options
        elif p.bool("disable_web_page_preview"):
            content["link_preview_options"] = {"is_disabled": True}
        stored = self._store(
            bot, chat, content, outgoing=True, reply_markup=markup, protect=p.bool("protect_content"), reply_to=reply_to
        )
        return copy.deepcopy(stored.data)

    def _caption(self, p: Params, content: dict[str, Any], prefix: str = "") -> None:
        caption, entities = self._formatted(
            p,
            prefix + "caption",
            prefix + "caption_entities",
            limit=MAX_CAPTION,
            required=False,
            too_long="message caption is too long",
        )
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        if p.bool("show_caption_above_media"):
            content["show_caption_above_media"] = True

    async def m_sendPhoto(self, bot: BotState, p: Params) -> Any:
        content: dict[str, Any] = {}
        self._caption(p, content)
        markup = self._markup(p)
        chat = self._resolve_chat(bot, p.get("chat_id"))
        reply_to = self._reply_to(chat, p)
        photo = await self._input_photo(bot, p.file("photo"))
        content = {"photo": photo, **content}
        if p.bool("has_spoiler"):
            content["has_media_spoiler"] = True
        stored = self._store(
            bot, chat, content, outgoing=True, reply_markup=markup, protect=p.bool("protect_content"), reply_to=reply_to
        )
        return copy.deepcopy(stored.data)

    async def m_sendDocument(self, bot: BotState, p: Params) -> Any:
        content: dict[str, Any] = {}
        self._caption(p, content)
        markup = self._markup(p)
        chat = self._resolve_chat(bot, p.get("chat_id"))
        reply_to = self._reply_to(chat, p)
        document = self._input_document(bot, p.file("document"))
        content = {"document": document, **content}
        stored = self._store(
            bot, chat, content, outgoing=True, reply_markup=markup, protect=p.bool("protect_content"), reply_to=reply_to
        )
        return copy.deepcopy(stored.data)

    async def m_sendMediaGroup(self, bot: BotState, p: Params) -> Any:
        media = p.json("media", "can't parse media JSON object")
        if not isinstance(media, list) or not media:
            raise bad("there are no messages to send")
        if len(media) > 10:
            raise bad("too many messages to send as an album")
        chat = self._resolve_chat(bot, p.get("chat_id"))
        reply_to = self._reply_to(chat, p)
        kinds = {item.get("type") for item in media if isinstance(item, dict)}
        if "document" in kinds and kinds != {"document"}:
            raise bad("can't use the media of the specified type in the album")
        contents = []
        for item in media:
            contents.append(await self._input_media(bot, p, item))
        group_id = str(secrets.randbelow(10**18))
        results = []
        for content in contents:
            content["media_group_id"] = group_id
            stored = self._store(
                bot, chat, content, outgoing=True, protect=p.bool("protect_content"), reply_to=reply_to
            )
            results.append(copy.deepcopy(stored.data))
        return results

    async def _input_media(self, bot: BotState, p: Params, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
            kind = item.get("type") if isinstance(item, dict) else None
            raise bad(f"can't parse InputMedia: unsupported media type {kind!r} in the emulator")
        media_ref = item.get("media")
        value: UploadedFile | str | None
        if isinstance(media_ref, str) and media_ref.startswith("attach://"):
            value = p.files.get(media_ref[len("attach://") :])
            if value is None:
                raise bad(f'can\'t parse InputMedia: file "{media_ref[len("attach://") :]}" not found')
        else:
            value = media_ref
        content: dict[str, Any] = {}
        if item["type"] == "photo":
            content["photo"] = await self._input_photo(bot, value)
            if item.get("has_spoiler"):
                content["has_media_spoiler"] = True
        else:
            content["document"] = self._input_document(bot, value)
        if item.get("caption"):
            caption, entities = self._format_text(
                str(item["caption"]),
                item.get("parse_mode") or p.str("parse_mode"),
                item.get("caption_entities"),
                MAX_CAPTION,
                False,
                "message caption is too long",
            )
            if caption:
                content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
        return content

    def _edit_target(self, bot: BotState, p: Params) -> tuple[ChatState, StoredMessage]:
        if p.get("chat_id") in (None, "") and not p.int("message_id"):
            if p.str("inline_message_id"):
                raise bad("MESSAGE_ID_INVALID")
            raise bad("message identifier is not specified")
        chat = self._resolve_chat(bot, p.get("chat_id"))
        message_id = p.int("message_id")
        if not message_id:
            raise bad("message identifier is not specified")
        stored = self._message(chat, message_id)
        if stored is None:
            raise bad("message to edit not found")
        if not stored.outgoing:
            raise bad("message can't be edited")
        return chat, stored

    def _apply_edit(
        self,
        bot: BotState,
        chat: ChatState,
        stored: StoredMessage,
        changes: dict[str, Any],
        markup: dict[str, Any] | None,
    ) -> Any:
        data = stored.data
        before = (
            {k: data.get(k) for k in changes},
            data.get("reply_markup"),
        )
        after = (changes, markup)
        if before == after:
            raise bad(NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        if markup:
            data["reply_markup"] = copy.deepcopy(markup)
        else:
            data.pop("reply_markup", None)
        stored.reply_markup = copy.deepcopy(markup)
        data["edit_date"] = int(time.time())
        self._notify_person(bot, chat.id, "edit", stored)
        return copy.deepcopy(data)

    async def m_editMessageText(self, bot: BotState, p: Params) -> Any:
        text, entities = self._formatted(
            p, "text", "entities", limit=MAX_TEXT, required=True, too_long="message is too long"
        )
        markup = self._markup(p, inline_only=True)
        chat, stored = self._edit_target(bot, p)
        if "text" not in stored.data:
            raise bad("there is no text in the message to edit")
        return self._apply_edit(bot, chat, stored, {"text": text, "entities": entities or None}, markup)

    async def m_editMessageCaption(self, bot: BotState, p: Params) -> Any:
        content: dict[str, Any] = {}
        self._caption(p, content)
        markup = self._markup(p, inline_only=True)
        chat, stored = self._edit_target(bot, p)
        if not any(k in stored.data for k in ("photo", "document", "video", "audio", "animation", "voice")):
            raise bad("there is no caption in the message to edit")
        changes = {"caption": content.get("caption"), "caption_entities": content.get("caption_entities")}
        return self._apply_edit(bot, chat, stored, changes, markup)

    async def m_editMessageReplyMarkup(self, bot: BotState, p: Params) -> Any:
        markup = self._markup(p, inline_only=True)
        chat, stored = self._edit_target(bot, p)
        return self._apply_edit(bot, chat, stored, {}, markup)

    async def m_editMessageMedia(self, bot: BotState, p: Params) -> Any:
        item = p.json("media", "can't parse InputMedia JSON object")
        markup = self._markup(p, inline_only=True)
        chat, stored = self._edit_target(bot, p)
        if not any(k in stored.data for k in ("photo", "document", "video", "audio", "animation")):
            raise bad("there is no media in the message to edit")
        content = await self._input_media(bot, p, item)
        changes: dict[str, Any] = {
            "photo": None,
            "document": None,
            "has_media_spoiler": None,
            "caption": None,
            "caption_entities": None,
        }
        changes.update(content)
        return self._apply_edit(bot, chat, stored, changes, markup)

    async def m_deleteMessage(self, bot: BotState, p: Params) -> Any:
        chat = self._resolve_chat(bot, p.get("chat_id"), write=False)
        message_id = p.int("message_id")
        if not message_id:
            raise bad("message identifier is not specified")
        stored = self._message(chat, message_id)
        if stored is None:
            raise bad("message to delete not found")
        stored.deleted = True
        if stored.outgoing:
            self._notify_person(bot, chat.id, "delete", stored)
        return True

    async def m_deleteMessages(self, bot: BotState, p: Params) -> Any:
        chat = self._resolve_chat(bot, p.get("chat_id"), write=False)
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not (1 <= len(ids) <= 100):
            raise bad("too many message identifiers specified" if isinstance(ids, list) else "message_ids is empty")
        for message_id in ids:
            stored = self._message(chat, int(message_id))
            if stored is not None:
                stored.deleted = True
                if stored.outgoing:
                    self._notify_person(bot, chat.id, "delete", stored)
        return True

    def _copyable(self, bot: BotState, p: Params, what: str) -> tuple[ChatState, StoredMessage]:
        source_chat = self._resolve_chat(bot, p.get("from_chat_id"), write=False)
        message_id = p.int("message_id")
        if not message_id:
            raise bad("message identifier is not specified")
        source = self._message(source_chat, message_id)
        if source is None:
            raise bad(f"message to {what} not found")
        service = ("successful_payment", "refunded_payment", "invoice")
        if any(k in source.data for k in service) or source.data.get("has_protected_content"):
            raise bad(f"message can't be {'copied' if what == 'copy' else 'forwarded'}")
        return source_chat, source

    _CONTENT_KEYS = (
        "text", "entities", "photo", "document", "caption", "caption_entities", "contact", "location", "venue",
        "sticker", "video", "audio", "voice", "animation", "has_media_spoiler", "link_preview_options",
    )  # fmt: skip

    async def m_copyMessage(self, bot: BotState, p: Params) -> Any:
        _, source = self._copyable(bot, p, "copy")
        markup = self._markup(p)
        caption_override: dict[str, Any] = {}
        if "caption" in p:
            self._caption(p, caption_override)
        chat = self._resolve_chat(bot, p.get("chat_id"))
        reply_to = self._reply_to(chat, p)
        content = {k: copy.deepcopy(source.data[k]) for k in self._CONTENT_KEYS if k in source.data}
        if "caption" in p and "text" not in content:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(caption_override)
        stored = self._store(
            bot, chat, content, outgoing=True, reply_markup=markup, protect=p.bool("protect_content"), reply_to=reply_to
        )
        return {"message_id": stored.message_id}

    async def m_forwardMessage(self, bot: BotState, p: Params) -> Any:
        _, source = self._copyable(bot, p, "forward")
        chat = self._resolve_chat(bot, p.get("chat_id"))
        content = {k: copy.deepcopy(source.data[k]) for k in self._CONTENT_KEYS if k in source.data}
        content["forward_origin"] = {
            "type": "user",
            "sender_user": copy.deepcopy(source.data["from"]),
            "date": source.data["date"],
        }
        stored = self._store(bot, chat, content, outgoing=True, protect=p.bool("protect_content"))
        return copy.deepcopy(stored.data)

    # callback queries

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

    async def m_answerCallbackQuery(self, bot: BotState, p: Params) -> Any:
        text = p.str("text")
        if text and len(text) > 200:
            raise bad("MESSAGE_TOO_LONG")
        query = self._take_query(bot, "callback", p.str("callback_query_id"))
        answer = CallbackAnswer(
            query_id=query.id,
            text=text or None,
            show_alert=p.bool("show_alert"),
            url=p.str("url"),
            cache_time=p.int("cache_time", 0) or 0,
        )
        if not query.future.done():
            query.future.set_result(answer)
        return True

    # payments

    async def m_sendInvoice(self, bot: BotState, p: Params) -> Any:
        title = p.required("title")
        description = p.required("description")
        payload = p.required("payload")
        currency = p.required("currency").upper()
        provider_token = p.str("provider_token") or ""
        prices = self._prices(p)
        if len(title) > 32:
            raise bad("INVOICE_TITLE_INVALID")
        if len(description) > 255:
            raise bad("INVOICE_DESCRIPTION_INVALID")
        if len(payload.encode("utf-8")) > 128:
            raise bad("INVOICE_PAYLOAD_INVALID")
        total = sum(price["amount"] for price in prices)
        if currency == "XTR":
            if provider_token or len(prices) != 1 or p.int("max_tip_amount") or p.json("suggested_tip_amounts"):
                raise bad("STARS_INVOICE_INVALID")
        else:
            if not provider_token:
                raise bad("PAYMENT_PROVIDER_INVALID")
            if len(currency) != 3 or not currency.isalpha():
                raise bad("CURRENCY_INVALID")
        low, high = self.currency_limits.get(currency, (1, 10**12))
        if not (low <= total <= high):
            raise bad("CURRENCY_TOTAL_AMOUNT_INVALID")
        markup = self._markup(p)
        if markup is not None:
            if "inline_keyboard" not in markup:
                raise bad("inline keyboard expected")
            first = markup["inline_keyboard"][0][0] if markup["inline_keyboard"][0] else {}
            if not first.get("pay"):
                raise bad("REPLY_MARKUP_BUY_EMPTY")
        chat = self._resolve_chat(bot, p.get("chat_id"))
        reply_to = self._reply_to(chat, p)
        start_parameter = p.str("start_parameter") or ""
        info = InvoiceInfo(
            title=title,
            description=description,
            payload=payload,
            provider_token=provider_token,
            currency=currency,
            prices=prices,
            total_amount=total,
            start_parameter=start_parameter,
            need_name=p.bool("need_name"),
            need_phone_number=p.bool("need_phone_number"),
            need_email=p.bool("need_email"),
            need_shipping_address=p.bool("need_shipping_address"),
            is_flexible=p.bool("is_flexible"),
        )
        content = {
            "invoice": {
                "title": title,
                "description": description,
                "start_parameter": start_parameter,
                "currency": currency,
                "total_amount": total,
            }
        }
        if markup is None:
            label = f"Pay ⭐️{total}" if currency == "XTR" else f"Pay {_money(total, currency)}"
            markup = {"inline_keyboard": [[{"text": label, "pay": True}]]}
        stored = self._store(
            bot,
            chat,
            content,
            outgoing=True,
            reply_markup=markup,
            protect=p.bool("protect_content"),
            reply_to=reply_to,
            invoice=info,
        )
        return copy.deepcopy(stored.data)

    def _prices(self, p: Params) -> list[dict[str, Any]]:
        if p.get("prices") in (None, ""):
            raise bad('parameter "prices" is required')
        prices = p.json("prices", "can't parse prices JSON object")
        if not isinstance(prices, list):
            raise bad("expected an Array of labeled prices")
        clean = []
        for price in prices:
            if not isinstance(price, dict):
                raise bad("can't parse labeled price: LabeledPrice must be an Object")
            label = price.get("label")
            if not isinstance(label, str):
                raise bad('can\'t parse labeled price: Field "label" must be of type String')
            if not label:
                raise bad("can't parse labeled price: LabeledPrice label must be non-empty")
            amount = price.get("amount")
            if isinstance(amount, str) and amount.strip().lstrip("-").isdigit():
                amount = int(amount)
            if isinstance(amount, bool) or not isinstance(amount, int):
                raise bad('can\'t parse labeled price: Field "amount" must be a valid Number')
            clean.append({"label": label, "amount": amount})
        if not clean:
            raise bad("there must be at least one price")
        return clean

    async def m_answerPreCheckoutQuery(self, bot: BotState, p: Params) -> Any:
        ok = p.bool("ok")
        error_message = p.str("error_message") or ""
        if not ok and not error_message:
            raise bad("ERROR_MESSAGE_EMPTY")
        query = self._take_query(bot, "pre_checkout", p.str("pre_checkout_query_id"))
        if not query.future.done():
            query.future.set_result((ok, error_message or None))
        return True

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

    async def m_refundStarPayment(self, bot: BotState, p: Params) -> Any:
        user_id = p.int("user_id")
        charge_id = p.str("telegram_payment_charge_id") or ""
        if not user_id:
            raise bad("invalid user_id specified")
        if not charge_id:
            raise bad('parameter "telegram_payment_charge_id" is required')
        charge = self.charges.get(charge_id)
        if charge is None or charge.bot_id != bot.id or charge.user_id != user_id or charge.currency != "XTR":
            raise bad("CHARGE_NOT_FOUND")
        if charge.refunded:
            raise bad("CHARGE_ALREADY_REFUNDED")
        charge.refunded = True
        charge.refunded_at = int(time.time())
        self.refunds.append(Refund(bot.id, user_id, charge_id, charge.currency, charge.total_amount, time.time()))
        person = self._person(bot, user_id)
        if self.refund_service_messages and person is not None:
            chat = self._chat_for_user(bot, person)
            content = {
                "refunded_payment": {
                    "currency": charge.currency,
                    "total_amount": charge.total_amount,
                    "invoice_payload": charge.payload,
                    "telegram_payment_charge_id": charge.charge_id,
                }
            }
            stored = self._store(bot, chat, content, outgoing=False, sender=person.user_json())
            self._post_update(bot, "message", copy.deepcopy(stored.data))
        return True

    async def m_getStarTransactions(self, bot: BotState, p: Params) -> Any:
        offset = max(p.int("offset", 0) or 0, 0)
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        transactions: list[dict[str, Any]] = []
        for charge in self.charges.values():
            if charge.bot_id != bot.id or charge.currency != "XTR":
                continue
            person = self._person(bot, charge.user_id)
            user = person.user_json() if person else {"id": charge.user_id, "is_bot": False, "first_name": ""}
            partner = {
                "type": "user",
                "transaction_type": "invoice_payment",
                "user": user,
                "invoice_payload": charge.payload,
            }
            transactions.append(
                {"id": charge.charge_id, "amount": charge.total_amount, "date": charge.date, "source": partner}
            )
            if charge.refunded:
                transactions.append(
                    {
                        "id": charge.charge_id,
                        "amount": charge.total_amount,
                        "date": charge.refunded_at,
                        "receiver": partner,
                    }
                )
        transactions.sort(key=lambda t: t["date"], reverse=True)
        return {"transactions": transactions[offset : offset + limit]}

    # files

    async def m_getFile(self, bot: BotState, p: Params) -> Any:
        file_id = (p.str("file_id") or "").strip()
        if not file_id:
            raise bad('parameter "file_id" is required')
        record = self.files.get(file_id)
        if record is None:
            raise bad("invalid file_id")
        if record.bot_id != bot.id:
            raise bad("wrong file_id or the file is temporarily unavailable")
        if record.file_size > MAX_DOWNLOAD_SIZE:
            raise bad("file is too big")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.file_size,
            "file_path": record.file_path,
        }


def _scope_key(scope: dict[str, Any]) -> str:
    return json.dumps(scope, sort_keys=True)


def _money(amount: int, currency: str) -> str:
    whole, cents = divmod(abs(amount), 100)
    sign = "-" if amount < 0 else ""
    return f"{sign}{whole:,}.{cents:02d} {currency}".replace(",", " ")


def _json_response(body: dict[str, Any], status: int) -> web.Response:
    return web.Response(text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
