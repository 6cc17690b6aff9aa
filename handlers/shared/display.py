"""How money, dates, cities and event types read to people, in every feature."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from aiogram.utils.i18n import gettext as _
from babel.numbers import format_currency, format_decimal

from db.models import EventType
from handlers.shared.city_picker import picked_city
from handlers.shared.formatting import describe_local
from services import orders

# Literal keys, never built at run time: the i18n test finds each one in the catalogues.
EVENT_TYPE_KEYS = {
    EventType.CONCERT: "feed-type-concert",
    EventType.THEATRE: "feed-type-theatre",
    EventType.STANDUP: "feed-type-standup",
    EventType.SPORT: "feed-type-sport",
    EventType.FESTIVAL: "feed-type-festival",
    EventType.CINEMA: "feed-type-cinema",
    EventType.OTHER: "feed-type-other",
}
REFUND_REASON_KEYS = {
    "ticket-gone": "buy-refunded-ticket-gone",
    "double-payment": "buy-refunded-double-payment",
    "amount-mismatch": "buy-refunded-amount-mismatch",
    "unknown-order": "buy-refunded-unknown-order",
}


def event_type_label(kind: EventType) -> str:
    return _(EVENT_TYPE_KEYS[kind])


@lru_cache(maxsize=4096)  # Babel's formatting is ~0.05 ms a call, a few per card; prices repeat
def money(amount: int, currency: str, language: str) -> str:
    """Whole major units: "2 500 ₽", "RUB 2,500"."""
    return format_currency(amount, currency, format="#,##0\u00a0¤", locale=language, currency_digits=False)


def amount_text(amount: int, currency: str, language: str) -> str:
    """An amount in the payment currency's smallest unit, as people read it: "⭐️ 1 200", "2 100 ₽"."""
    if currency == orders.STARS:
        return f"⭐️ {amount}"
    units = 10 ** orders.minor_units(currency)
    whole, cents = divmod(amount, units)
    return money(whole, currency, language) if not cents else f"{amount / units:.2f} {currency}"


def stars_price(price: int, currency: str, charge: orders.Charge, fee_percent: int, language: str) -> str:
    """Both prices when the bot takes Stars: "3,500 RUB · paid in Telegram Stars: ⭐ 2,100 (incl. 5% fee)"."""
    key = "card-price-stars-fee" if charge.fee else "card-price-stars"
    return _(key).format(
        price=money(price, currency, language), stars=_decimal(charge.total, language), percent=fee_percent
    )


@lru_cache(maxsize=4096)
def _decimal(number: int, language: str) -> str:
    return format_decimal(number, locale=language)


def city_name(city_id: int, language: str, stored: str | None = None) -> str:
    """The city's name in the reader's language; the name stored with a ticket when the directory lacks the id."""
    city = picked_city(city_id)
    return city.display_name(language) if city else stored or str(city_id)


def local_time(moment: datetime, tz: str, city: str, language: str) -> str:
    """A moment in a city's local time: "Fri 25 Dec 2026, 19:00 Moscow time"."""
    return describe_local(moment, tz, language, city_name=city)
