"""The ticket card: the one function that draws a ticket, wherever it is shown (the feed, My tickets, the sell summary,
an admin's /ticket, the buyer's ticket), parametrised by who reads it; and the one-line form lists and notices use."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.text_decorations import html_decoration as hd

from db.models import EventType, GroupMode, Ticket
from db.repositories.events import MoreTickets
from db.repositories.trust import SellerRecord
from handlers.shared import formatting
from handlers.shared.display import city_name, event_type_label, local_time, money, stars_price
from services import groups, orders
from services.draft import Draft
from services.rules import PaymentRules
from services.seats import Seat


class Audience(enum.Enum):
    FEED = "feed"  # a buyer browsing: the markup over face value
    OWNER = "owner"  # the seller, their own ticket
    DRAFT = "draft"  # the seller, before publishing
    ADMIN = "admin"  # an admin's file of the ticket
    BUYER = "buyer"  # the buyer, after paying


@dataclass(frozen=True)
class CardFacts:
    """What a card shows of a listing, from a ticket or from the seller's draft."""

    event_name: str
    event_type: EventType
    city_id: int
    city_name: str
    city_tz: str
    venue: str
    event_at: datetime
    seat: Seat | None
    price: int
    face_value: int
    currency: str
    together: groups.SeatSpan | None = None  # adjacent seats sold together: their span (one price, the sum)
    seats: int = 1

    @classmethod
    def of_ticket(cls, ticket: Ticket, unit: Sequence[Ticket] = ()) -> CardFacts:
        """`unit`: with two or more tickets, every ticket of the together-group this one is sold in."""
        parts = (ticket.seat_section, ticket.seat_row, ticket.seat_number)
        seat = Seat(*parts, standing=ticket.standing) if any(parts) or ticket.standing else None
        facts = cls(ticket.event_name, ticket.event_type, ticket.city_id, ticket.city_name, ticket.city_tz,
                    ticket.venue, ticket.event_at, seat, ticket.price, ticket.face_value, ticket.currency)  # fmt: skip
        if len(unit) < 2:
            return facts
        return replace(facts, price=sum(t.price for t in unit), face_value=sum(t.face_value for t in unit),
                       together=groups.seat_span(unit), seats=len(unit))  # fmt: skip

    @classmethod
    def of_draft(cls, draft: Draft, currency: str) -> CardFacts:
        assert draft.event_type and draft.event_at and draft.city_tz and draft.city_id is not None
        facts = cls(draft.name or "", draft.event_type, draft.city_id, draft.city_name or "", draft.city_tz,
                    draft.venue or "", draft.event_at, draft.seat, draft.price or 0, draft.face_value or 0,
                    currency)  # fmt: skip
        if not draft.extra or draft.mode != GroupMode.TOGETHER:
            return facts
        span = groups.span_of_seats([draft.seat, *(seat.seat for seat in draft.extra)])
        return replace(facts, price=draft.total_price or 0, face_value=facts.face_value * draft.seats,
                       together=span, seats=draft.seats)  # fmt: skip


def seat_label(seat: Seat | None, language: str) -> str:
    """ "Section A, row 5, seat 12" in the reader's language; "" for a ticket without a seat."""
    return formatting.seat_label(seat, language) if seat else ""


def together_label(facts: CardFacts, language: str) -> str:
    """ "2 seats together: Row 5, seats 12-13" for adjacent seats sold together; "" otherwise."""
    span = facts.together
    if span is None:
        return ""
    count = ngettext("card-together", "card-together", facts.seats).format(count=facts.seats)
    place = seat_label(Seat(span.section, span.row, None), language) if span.section or span.row else ""
    numbers = ""
    if span.first and span.last and span.first != span.last:
        numbers = _("card-seats-span").format(first=span.first, last=span.last)
    elif span.first:
        numbers = _("card-seats-one").format(seat=span.first)
    details = ", ".join(part for part in (place, numbers) if part)
    return f"{count}: {details}" if details else count


def seat_line(facts: CardFacts, language: str) -> str:
    """The seat, or the seats sold together, as one line; "" for a ticket without a seat."""
    return together_label(facts, language) or seat_label(facts.seat, language)


