"""How a feed page reads: the header with the filters, and the cards."""

from __future__ import annotations

from functools import lru_cache

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from db.repositories.events import MoreTickets
from db.repositories.trust import SellerRecord
from handlers.shared.cards import Audience, CardFacts, card_details, card_title
from handlers.shared.display import city_name, event_type_label
from services.feed import FeedCard, FeedPage, Filters
from services.rules import PaymentRules


def header(filters: Filters, page: FeedPage, language: str) -> str:
    parts = []
    if filters.event_type is not None:
        parts.append(event_type_label(filters.event_type))
    if filters.city_id is not None:
        parts.append(city_name(filters.city_id, language))
    if filters.text:
        parts.append(f"“{filters.text}”")
    shown = " · ".join(hd.quote(part) for part in parts)
    text = _("feed-title") + "\n" + (_("feed-filters").format(filters=shown) if parts else _("feed-no-filters"))
    if not page.cards:
        text += "\n\n" + (_("feed-empty-filtered") if parts else _("feed-empty"))
    return text


def card(
    card: FeedCard, number: int, own: bool, language: str, more: MoreTickets | None, payment: PaymentRules | None
) -> str:
    facts = CardFacts.of_ticket(card.ticket, card.unit)
    details = _details(facts, own, language, get_i18n().current_locale, card.seller, more, payment)
    return card_title(facts, number) + "\n" + details


# A card's text under its numbered title is a pure function of what it shows (~50 us of gettext and formatting):
# the same cards fill every viewer's first pages, and move up a place when one above them is sold. Keyed also by
# the update's locale, which gettext reads.
@lru_cache(maxsize=2048)
def _details(
    facts: CardFacts,
    own: bool,
    language: str,
    locale: str,
    seller: SellerRecord,
    more: MoreTickets | None,
    payment: PaymentRules | None,
) -> str:
    lines = [card_details(facts, Audience.FEED, language, seller=seller, more=more, payment=payment)]
    if own:
        lines.append(_("feed-card-yours"))
    else:
        lines.append(_("feed-card-seller").format(name=hd.quote(seller.first_name)))
    return "\n".join(lines)


def page_text(
    page: FeedPage, filters: Filters, own: frozenset[int], language: str, payment: PaymentRules | None
) -> str:
    """`own`: the ids of the page's tickets the viewer sells."""
    blocks = [header(filters, page, language)]
    for number, feed_card in enumerate(page.cards, start=1):
        ticket_id = feed_card.ticket.id
        blocks.append(card(feed_card, number, ticket_id in own, language, page.more.get(ticket_id), payment))
    return "\n\n".join(blocks)
