"""The market's rules as frozen values: built once from the settings at start-up (bot/rules.py) and passed to the
services that apply them, so no service reads the settings itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ListingRules:
    """What a listing may be: its price cap, how far ahead its event, how many a new account lists, its photo."""

    currency: str  # every listing's price and face value are in it
    max_markup_percent: int  # the price cap: services/pricing.py
    horizon: timedelta  # how far ahead an event may be
    new_account_days: int  # an account younger than this ...
    new_account_daily_listings: int  # ... lists at most this many tickets in any 24 hours
    max_photo_bytes: int
    phash_max_distance: int  # photos this close to another seller's are near-duplicates

    @property
    def max_photo_mb(self) -> int:
        return self.max_photo_bytes // (1024 * 1024)


@dataclass(frozen=True, slots=True)
class PaymentRules:
    """How a ticket is paid for: the currency charged, the fee, how long a hold lasts, how long escrow keeps it."""

    currency: str  # the listings' currency
    uses_stars: bool  # Telegram Stars (no provider token) rather than a payment provider
    stars_per_unit: Decimal  # Stars for one unit of `currency`
    service_fee_percent: int
    reservation_minutes: int  # how long a hold keeps a ticket for its buyer
    escrow_hours: int  # how long after the event the seller's money is held

    @property
    def hold_time(self) -> timedelta:
        return timedelta(minutes=self.reservation_minutes)

    @property
    def escrow_time(self) -> timedelta:
        return timedelta(hours=self.escrow_hours)


@dataclass(frozen=True, slots=True)
class WaitlistRules:
    """The fair waiting list: how long a waiter holds the exclusive right to buy the ticket offered to them."""

    offer_minutes: int
