"""The invoice's texts: its title and description within Telegram's limits, its price items, its buttons' labels,
and the Stars line of Buy's answer."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import LabeledPrice
from aiogram.utils.i18n import gettext as _

from handlers.shared.cards import CardFacts, seat_line, ticket_line
from handlers.shared.display import amount_text, money, stars_price
from handlers.shared.long_text import clip
from services import orders
from services.rules import PaymentRules

TITLE_MAX = 32
DESCRIPTION_MAX = 255


@dataclass(frozen=True)
class Invoice:
    """What a hold's invoice says, and the Stars line of Buy's answer (None unless the invoice asks Stars)."""

    title: str
    description: str
    prices: list[LabeledPrice]
    pay: str
    cancel: str
    stars: str | None


def invoice(hold: orders.Hold, language: str, rules: PaymentRules) -> Invoice:
    """The hold's invoice, its facts read once (seats sold together: the seats' span, and one amount for all)."""
    facts, charge = CardFacts.of_ticket(hold.ticket, hold.tickets), hold.charge
    stars = None
    if charge.currency == orders.STARS:  # both prices: the listing's, and what it costs in Stars
        stars = stars_price(facts.price, facts.currency, charge, rules.service_fee_percent, language)
    event = ticket_line(hold.ticket, language)
    seat = seat_line(facts, language) or _("card-seat-none")
    minutes = rules.reservation_minutes
    if stars is None:
        description = _("buy-invoice-description").format(event=event, seat=seat, minutes=minutes)
    else:
        description = _("buy-invoice-description-stars").format(event=event, seat=seat, price=stars, minutes=minutes)
    pay = _("buy-pay").format(amount=amount_text(charge.total, charge.currency, language))
    return Invoice(
        clip(hold.ticket.event_name, TITLE_MAX), clip(description, DESCRIPTION_MAX),
        _prices(facts, charge, language, rules), pay, _("buy-cancel"), stars,
    )  # fmt: skip


def _prices(facts: CardFacts, charge: orders.Charge, language: str, rules: PaymentRules) -> list[LabeledPrice]:
    if rules.uses_stars:  # one price item: the fee folded in, and said in the label with the listing's price
        price = money(facts.price, facts.currency, language)
        percent = rules.service_fee_percent
        label = (
            _("buy-price-ticket-fee").format(price=price, percent=percent)
            if charge.fee
            else _("buy-price-ticket-stars").format(price=price)
        )
        return [LabeledPrice(label=label, amount=charge.total)]
    prices = [LabeledPrice(label=_("buy-price-ticket"), amount=charge.price)]
    if charge.fee:
        fee_label = _("buy-price-fee").format(percent=rules.service_fee_percent)
        prices.append(LabeledPrice(label=fee_label, amount=charge.fee))
    return prices
