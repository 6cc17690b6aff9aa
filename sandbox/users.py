"""Simulated people: they write to the bot, press buttons, share contacts, send photos and pay invoices."""

from __future__ import annotations

import asyncio
import copy
import mimetypes
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .formatting import utf16_len
from .media import MediaError
from .messages import BotMessage, CallbackAnswer, InboxEvent, PaymentOutcome

if TYPE_CHECKING:
    from .inspection import Inspection
    from .state import BotState, ChatState, StoredMessage

__all__ = ["SandboxError", "SimulatedUser"]

_COMMAND = re.compile(r"/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z][a-zA-Z0-9_]{3,31})?")


class SandboxError(AssertionError):
    """A person can't do that (no such button, no keyboard, nothing arrived in time...)."""


class SimulatedUser:
    """One person in a private chat with one bot. Create with ``emu.user(...)``."""

    def __init__(
        self,
        emu: Inspection,
        bot: BotState,
        *,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        phone: str | None,
        is_premium: bool = False,
    ) -> None:
        self.emu = emu
        self.bot = bot
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone = phone
        self.is_premium = is_premium
        self.blocked = False
        self.deactivated = False
        self.started = False  # becomes True once the person writes to the bot
        self.events: list[InboxEvent] = []  # everything the bot did in this chat, in order
        self.callback_answers: list[CallbackAnswer] = []
        self.payments: list[PaymentOutcome] = []
        self._cursor = 0
        self._changed = asyncio.Event()
        self._keyboard: dict[str, Any] | None = None  # the reply keyboard currently shown

    # -------------------------------------------------------------------------------------------- identity

    def user_json(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        if self.is_premium:
            user["is_premium"] = True
        return user

    def chat_json(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        chat["type"] = "private"
        return chat

    def __repr__(self) -> str:
        return f"<SimulatedUser {self.id} {self.first_name!r}>"

    # -------------------------------------------------------------------------------------------- state

    def block_bot(self) -> None:
        self.blocked = True

    def unblock_bot(self) -> None:
        self.blocked = False

    def deactivate(self) -> None:
        """The account is deleted: the bot gets 403 "user is deactivated"."""
        self.deactivated = True

    @property
    def chat(self) -> ChatState:
        return self.emu._chat_for_user(self.bot, self)

    @property
    def messages(self) -> list[BotMessage]:
        """The bot's messages in this chat as they are now (deleted ones left out)."""
        return self.emu.messages_in(self.id, self.bot.id)

    @property
    def last_message(self) -> BotMessage | None:
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Texts of the reply keyboard buttons shown now ([] when none)."""
        if not self._keyboard:
            return []
        return [[_text(b) for b in row] for row in self._keyboard.get("keyboard", [])]

    def unread(self) -> list[InboxEvent]:
        return self.events[self._cursor :]

    def mark_read(self) -> None:
        self._cursor = len(self.events)

    def _receive(self, event: InboxEvent) -> None:
        self.events.append(event)
        markup = event.message.reply_markup
        if event.kind == "new" and markup:
            if markup.get("keyboard"):
                self._keyboard = copy.deepcopy(markup)
            elif markup.get("remove_keyboard"):
                self._keyboard = None
        self._changed.set()
        self._changed = asyncio.Event()

    # -------------------------------------------------------------------------------------------- waiting

    async def wait_message(
        self,
        predicate: Callable[[BotMessage], bool] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        *,
        edits: bool = True,
    ) -> BotMessage:
        """The next message the bot sent here, or the next edit (with ``edits``), matching ``predicate``.

        Events are read in order: those before the match are marked read. The message is the snapshot at the time
        of the event. Raises SandboxError after ``timeout`` seconds (``emu.reply_timeout`` by default).
        """
        timeout = self.emu.reply_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            while self._cursor < len(self.events):
                event = self.events[self._cursor]
                self._cursor += 1
                if event.kind == "delete" or (event.kind == "edit" and not edits):
                    continue
                if predicate is None or predicate(event.message):
                    return event.message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = [e.message for e in self.events[-5:]]
                raise SandboxError(f"{self}: no matching message from the bot in {timeout}s; recent: {recent}")
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_text(self, contains: str, timeout: float | None = None) -> BotMessage:  # noqa: ASYNC109
        """The next message (or edit) whose text or caption contains ``contains``."""
        return await self.wait_message(lambda m: contains in m.content, timeout)

    async def wait_new(self, timeout: float | None = None) -> BotMessage:  # noqa: ASYNC109
        """The next new message (edits skipped)."""
        return await self.wait_message(None, timeout, edits=False)

    async def expect_nothing(self, quiet: float = 0.3, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Assert the bot sends or edits nothing more here once everything settles."""
        await self.emu.wait_idle(quiet=quiet, timeout=timeout)
        unread = [e for e in self.unread() if e.kind != "delete"]
        if unread:
            raise SandboxError(f"{self}: unexpected messages from the bot: {[e.message for e in unread]}")

    # -------------------------------------------------------------------------------------------- acting

    def _sent(self, content: dict[str, Any], reply_to: BotMessage | None = None) -> dict[str, Any]:
        """Store a message from this person and post it to the bot as an update; returns the Message."""
        if self.blocked:
            # Writing to a blocked bot unblocks it in real clients (the person pressed "Restart").
            self.blocked = False
        self.started = True
        chat = self.chat
        reply = chat.messages.get(reply_to.message_id) if reply_to else None
        stored: StoredMessage = self.emu._store(
            self.bot, chat, content, outgoing=False, sender=self.user_json(), reply_to=reply
        )
        self.emu._post_update(self.bot, "message", copy.deepcopy(stored.data))
        return copy.deepcopy(stored.data)

    async def send(self, text: str, *, reply_to: BotMessage | None = None) -> dict[str, Any]:
        """Send a text message; a leading /command gets a bot_command entity, like Telegram clients do."""
        if not text.strip():
            raise SandboxError("Telegram clients don't send empty messages")
        content: dict[str, Any] = {"text": text}
        entities = []
        for m in _COMMAND.finditer(text):
            if m.start() == 0 or text[m.start() - 1].isspace():
                entities.append(
                    {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
                )
        if entities:
            content["entities"] = entities
        return self._sent(content, reply_to)

    async def start(self, payload: str | None = None) -> dict[str, Any]:
        """Press START (optionally through a deep link t.me/bot?start=payload)."""
        return await self.send(f"/start {payload}" if payload else "/start")

    async def share_contact(
        self,
        phone: str | None = None,
        user_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        *,
        plus: bool = False,
    ) -> dict[str, Any]:
        """Share a contact. Without arguments: one's own (contact.user_id = own id, own phone).

        With ``phone``: someone else's contact (``user_id`` None for a person not on Telegram, or another id).
        Telegram clients send one's own number without the leading "+" (e.g. "79161234567"); ``plus=True``
        keeps it.
        """
        own = phone is None
        if own:
            if not self.phone:
                raise SandboxError(f"{self} has no phone: emu.user(..., phone='+7...')")
            number = self.phone
            contact_user_id: int | None = self.id
            first = first_name or self.first_name
            last = last_name if last_name is not None else self.last_name
        else:
            number = phone or ""
            contact_user_id = user_id
            first = first_name or "Contact"
            last = last_name
        digits = number.strip()
        if own and not plus:
            digits = digits.lstrip("+")
        contact: dict[str, Any] = {"phone_number": digits, "first_name": first}
        if last:
            contact["last_name"] = last
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._sent({"contact": contact})

    async def send_photo(
        self, photo: bytes | str | Path, caption: str | None = None, *, reply_to: BotMessage | None = None
    ) -> dict[str, Any]:
        """Send a photo (bytes or a path); Telegram re-encodes it to JPEG in several sizes."""
        data = await _read(photo)
        try:
            records = await asyncio.to_thread(self.emu.files.add_photo, self.bot.id, data)
        except MediaError as e:
            raise SandboxError(f"the client could not send this photo: {e}") from None
        self.emu.files.link_group(records)
        content: dict[str, Any] = {"photo": [r.photo_size() for r in records]}
        if caption:
            content["caption"] = caption
        return self._sent(content, reply_to)

    async def send_document(
        self,
        data: bytes | str | Path,
        file_name: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Send a file as a document: bytes kept as is, with the declared name and MIME type."""
        if isinstance(data, (str, Path)) and file_name is None:
            file_name = Path(data).name
        raw = await _read(data)
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        try:
            record = self.emu.files.add_document(self.bot.id, raw, file_name, mime_type)
        except MediaError as e:
            raise SandboxError(f"the client could not send this file: {e}") from None
        content: dict[str, Any] = {"document": record.document()}
        if caption:
            content["caption"] = caption
        return self._sent(content)

    async def press(self, text: str) -> dict[str, Any]:
        """Press a reply-keyboard button. A request_contact button shares one's own contact."""
        if not self._keyboard:
            raise SandboxError(f"{self}: no reply keyboard is shown (wanted {text!r})")
        for row in self._keyboard.get("keyboard", []):
            for button in row:
                if _text(button) != text:
                    continue
                if isinstance(button, dict):
                    if button.get("request_contact"):
                        sent = await self.share_contact()
                    elif button.get("request_location"):
                        raise SandboxError("request_location buttons are not simulated")
                    else:
                        sent = await self.send(text)
                else:
                    sent = await self.send(text)
                if self._keyboard and self._keyboard.get("one_time_keyboard"):
                    self._keyboard = None
                return sent
        raise SandboxError(f"{self}: no button {text!r} on the reply keyboard {self.reply_keyboard}")

    def _live(self, message: BotMessage | int) -> StoredMessage:
        message_id = message if isinstance(message, int) else message.message_id
        stored = self.chat.messages.get(message_id)
        if stored is None or not stored.outgoing:
            raise SandboxError(f"{self}: no bot message #{message_id} in this chat")
        if stored.deleted:
            raise SandboxError(f"{self}: message #{message_id} was deleted")
        return stored

    async def click(
        self,
        message: BotMessage | int,
        text: str | None = None,
        data: str | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> CallbackAnswer | None:
        """Press an inline callback button on the message as it is now; returns the bot's answer.

        The button is found by exact text (else a unique substring) or by callback data. Returns None when the bot
        did not call answerCallbackQuery within ``timeout``.
        """
        stored = self._live(message)
        view = stored.view()
        try:
            button = view.button(text=text, data=data)
        except LookupError as e:
            raise SandboxError(str(e)) from None
        if "callback_data" not in button:
            kind = next((k for k in button if k != "text"), "text")
            raise SandboxError(f"button {button.get('text')!r} is a {kind} button, not a callback button")
        return await self._callback(stored, button["callback_data"], timeout)

    async def click_raw(
        self,
        data: str,
        message: BotMessage | int | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> CallbackAnswer | None:
        """Send a callback query with arbitrary (forged) data, as a tampered client could."""
        if message is None:
            last = self.last_message
            if last is None:
                raise SandboxError("no bot message to attach the callback query to")
            message = last
        return await self._callback(self._live(message), data, timeout)

    async def _callback(self, stored: StoredMessage, data: str, timeout: float | None) -> CallbackAnswer | None:  # noqa: ASYNC109
        self.started = True
        self.blocked = False
        query = self.emu._open_query(self.bot, "callback", self.id, self.emu.callback_query_timeout)
        payload = {
            "id": query.id,
            "from": self.user_json(),
            "message": copy.deepcopy(stored.data),
            "chat_instance": str(abs(hash((self.bot.id, self.id))) % 10**19),
            "data": data,
        }
        self.emu._post_update(self.bot, "callback_query", payload)
        wait = self.emu.reply_timeout if timeout is None else timeout
        try:
            answer: CallbackAnswer = await asyncio.wait_for(asyncio.shield(query.future), wait)
        except TimeoutError:
            return None
        self.callback_answers.append(answer)
        return answer

    async def pay(self, invoice_message: BotMessage | int, *, email: str | None = None) -> PaymentOutcome:
        """Pay an invoice the bot sent here, the way Telegram runs it.

        Telegram sends a pre_checkout_query and waits (``emu.pre_checkout_timeout``, 10 s) for
        answerPreCheckoutQuery; only on ok=True the payment happens and the bot gets a message with
        successful_payment. Returns what the person saw: paid (with the charge ids), declined (with the bot's
        error_message) or timeout.
        """
        stored = self._live(invoice_message)
        info = stored.invoice
        if info is None:
            raise SandboxError(f"message #{stored.message_id} is not an invoice")
        if info.paid_charge_id:
            raise SandboxError("this invoice is already paid (Telegram shows a Receipt button); use emu.redeliver()")
        self.started = True
        self.blocked = False
        emu = self.emu
        query = emu._open_query(self.bot, "pre_checkout", self.id, emu.pre_checkout_timeout)
        payload: dict[str, Any] = {
            "id": query.id,
            "from": self.user_json(),
            "currency": info.currency,
            "total_amount": info.total_amount,
            "invoice_payload": info.payload,
        }
        order_info: dict[str, Any] = {}
        if info.need_name:
            order_info["name"] = " ".join(x for x in (self.first_name, self.last_name) if x)
        if info.need_phone_number and self.phone:
            order_info["phone_number"] = self.phone.lstrip("+")
        if info.need_email:
            order_info["email"] = email or f"user{self.id}@example.com"
        if order_info:
            payload["order_info"] = order_info
        emu._post_update(self.bot, "pre_checkout_query", payload)
        try:
            ok, error_message = await asyncio.wait_for(asyncio.shield(query.future), emu.pre_checkout_timeout)
        except TimeoutError:
            query.answered = True  # too late now: a later answer gets "query is too old"
            outcome = PaymentOutcome("timeout", error_message=None, pre_checkout_query_id=query.id)
            self.payments.append(outcome)
            return outcome
        if not ok:
            emu.pre_checkout_errors.append((self.id, error_message or ""))
            outcome = PaymentOutcome("declined", error_message=error_message, pre_checkout_query_id=query.id)
            self.payments.append(outcome)
            return outcome
        charge = emu._create_charge(self.bot, self.id, info)
        info.paid_charge_id = charge.charge_id
        successful: dict[str, Any] = {
            "currency": info.currency,
            "total_amount": info.total_amount,
            "invoice_payload": info.payload,
            "telegram_payment_charge_id": charge.charge_id,
            "provider_payment_charge_id": charge.provider_charge_id,
        }
        if order_info:
            successful["order_info"] = order_info
        message = self._sent({"successful_payment": successful})
        update = next(u for bot_id, u in reversed(emu.updates) if bot_id == self.bot.id and "message" in u)
        outcome = PaymentOutcome(
            "paid",
            telegram_payment_charge_id=charge.charge_id,
            provider_payment_charge_id=charge.provider_charge_id,
            pre_checkout_query_id=query.id,
            update=copy.deepcopy(update),
            message=message,
        )
        self.payments.append(outcome)
        return outcome


def _text(button: Any) -> str:
    return button if isinstance(button, str) else str(button.get("text", ""))


async def _read(source: bytes | str | Path) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    return await asyncio.to_thread(Path(source).read_bytes)
