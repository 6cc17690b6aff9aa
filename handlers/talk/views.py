"""How the chat reads: a relayed message under its header, the prompts, the /chats list, the closing notices."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from bot.i18n import translate
from db.models import ConversationStatus, Ticket
from handlers.shared.cards import ticket_line
from handlers.shared.long_text import fit_blocks
from services.relay import ChatLine, CloseReason, Relayed, Side

CLOSED_BY = {
    CloseReason.BUYER: "talk-closed-by-partner",
    CloseReason.SELLER: "talk-closed-by-partner",
    CloseReason.BLOCKED: "talk-closed-by-partner",
    CloseReason.SOLD: "talk-closed-sold",
    CloseReason.EXPIRED: "talk-closed-expired",
    CloseReason.WITHDRAWN: "talk-closed-withdrawn",
    CloseReason.BLOCKED_TICKET: "talk-closed-ticket-blocked",
}


def event(ticket: Ticket, language: str) -> str:
    return hd.quote(ticket_line(ticket, language))


def relayed_text(relayed: Relayed) -> str:
    """The message as its recipient reads it: who wrote (buyer or seller, never who they are), about which ticket."""
    language = relayed.recipient_language
    key = "talk-from-buyer" if relayed.sender_side == Side.BUYER else "talk-from-seller"
    text = translate(key, language, event=event(relayed.ticket, language), text=hd.quote(relayed.text))
    if relayed.masked:
        text += "\n\n" + translate("talk-masked-note", language)
    return text


def sent_text(relayed: Relayed) -> str:
    text = _("talk-sent")
    return text + "\n" + _("talk-masked-note") if relayed.masked else text


def writing_prompt(ticket: Ticket, side: Side, language: str) -> str:
    key = "talk-write-to-seller" if side == Side.BUYER else "talk-write-to-buyer"
    return _(key).format(event=event(ticket, language))


def chats_text(lines: list[ChatLine], language: str) -> tuple[str, int]:
    """The list, cut to one message; and how many conversations it shows."""
    blocks = [
        _("talk-chats-line").format(
            number=number,
            event=event(line.ticket, language),
            role=_("talk-role-buyer") if line.side == Side.BUYER else _("talk-role-seller"),
            status=_("talk-status-open")
            if line.conversation.status == ConversationStatus.OPEN
            else _("talk-status-closed"),
        )
        for number, line in enumerate(lines, start=1)
    ]
    return fit_blocks(_("talk-chats-title"), blocks)


def closed_text(reason: CloseReason, ticket: Ticket, language: str) -> str:
    return translate(CLOSED_BY[reason], language, event=event(ticket, language))
