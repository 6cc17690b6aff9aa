"""The invoice's texts: its title and description within Telegram's limits, and its price items."""

from __future__ import annotations

from aiogram.types import LabeledPrice
from aiogram.utils.i18n import gettext as _

from bot.settings import Settings
from handlers.shared.cards import CardFacts, seat_line, ticket_line
from handlers.shared.display import money, stars_price
from handlers.shared.long_text import clip
from services import orders

TITLE_MAX = 32
DESCRIPTION_MAX = 255


def invoice_title(hold: orders.Hold) -> str:
    return clip(hold.ticket.event_name, TITLE_MAX)


def in_stars(hold: orders.Hold, language: str, settings: Settings) -> str | None:
    """Both prices when the invoice asks Stars: the listing's price and what it costs in Stars; None otherwise."""
    if hold.charge.currency != orders.STARS:
        return None
    facts = CardFacts.of_ticket(hold.ticket, hold.tickets)  # a together-group: the sum of its prices
    return stars_price(facts.price, facts.currency, hold.charge, settings.service_fee_percent, language)


def invoice_description(hold: orders.Hold, language: str, settings: Settings) -> str:
    ticket = hold.ticket  # seats sold together: the seats' span, and one amount for all of them
    event = ticket_line(ticket, language)
    seat = seat_line(CardFacts.of_ticket(ticket, hold.tickets), language) or _("card-seat-none")
    stars = in_stars(hold, language, settings)
    if stars is None:
        description = _("buy-invoice-description").format(event=event, seat=seat, minutes=settings.reservation_minutes)
    else:
        description = _("buy-invoice-description-stars").format(
            event=event, seat=seat, price=stars, minutes=settings.reservation_minutes
        )
    return clip(description, DESCRIPTION_MAX)


def invoice_prices(hold: orders.Hold, language: str, settings: Settings) -> list[LabeledPrice]:
    charge = hold.charge
    if settings.uses_stars:  # one price item: the fee folded in, and said in the label with the listing's price
        facts = CardFacts.of_ticket(hold.ticket, hold.tickets)
        price = money(facts.price, facts.currency, language)
        percent = settings.service_fee_percent
        label = (
            _("buy-price-ticket-fee").format(price=price, percent=percent)
            if charge.fee
            else _("buy-price-ticket-stars").format(price=price)
        )
        return [LabeledPrice(label=label, amount=charge.total)]
    prices = [LabeledPrice(label=_("buy-price-ticket"), amount=charge.price)]
    if charge.fee:
        fee_label = _("buy-price-fee").format(percent=settings.service_fee_percent)
        prices.append(LabeledPrice(label=fee_label, amount=charge.fee))
    return prices
