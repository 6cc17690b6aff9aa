"""Read-only views of messages for tests: what the bot sent, as a person in the chat sees it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BotMessage", "CallbackAnswer", "InboxEvent", "PaymentOutcome", "Refund"]


@dataclass(frozen=True)
class BotMessage:
    """A snapshot of a message in a chat.

    ``data`` is the Message object as the Bot API returns it (only inline keyboards appear in its reply_markup, as
    in Telegram); ``reply_markup`` is the markup exactly as the bot sent it, reply keyboards included.
    """

    data: dict[str, Any]
    reply_markup: dict[str, Any] | None = None
    deleted: bool = False
    outgoing: bool = True

    @property
    def message_id(self) -> int:
        return int(self.data["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.data["chat"]["id"])

    @property
    def date(self) -> int:
        return int(self.data["date"])

    @property
    def edit_date(self) -> int | None:
        return self.data.get("edit_date")

    @property
    def text(self) -> str | None:
        return self.data.get("text")

    @property
    def caption(self) -> str | None:
        return self.data.get("caption")

    @property
    def content(self) -> str:
        """The text or the caption, "" when neither."""
        return self.data.get("text") or self.data.get("caption") or ""

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.data.get("entities") or self.data.get("caption_entities") or [])

    @property
    def photo(self) -> list[dict[str, Any]] | None:
        return self.data.get("photo")

    @property
    def document(self) -> dict[str, Any] | None:
        return self.data.get("document")

    @property
    def invoice(self) -> dict[str, Any] | None:
        return self.data.get("invoice")

    @property
    def protected(self) -> bool:
        return bool(self.data.get("has_protected_content"))

    @property
    def kind(self) -> str:
        for key in (
            "text", "photo", "document", "invoice", "contact", "successful_payment", "refunded_payment", "location",
            "sticker", "video", "audio", "voice", "animation",
        ):  # fmt: skip
            if key in self.data:
                return key
        return "other"

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.reply_markup or {}
        return [list(row) for row in markup.get("inline_keyboard") or []]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons, row by row."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def button_texts(self) -> list[str]:
        return [button.get("text", "") for button in self.buttons]

    @property
    def keyboard(self) -> list[list[str]]:
        """Reply keyboard button texts, if this message carries a reply keyboard."""
        markup = self.reply_markup or {}
        return [[_button_text(b) for b in row] for row in markup.get("keyboard") or []]

    @property
    def removes_keyboard(self) -> bool:
        return bool((self.reply_markup or {}).get("remove_keyboard"))

    def button(self, text: str | None = None, data: str | None = None) -> dict[str, Any]:
        """The inline button with this text (exact, else a unique case-insensitive substring) or callback data."""
        buttons = self.buttons
        if data is not None:
            found = [b for b in buttons if b.get("callback_data") == data]
        elif text is not None:
            found = [b for b in buttons if b.get("text") == text]
            if not found:
                found = [b for b in buttons if text.casefold() in str(b.get("text", "")).casefold()]
        else:
            found = [b for b in buttons if "callback_data" in b]
        if len(found) != 1:
            what = f"data={data!r}" if data is not None else f"text={text!r}" if text is not None else "a callback"
            raise LookupError(
                f"{len(found)} inline buttons match {what} in message {self.message_id}; buttons: {self.button_texts}"
            )
        return found[0]

    def raw(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)

    def __repr__(self) -> str:
        body = self.content
        if len(body) > 60:
            body = body[:57] + "..."
        extra = f" buttons={self.button_texts}" if self.buttons else ""
        if self.keyboard:
            extra += f" keyboard={self.keyboard}"
        flag = " deleted" if self.deleted else ""
        return f"<BotMessage #{self.message_id} {self.kind} {body!r}{extra}{flag}>"


def _button_text(button: Any) -> str:
    return button if isinstance(button, str) else str(button.get("text", ""))


@dataclass(frozen=True)
class InboxEvent:
    kind: str  # new | edit | delete
    message: BotMessage


@dataclass(frozen=True)
class CallbackAnswer:
    query_id: str
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int = 0


@dataclass
class PaymentOutcome:
    """What the paying person saw."""

    status: str  # paid | declined | timeout
    error_message: str | None = None
    telegram_payment_charge_id: str | None = None
    provider_payment_charge_id: str | None = None
    pre_checkout_query_id: str | None = None
    update: dict[str, Any] | None = None  # the successful_payment update, for emu.redeliver()
    message: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def paid(self) -> bool:
        return self.status == "paid"

    @property
    def charge_id(self) -> str | None:
        return self.telegram_payment_charge_id


@dataclass(frozen=True)
class Refund:
    bot_id: int
    user_id: int
    telegram_payment_charge_id: str
    currency: str
    amount: int
    at: float
