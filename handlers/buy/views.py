"""The invoice's texts: its title and description within Telegram's limits, and its price items."""

from __future__ import annotations

from aiogram.types import LabeledPrice
from aiogram.utils.i18n import gettext as _

from bot.settings import Settings
from handlers.shared.cards import CardFacts, seat_line, ticket_line
from handlers.shared.long_text import clip
from services import orders

TITLE_MAX = 32
DESCRIPTION_MAX = 255


def invoice_title(hold: orders.Hold) -> str:
    return clip(hold.ticket.event_name, TITLE_MAX)


def invoice_description(hold: orders.Hold, language: str, settings: Settings) -> str:
    ticket = hold.ticket  # seats sold together: the seats' span, and one amount for all of them
    description = _("buy-invoice-description").format(
        event=ticket_line(ticket, language),
        seat=seat_line(CardFacts.of_ticket(ticket, hold.tickets), language) or _("card-seat-none"),
        minutes=settings.reservation_minutes,
    )
    return clip(description, DESCRIPTION_MAX)


def invoice_prices(charge: orders.Charge, settings: Settings) -> list[LabeledPrice]:
    if settings.uses_stars:  # one price item: the fee folded in, and said in the label
        label = _("buy-price-ticket-fee").format(percent=settings.service_fee_percent) if charge.fee else None
        return [LabeledPrice(label=label or _("buy-price-ticket"), amount=charge.total)]
    prices = [LabeledPrice(label=_("buy-price-ticket"), amount=charge.price)]
    if charge.fee:
        fee_label = _("buy-price-fee").format(percent=settings.service_fee_percent)
        prices.append(LabeledPrice(label=fee_label, amount=charge.fee))
    return prices