def when(facts: CardFacts, language: str) -> str:
    return local_time(facts.event_at, facts.city_tz, city_name(facts.city_id, language, facts.city_name), language)


def seller_line(record: SellerRecord, language: str) -> str:
    """ "⭐ 4.8 · 12 sales · 1 dispute lost": what a buyer may trust of the seller."""
    parts = [_("card-rating").format(average=f"{record.average:.1f}") if record.average is not None else _("card-new")]
    parts.append(ngettext("card-sales", "card-sales-plural", record.sales).format(count=record.sales))
    if record.disputes_lost:
        lost = record.disputes_lost
        parts.append(ngettext("card-disputes-lost", "card-disputes-lost-plural", lost).format(count=lost))
    return " · ".join(parts)


def ticket_card(
    facts: CardFacts,
    audience: Audience,
    language: str,
    *,
    number: int | None = None,
    seller: SellerRecord | None = None,
    more: MoreTickets | None = None,
    payment: PaymentRules | None = None,
) -> str:
    """The ticket's card: its title (`card_title`), then city and venue, local time, seat, price (`card_details`)."""
    details = card_details(facts, audience, language, seller=seller, more=more, payment=payment)
    return card_title(facts, number) + "\n" + details


def card_title(facts: CardFacts, number: int | None = None) -> str:
    """ "2. Splean (concert)": the event's name and type, numbered in a list."""
    name, kind = hd.quote(facts.event_name), event_type_label(facts.event_type)
    if number is None:
        return _("card-title").format(name=name, type=kind)
    return _("card-title-numbered").format(number=number, name=name, type=kind)


def card_details(
    facts: CardFacts,
    audience: Audience,
    language: str,
    *,
    seller: SellerRecord | None = None,
    more: MoreTickets | None = None,
    payment: PaymentRules | None = None,
) -> str:
    """The card under its title: city and venue, local time, seat, price. The feed shows the markup over face value,
    and with `payment` in Stars what the ticket costs in Stars; a seat left out reads as such to the seller and the
    buyer, and is not mentioned to browsers; `seller`, what a buyer may trust of them; `more`, the event's other
    tickets on sale."""
    place = city_name(facts.city_id, language, facts.city_name)
    lines = [f"{hd.quote(place)}, {hd.quote(facts.venue)}", hd.quote(when(facts, language))]
    seat = seat_line(facts, language)
    if seat:
        lines.append("📍 " + hd.quote(seat))
    elif audience in (Audience.DRAFT, Audience.BUYER, Audience.ADMIN):
        lines.append("📍 " + _("card-seat-none"))
    price, face = money(facts.price, facts.currency, language), money(facts.face_value, facts.currency, language)
    if audience is Audience.FEED:
        markup = round((facts.price - facts.face_value) * 100 / facts.face_value) if facts.face_value else 0
        lines.append(_("card-price-markup").format(price=price, face=face, markup=f"{markup:+d}"))
        if payment is not None and payment.uses_stars and facts.currency == payment.currency:
            charge = orders.charge_for(facts, payment)
            lines.append(stars_price(facts.price, facts.currency, charge, payment.service_fee_percent, language))
    else:
        lines.append(_("card-price").format(price=price, face=face))
    if seller is not None:
        lines.append(seller_line(seller, language))
    if more is not None:
        lines.append(more_line(more, language))
    return "\n".join(lines)


def more_line(more: MoreTickets, language: str) -> str:
    """ "3 more tickets for this event from 1,800 RUB"."""
    text = _("card-more-tickets", "card-more-tickets-plural", more.count)
    return "🎟 " + text.format(count=more.count, price=money(more.min_price, more.currency, language))


def ticket_line(ticket: Ticket, language: str) -> str:
    """The ticket in one line, for lists and notices: "Splean — Fri 25 Dec 2026, 19:00 Moscow time, Crocus"."""
    facts = CardFacts.of_ticket(ticket)
    return f"{ticket.event_name} — {when(facts, language)}, {ticket.venue}"
