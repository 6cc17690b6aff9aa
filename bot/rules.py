"""The frozen rule objects of services/rules.py, built from the settings at start-up and handed to the services
through the Dispatcher (handlers receive them as `listing_rules`, `payment_rules`, `waitlist_rules`, `chat_flood`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from bot.settings import Settings
from services.relay import FloodLimit
from services.rules import ListingRules, PaymentRules, WaitlistRules

HORIZON = timedelta(days=365)  # how far ahead an event may be listed


def listing_rules(settings: Settings) -> ListingRules:
    return ListingRules(
        currency=settings.currency,
        max_markup_percent=settings.max_markup_percent,
        horizon=HORIZON,
        new_account_days=settings.new_account_days,
        new_account_daily_listings=settings.new_account_daily_listings,
        max_photo_bytes=settings.max_photo_bytes,
        phash_max_distance=settings.phash_max_distance,
    )


def payment_rules(settings: Settings) -> PaymentRules:
    return PaymentRules(
        currency=settings.currency,
        uses_stars=settings.uses_stars,
        stars_per_unit=Decimal(str(settings.stars_per_unit)),
        service_fee_percent=settings.service_fee_percent,
        reservation_minutes=settings.reservation_minutes,
        escrow_hours=settings.escrow_hours,
    )


def chat_flood(settings: Settings) -> FloodLimit:
    return FloodLimit(messages=settings.chat_flood_messages, seconds=settings.chat_flood_seconds)


def waitlist_rules(settings: Settings) -> WaitlistRules:
    return WaitlistRules(offer_minutes=settings.offer_minutes)


def rules_of(settings: Settings) -> dict[str, Any]:
    """The Dispatcher's keyword arguments for the rules."""
    return {
        "listing_rules": listing_rules(settings),
        "payment_rules": payment_rules(settings),
        "chat_flood": chat_flood(settings),
        "waitlist_rules": waitlist_rules(settings),
    }
